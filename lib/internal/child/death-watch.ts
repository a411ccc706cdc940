// Runs inside child processes that threadkit forked; imports only internal/child (and, lazily, the addon's loader).
/**
 * The death watch: how a child ends when its parent ends, however the parent ends — also by
 * SIGKILL, which runs no code in the parent at all.
 *
 * Two watchers:
 *
 * 1. The event loop, on the IPC channel (fd {@link IPC_FD}, a Unix stream socket): the kernel closes
 *    the parent's end when the parent process ends, Node reads the hangup and emits `'disconnect'` on
 *    `process`, and `onGone` ends the child. That works while the child's event loop turns — an
 *    idle worker, a target awaiting I/O or a timer — and not while it runs a long synchronous
 *    stretch (a CPU-bound task, `sleepSync`, `Atomics.wait`). If the parent died before this
 *    process armed the watch, the first read of the channel finds it closed: no race.
 * 2. The native addon, when it provides `watchParent` (contract below): a small thread of its own
 *    that sleeps in poll() on a pidfd of the parent, so the parent's end is seen at once whatever
 *    the JavaScript thread is doing; after a short grace (for the event loop to end the child
 *    gracefully when it can: a SIGTERM handler, the 'disconnect' path) it kills the process.
 *
 * Why not `prctl(PR_SET_PDEATHSIG)`: the kernel sends that signal when the *thread* that forked the
 * child ends, not the process. A Process started from a worker thread would be killed as soon as
 * that worker ended (a finished Thread's warm worker expiring) while its parent process lives on.
 * It also needs a getppid() check right after prctl (a parent that died before prctl ran never
 * sends it). A pidfd names the parent *process*, whichever of its threads forked us, and is never
 * confused by the parent closing the channel on purpose (a pool retiring its worker).
 *
 * Every child of a process that has a lifeline gets one too (spawn config, `lifeline`), so when a
 * watched child dies its own children's watchers fire in turn: a whole subtree ends, one grace
 * period per level.
 */
import { IPC_FD } from './config';

/** How long the native watcher lets the event loop end the child gracefully before it kills it. */
const GRACE_MS = 200;

/**
 * The native hook (native/threadkit_shm.cc):
 *
 * `watchParent(fd: number, parentPid: number, graceMs: number, via?: 'pidfd' | 'socket'): boolean`
 * - Throws TypeError unless `fd` is an integer ≥ 0, `parentPid` an integer > 0, `graceMs` an
 *   integer ≥ 0 and `via` absent, 'pidfd' or 'socket'.
 * - At most once per process: a later call returns false and does nothing; the first returns true.
 * - `pidfd = syscall(SYS_pidfd_open, parentPid, 0)` (Linux ≥ 5.3). Then, synchronously:
 *   `if (getppid() != parentPid) kill(getpid(), SIGKILL)` — the parent died before the watch was
 *   armed; while getppid() still names it, it is alive and is our parent, so the pidfd refers to it
 *   (not to a process that reused its pid). ESRCH from pidfd_open: the same check.
 * - Where pidfd_open fails with ENOSYS (older kernels) or EPERM (a seccomp profile older than the
 *   call), or `via` is 'socket' (tests of that path): `dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)` (the
 *   IPC socket, an own reference so that Node closing fd 3 or reusing its number never changes
 *   what is watched), and the same getppid() check. Other errors → an Error naming the call and
 *   errno (`code`, `syscall`).
 * - Starts one detached pthread (64 KiB stack; every signal blocked in it with pthread_sigmask
 *   around pthread_create, so signals keep going to Node's threads; nobody joins it: it ends with
 *   the process). It waits in poll(), retrying on EINTR:
 *   - pidfd: `poll({pidfd, POLLIN}, 1, -1)`; readable means the parent process has ended.
 *   - socket fallback: `poll({dup, POLLRDHUP}, 1, -1)` (POLLRDHUP only, so IPC messages never wake
 *     it; POLLHUP/POLLERR/POLLNVAL always do).
 *   - Then for up to 1000 rounds, `if (getppid() != parentPid)` the parent is gone, else sleep 1 ms:
 *     a hangup alone may be the parent closing the channel on purpose, and the kernel releases a
 *     dying parent's files just before it re-parents its children (a pidfd is notified after, so
 *     its wake is confirmed at once). Still the same parent after that: it closed the channel on
 *     purpose — close(dup) (not after POLLNVAL: the fd is no longer ours), the thread returns (the
 *     event loop ends the child).
 *   - Parent gone: nanosleep(graceMs) (restarted on EINTR with the time left), then
 *     `kill(getpid(), SIGKILL)`. If the event loop ended the process meanwhile, this never runs.
 * - SIGKILL, not exit(): exit() from a second thread would run atexit handlers and static
 *   destructors while V8 runs on the main thread; SIGKILL ends the process at once, and its own
 *   children's watchers see it end next.
 */
export type NativeWatchParent = (fd: number, parentPid: number, graceMs: number, via?: 'pidfd' | 'socket') => boolean;

/**
 * Environment variable that makes the native watch use its socket fallback (`socket`), the path of
 * kernels without pidfd_open, so that the tests can check it here too.
 */
export const DEATH_WATCH_ENV = 'THREADKIT_DEATH_WATCH';

let native: NativeWatchParent | null | undefined;

/** The addon's `watchParent`, when the addon loads (it is loaded lazily, once). */
function nativeWatchParent(): NativeWatchParent | null {
  if (native === undefined) {
    native = null;
    try {
      // Required here, not imported: a child without a lifeline never loads the addon for this.
      const { loadNative } = require('../arena/native') as typeof import('../arena/native');
      native = loadNative().watchParent;
    } catch {
      // no addon (not built, not Linux, THREADKIT_NO_NATIVE=1): the event-loop watcher alone
    }
  }
  return native;
}

/** Whether the native watcher is there, which ends a child mid-task when its parent dies. */
export function nativeDeathWatchAvailable(): boolean {
  return nativeWatchParent() !== null;
}

/** How {@link watchParent} watches: both watchers, or the event loop's alone. */
export type DeathWatch = 'native' | 'event-loop';

/**
 * Arms the death watch of this child: `onGone` runs (on the event loop) when the parent's end of the
 * channel closes, and, where the addon provides it, the process is killed {@link GRACE_MS} after the
 * parent process ended if it is still there (its event loop was busy). A native watch that cannot
 * be armed (a failing system call) leaves the event loop's, with a warning that says why.
 */
export function watchParent(parentPid: number, onGone: () => void): DeathWatch {
  // onGone runs after one more poll of the event loop. A parent that exits normally sends its
  // daemon children SIGTERM, then its end of the channel closes; the signal is pending on this
  // (main) thread before the hangup happens, but the epoll_wait it wakes may return the hangup
  // alone: libuv's signal handler then runs on the way back to user space and writes to the loop's
  // signal pipe, which only the next poll reads. The first setImmediate runs before that poll, the
  // second after it — so the child's own SIGTERM handler runs first, as Python's child runs it.
  process.once('disconnect', () => setImmediate(() => setImmediate(onGone)));
  const watch = nativeWatchParent();
  if (watch === null) return 'event-loop';
  try {
    watch(IPC_FD, parentPid, GRACE_MS, process.env[DEATH_WATCH_ENV] === 'socket' ? 'socket' : 'pidfd');
    return 'native';
  } catch (error) {
    process.emitWarning(`the native death watch could not be armed (${(error as Error).message}): this process ends with its parent only while its event loop is free`, { code: 'THREADKIT_DEATH_WATCH' });
    return 'event-loop';
  }
}
