/**
 * The mutex word: a lock in one 32-bit word, after Ulrich Drepper, "Futexes Are Tricky" (2011),
 * mutex #2, the one glibc and Go's `sync.Mutex` fast path descend from.
 *
 * States of the word:
 *
 *     UNLOCKED (0) ──CAS 0→1──▶ LOCKED (1) ──a waiter swaps in 2──▶ CONTENDED (2)
 *          ▲                        │                                    │
 *          └──── unlock: swap 0 ────┴──────── unlock: swap 0, wake 1 ────┘
 *
 * - lock: one CAS UNLOCKED→LOCKED; that is the whole uncontended path. Otherwise the waiter first
 *   spins (park.ts's bounded budget) while the word is LOCKED and retries the CAS when it frees; then
 *   it *exchanges* CONTENDED into the word: if the old value was UNLOCKED it now owns the lock (in
 *   the CONTENDED state, which merely costs its own unlock one needless wake); if not, it sleeps
 *   while the word is CONTENDED and, when woken, exchanges again.
 * - unlock: exchange UNLOCKED in. Only when the old value was CONTENDED is anyone asleep, and only
 *   then is the wake called (≈ 60–80 ns saved per uncontended unlock on Node 20).
 *
 * The race this prevents (the lost wake-up): a waiter must never sleep on the value LOCKED. If it
 * did, an unlock that saw LOCKED would skip the notify and the sleeper would never wake. So a waiter
 * first makes the word say CONTENDED, and the wait (a futex) re-checks that value atomically with going
 * to sleep: an unlock in between changes the word and the wait returns at once.
 *
 * A waiter that gives up (timeout) leaves the word CONTENDED; the next unlock then wakes one
 * sleeper needlessly, who finds the lock free or sleeps again. That costs a wake, never a waiter.
 *
 * Memory ordering: every access is an `Atomics` operation (sequentially consistent), so what the
 * owner wrote before unlocking is visible to the next owner after its CAS or exchange succeeds.
 */
import { park, runSync, type Steps } from './steps';
import type { Block } from './block';
import { remaining, FOREVER } from './deadline';
import { spinWhile, unpark } from './park';

/** The mutex is free. */
export const UNLOCKED = 0;
/** Held, and nobody sleeps on it. */
export const LOCKED = 1;
/** Held, and someone may sleep on it: the unlock must wake one. */
export const CONTENDED = 2;

/** Words a mutex needs. */
export const MUTEX_WORDS = 1;

/** Takes the mutex at `i32[at]` if it is free, without waiting. */
export function mutexTryLock(block: Block, at: number): boolean {
  return Atomics.compareExchange(block.i32, at, UNLOCKED, LOCKED) === UNLOCKED;
}

/** Takes the mutex at `i32[at]`, waiting until `deadline`; returns false when it timed out. */
export function* mutexLock(block: Block, at: number, deadline: number): Steps<boolean> {
  if (Atomics.compareExchange(block.i32, at, UNLOCKED, LOCKED) === UNLOCKED) return true;
  // A try-once (timeout 0) must not mark the word CONTENDED: it will not sleep, so the owner's
  // unlock has nobody to wake.
  if (remaining(deadline) === 0) return false;
  // Spin first while the word says LOCKED (nobody asleep), trying to take it as LOCKED: a waiter
  // that marked it CONTENDED would make the owner's unlock pay a wake (a syscall across processes)
  // even when this waiter never slept.
  if (spinWhile(block.i32, at, LOCKED) && Atomics.compareExchange(block.i32, at, UNLOCKED, LOCKED) === UNLOCKED) return true;
  while (Atomics.exchange(block.i32, at, CONTENDED) !== UNLOCKED) {
    if (remaining(deadline) === 0) return false;
    yield park(block, at, CONTENDED, deadline);
  }
  return true;
}

/** Takes the mutex, blocking this thread; for the short internal critical sections of other algorithms. */
export function mutexLockSync(block: Block, at: number): void {
  if (Atomics.compareExchange(block.i32, at, UNLOCKED, LOCKED) !== UNLOCKED) runSync(mutexLock(block, at, FOREVER));
}

/** Releases the mutex; returns false (and changes nothing) when it was not locked. */
export function mutexUnlock(block: Block, at: number): boolean {
  const old = Atomics.exchange(block.i32, at, UNLOCKED);
  if (old === CONTENDED) unpark(block, at, 1);
  return old !== UNLOCKED;
}

/** True while someone holds the mutex. */
export function mutexLocked(block: Block, at: number): boolean {
  return Atomics.load(block.i32, at) !== UNLOCKED;
}
