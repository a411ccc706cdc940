/**
 * The owned mutex: a lock in one 32-bit word that names the process holding it, so that a waiter
 * can take it over when that process died inside its critical section. It guards the internal
 * state of the item ring (item-ring.ts), which processes share and any of which may be killed at
 * any moment, between any two instructions.
 *
 * States of the word:
 *
 *     FREE (0) ──CAS 0→pid·2──▶ HELD (pid·2) ──a waiter sets bit 0──▶ HELD+WAITERS (pid·2 | 1)
 *        ▲                          │                                        │
 *        └───── unlock: swap 0 ─────┴────────── unlock: swap 0, wake 1 ──────┘
 *
 * It is Drepper's mutex #2 ("Futexes Are Tricky", 2011; mutex.ts) with the holder's pid where that
 * one stores a bare 1, the way Linux's robust futexes keep the owner's TID in the futex word:
 *
 * - lock: one CAS FREE→pid·2 on the fast path. Otherwise the waiter spins (a fixed few µs) while
 *   the word keeps the value it saw, then marks the word (CAS v → v|1) and sleeps while it holds
 *   v|1; when the word was FREE it takes it with the waiters bit already set (it cannot know that
 *   nobody else sleeps), which costs its own unlock one needless wake at most.
 * - unlock: swap FREE in; wake one sleeper only when bit 0 was set.
 * - takeover: a waiter sleeps in slices of WATCH_MS (a second, as every dead-holder check of the
 *   arena, arena/watch.ts); after each slice, if the word still names a
 *   process other than its own and that process no longer exists, it CASes the word from that value
 *   to its own pid (with the waiters bit): it now holds the lock, and the caller learns it took the
 *   lock over, so that it can put right what the dead holder left half done.
 *
 * The races this settles. (1) The lost wake-up, as in mutex.ts: a waiter only sleeps on a value with
 *   bit 0 set, and the futex re-checks that value as it goes to sleep, so an unlock in between
 *   (which writes FREE) makes the sleep return at once. (2) The holder that dies between taking the
 *   lock and saying who it is: there is no such moment, the CAS that takes the lock is the write that
 *   names the holder — a separate "owner" word written after the CAS (what the arena's allocator
 *   lock does) leaves a window in which a killed holder is anonymous, and the lock is lost for ever.
 *   (3) Two waiters that both see the dead holder: their CASes race on the same expected value, one
 *   wins, the other sees a live holder and waits on. (4) A holder of this process (another thread,
 *   or the same thread's async task): never taken over, since this process is alive.
 *
 * What is not settled: a pid reused by a new process before anyone looked (then the lock waits for
 * that process to end). Threads of one process share a pid, so a worker thread terminated while it
 * holds the lock is not detected (as for every Lock: see condition-queue.ts on dying waiters); only
 * internal teardown can terminate a worker, never a holder of this word in the middle of its few µs.
 *
 * Memory ordering: every access is an `Atomics` operation (sequentially consistent), so what the
 * holder wrote before unlocking is visible to the next holder once its CAS succeeds.
 */
import { performance } from 'node:perf_hooks';
import { park, runSync, type Steps } from './steps';
import type { Block } from './block';
import { remaining, FOREVER } from './deadline';
import * as park_ from './park';
import { isAlive, WATCH_MS } from '../arena/watch';

/** The word when nobody holds the lock. */
export const FREE = 0;
/** Bit 0: someone may sleep on the word; the unlock must wake one. */
const WAITERS_BIT = 1;
/** Words an owned mutex needs. */
export const OWNED_MUTEX_WORDS = 1;

const SELF = process.pid * 2;
/** Polls of the word before a waiter marks it (a few µs: the holders' sections are short). */
const HOLD_SPIN = 1000;
// Module-local copies: some loaders (esbuild/tsx) turn imported bindings into getters.
const { unpark } = park_;

/** How a lock was taken: normally, or from a holder whose process had died (its work is half done). */
export type Taken = 'locked' | 'taken-over';

/** Takes the lock at `i32[at]` if it is free, without waiting. */
export function ownedTryLock(block: Block, at: number): boolean {
  return Atomics.compareExchange(block.i32, at, FREE, SELF) === FREE;
}

/**
 * Takes the lock at `i32[at]`, waiting until `deadline`; returns how it was taken, or undefined when
 * the deadline passed first.
 */
export function* ownedLock(block: Block, at: number, deadline: number): Steps<Taken | undefined> {
  const i32 = block.i32;
  let seen = Atomics.compareExchange(i32, at, FREE, SELF);
  if (seen === FREE) return 'locked';
  if (remaining(deadline) === 0) return undefined;
  // Spin first while the holder works (nobody marked asleep): its unlock then costs no wake. A
  // fixed spin, not park.ts's adaptive one: this lock guards sections of a few hundred ns, and its
  // quick wins must not teach the thread's estimate that every wait ends that fast (the item waits
  // of item-ring.ts, which last as long as another thread's put, use that estimate).
  if ((seen & WAITERS_BIT) === 0) {
    for (let i = 0; i < HOLD_SPIN && Atomics.load(i32, at) === seen; i++);
    seen = Atomics.compareExchange(i32, at, FREE, SELF);
    if (seen === FREE) return 'locked';
  }
  let sliceEnd = performance.now() + WATCH_MS;
  for (;;) {
    if (seen === FREE) {
      seen = Atomics.compareExchange(i32, at, FREE, SELF | WAITERS_BIT);
      if (seen === FREE) return 'locked';
      continue;
    }
    if ((seen & WAITERS_BIT) === 0) {
      const was = Atomics.compareExchange(i32, at, seen, seen | WAITERS_BIT);
      if (was !== seen) {
        seen = was;
        continue;
      }
      seen |= WAITERS_BIT;
    }
    if (remaining(deadline) === 0) return undefined;
    if (performance.now() >= sliceEnd) {
      sliceEnd = performance.now() + WATCH_MS;
      const holder = seen >>> 1;
      if (holder !== process.pid && !isAlive(holder)) {
        const was = Atomics.compareExchange(i32, at, seen, SELF | WAITERS_BIT);
        if (was === seen) return 'taken-over';
        seen = was;
        continue;
      }
    }
    yield park(block, at, seen, Math.min(deadline, sliceEnd));
    seen = Atomics.load(i32, at);
  }
}

/** Takes the lock, blocking this thread (for short internal critical sections). */
export function ownedLockSync(block: Block, at: number): Taken {
  if (Atomics.compareExchange(block.i32, at, FREE, SELF) === FREE) return 'locked';
  return runSync(ownedLock(block, at, FOREVER)) as Taken;
}

/** Releases the lock; wakes one sleeper when the word says someone sleeps. */
export function ownedUnlock(block: Block, at: number): void {
  if ((Atomics.exchange(block.i32, at, FREE) & WAITERS_BIT) !== 0) unpark(block, at, 1);
}

/** The pid of the process holding the lock, or 0. */
export function ownedHolder(block: Block, at: number): number {
  return Atomics.load(block.i32, at) >>> 1;
}
