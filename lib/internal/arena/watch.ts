/**
 * Dead holders of cross-process locks. A process can die at any moment (SIGKILL, a crash, out of
 * memory) while it holds a lock word in the arena; nothing then ever unlocks it, and CPython's
 * multiprocessing locks deadlock for ever there. Here a waiter sleeps in slices of WATCH_MS, and
 * after each slice that did not get the lock it looks at who holds it (the lock records a pid):
 *
 * - an RLock has an owner (as pthread's robust mutexes): if the owner's process is gone, the
 *   waiter takes the lock over, with an AbandonedLockWarning naming the dead pid;
 * - a Lock or Semaphore has no owner in Python (any process may release it), so it is never taken
 *   over; a waiter whose last acquirer is gone warns once and keeps waiting (its timeout applies);
 * - the arena's own allocator lock is taken over silently (it is held for a few µs).
 */
import { performance } from 'node:perf_hooks';
import { mutexLock } from '../shm/mutex';
import { remaining } from '../shm/deadline';
import type { Block } from '../shm/block';
import type { Steps } from '../shm/steps';

/** How long a waiter sleeps before it checks the holder. */
export const WATCH_MS = 1000;

/** True while process `pid` exists (ours or, EPERM, another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs a waiting algorithm (`steps(deadline)`, true when it got what it waits for) until `deadline`,
 * in slices of WATCH_MS; after every slice that did not succeed it calls `watch()`, which returns
 * true when it took the lock over (then this returns true as well).
 */
export function* watched(steps: (deadline: number) => Steps<boolean>, deadline: number, watch: () => boolean): Steps<boolean> {
  for (;;) {
    const slice = Math.min(deadline, performance.now() + WATCH_MS);
    if (yield* steps(slice)) return true;
    if (remaining(deadline) === 0) return false;
    if (watch()) return true;
  }
}

/** {@link watched} for the mutex word at `at` of `block`. */
export function mutexLockWatched(block: Block, at: number, deadline: number, watch: () => boolean): Steps<boolean> {
  return watched((slice) => mutexLock(block, at, slice), deadline, watch);
}

/** Emits the AbandonedLockWarning for `what` held by dead process `pid`. */
export function warnAbandoned(what: string, pid: number, action: string): void {
  process.emitWarning(`${what} was held by process ${pid}, which has ended without releasing it; ${action}`, { type: 'AbandonedLockWarning', code: 'THREADKIT_ABANDONED_LOCK' });
}
