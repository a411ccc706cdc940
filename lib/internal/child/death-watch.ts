// Runs inside child processes that threadkit forked; imports only internal/child.
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
 * The native hook, as the addon must provide it:
 *
 * `watchParent(fd: number, parentPid: number, graceMs: number): boolean`
 * - Throws TypeError unless `fd` is an integer ≥ 0, `parentPid` an integer > 0 and `graceMs` an
 *   integer ≥ 0.
 * - At most once per process: a later call returns false and does nothing; the first returns true.
 * - `pidfd = syscall(SYS_pidfd_open, parentPid, 0)` (Linux ≥ 5.3). Then, synchronously:
 *   `if (getppid() != parentPid) kill(getpid(), SIGKILL)` — the parent died before the watch was
 *   armed; while getppid() still names it, it is alive and is our parent, so the pidfd refers to it
 *   (not to a process that reused its pid).
 * - Where pidfd_open fails with ENOSYS (older kernels): `dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)` (the
 *   IPC socket, an own reference so that Node closing fd 3 or reusing its number never changes what
 *   is watched), and the same getppid() check. Other errors → an Error naming the call and errno.
 * - Starts one detached pthread (64 KiB stack; every signal blocked in it with pthread_sigmask
 *   around pthread_create, so signals keep going to Node's threads; nobody joins it: it ends with
 *   the process). It loops on poll(), retrying on EINTR:
 *   - pidfd: `poll({pidfd, POLLIN}, 1, -1)`; readable means the parent process has ended.
 *   - socket fallback: `poll({dup, POLLRDHUP}, 1, -1)` (POLLRDHUP only, so IPC messages never wake
 *     it; POLLHUP/POLLERR/POLLNVAL always do). A hangup alone may be the parent closing the channel
 *     on purpose, and the kernel releases a dying parent's files just before it re-parents its
 *     children: so for up to 1000 rounds, `if (getppid() != parentPid)` the parent is gone, else
 *     sleep 1 ms; still the same parent after that: it closed the channel on purpose — close(dup),
 *     the thread returns (the event loop ends the child).
 *   - Parent gone: nanosleep(graceMs) (restarted on EINTR with the time left), then
 *     `kill(getpid(), SIGKILL)`. If the event loop ended the process meanwhile, this never runs.
 * - SIGKILL, not exit(): exit() from a second thread would run atexit handlers and static
 *   destructors while V8 runs on the main thread; SIGKILL ends the process at once, and its own
 *   children's watchers see it end next.
 */
export type NativeWatchParent = (fd: number, parentPid: number, graceMs: number) => boolean;

/** Where the native addon's loader is; its exports are read lazily, once. */
const ADDON_LOADER = '../arena/native';

let native: NativeWatchParent | null | undefined;

/** The addon's `watchParent`, when the addon is built and provides it. */
function nativeWatchParent(): NativeWatchParent | null {
  if (native === undefined) {
    native = null;
    try {
      const addon = require(ADDON_LOADER) as { watchParent?: unknown };
      if (typeof addon.watchParent === 'function') native = addon.watchParent as NativeWatchParent;
    } catch {
      // no addon (not built, not Linux): the event-loop watcher alone
    }
  }
  return native;
}

/** Which watchers end a child mid-task when its parent dies (tests guard the mid-task cases on it). */
export function nativeDeathWatchAvailable(): boolean {
  return nativeWatchParent() !== null;
}

/** How {@link watchParent} watches: both watchers, or the event loop's alone. */
export type DeathWatch = 'native' | 'event-loop';

/**
 * Arms the death watch of this child: `onGone` runs (on the event loop) when the parent's end of the
 * channel closes, and, where the addon provides it, the process is killed {@link GRACE_MS} after the
 * parent process ended if it is still there (its event loop was busy).
 */
export function watchParent(parentPid: number, onGone: () => void): DeathWatch {
  process.once('disconnect', onGone);
  const watch = nativeWatchParent();
  if (watch === null) return 'event-loop';
  watch(IPC_FD, parentPid, GRACE_MS);
  return 'native';
}
