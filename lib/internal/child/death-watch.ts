// Runs inside child processes that threadkit forked; imports only internal/child.
/**
 * The death watch: how a child ends when its parent ends, however the parent ends — also by
 * SIGKILL, which runs no code in the parent at all.
 *
 * The lifeline is the IPC channel (fd {@link IPC_FD}, a Unix stream socket): the kernel closes the
 * parent's end when the parent process ends, and the child's end then reports a hangup. Two
 * watchers listen for it:
 *
 * 1. The event loop: Node reads the hangup and emits `'disconnect'` on `process`. That works while
 *    the child's event loop turns — an idle worker, a target awaiting I/O or a timer — and not
 *    while it runs a long synchronous stretch (a CPU-bound task, `sleepSync`, `Atomics.wait`).
 * 2. The native addon, when it provides `watchParent(fd, parentPid)`: a small thread of its own that
 *    blocks in poll() on a duplicate of the channel's fd, so the hangup is seen at once whatever
 *    the JavaScript thread is doing, and kills the process (SIGKILL) when the parent is really
 *    gone. The exact contract is written out above {@link NativeWatchParent}.
 *
 * Why not `prctl(PR_SET_PDEATHSIG)`: the kernel sends that signal when the *thread* that forked the
 * child ends, not the process. A Process started from a worker thread would be killed as soon as
 * that worker ended (a finished Thread's warm worker expiring) while its parent process lives on.
 * It also needs the same getppid() check after arming (a parent that died before prctl ran never
 * sends it), and it cannot be shared with the channel's hangup, which the event-loop watcher needs
 * anyway. The socket watch has none of these problems and costs one sleeping thread.
 *
 * Every child of a process that has a lifeline gets one too (spawn options, `lifeline`), so when a
 * watched child dies its own children see their channels hang up in turn: a whole subtree ends.
 */
import { IPC_FD } from './config';

/**
 * The native hook, as the addon must provide it:
 *
 * `watchParent(fd: number, parentPid: number): boolean`
 * - Throws TypeError unless `fd` is an integer ≥ 0 and `parentPid` an integer > 0.
 * - At most once per process: a later call returns false and does nothing; the first returns true.
 * - `dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)`: the watcher's own reference to the socket, so that Node
 *   closing fd 3 (or reusing its number) never changes what is watched; errno → Error naming fcntl.
 * - Then, synchronously: `if (getppid() != parentPid) kill(getpid(), SIGKILL)` — the parent died
 *   before the watch was armed (its hangup may already have been consumed by nobody).
 * - Starts one detached pthread (64 KiB stack; every signal blocked in it with pthread_sigmask
 *   around pthread_create, so signals keep going to Node's threads; nobody joins it: it ends with
 *   the process, or as below). The thread loops on `poll({dup, POLLRDHUP}, 1, -1)`, retrying on
 *   EINTR; it asks for POLLRDHUP only, so the IPC messages that keep arriving never wake it (POLLHUP,
 *   POLLERR and POLLNVAL are always reported). On any of them:
 *   - for up to 1000 rounds: `if (getppid() != parentPid) kill(getpid(), SIGKILL);` then sleep 1 ms
 *     (nanosleep, restarted on EINTR). The kernel releases a dying process's files (the socket's
 *     last fput runs as task work) just before it re-parents its children, so the hangup can be
 *     seen while getppid() still names the dead parent; the window is microseconds, 1 s is a
 *     generous bound. A subreaper or init adopting the child makes getppid() differ either way.
 *   - if the parent is still the same after that, it closed the channel on purpose (a process pool
 *     retiring its worker): `close(dup)` and the thread returns; the event-loop watcher ends the
 *     child gracefully.
 * - SIGKILL, not exit(): exit() from a second thread would run atexit handlers and static
 *   destructors while V8 runs on the main thread; SIGKILL ends the process at once, and its own
 *   children's watchers see their channels hang up next.
 */
export type NativeWatchParent = (fd: number, parentPid: number) => boolean;

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
 * channel closes, and, where the addon provides it, the process is killed at once when the parent
 * process is gone even if the event loop is busy.
 */
export function watchParent(parentPid: number, onGone: () => void): DeathWatch {
  process.once('disconnect', onGone);
  const watch = nativeWatchParent();
  if (watch === null) return 'event-loop';
  watch(IPC_FD, parentPid);
  return 'native';
}
