/**
 * The counting semaphore: a value word and a waiter count.
 *
 *     VALUE   — permits left (≥ 0). Acquire: CAS v → v-1 while v > 0. Release(n): CAS v → v+n.
 *     WAITERS — how many threads are (about to be) asleep on VALUE.
 *
 * A waiter that finds VALUE at 0 first increments WAITERS, then sleeps while VALUE is 0, then
 * decrements WAITERS and retries. A release adds its permits, and only if WAITERS > 0 wakes exactly
 * as many sleepers as it released permits (a wake of n on VALUE): no wake is wasted on a free
 * semaphore, and no more threads are woken than can get a permit.
 *
 * The race this prevents (the lost wake-up): the releaser writes VALUE, then reads WAITERS; the
 * waiter writes WAITERS, then (inside the futex wait, atomically with falling asleep) reads VALUE.
 * All four are sequentially consistent `Atomics` operations, so at least one side sees the other's
 * write: either the releaser sees the waiter and wakes it, or the waiter sees the new permits and
 * does not sleep.
 *
 * Woken waiters compete with threads that arrive meanwhile (no hand-off, as in CPython): a woken
 * waiter that loses the race sleeps again, with the time it has left.
 *
 * The value-plus-waiter-count layout is glibc's futex semaphore (`new_sem`: value and `nwaiters`,
 * wake only when nwaiters > 0).
 */
import { park, type Steps } from './steps';
import type { Block } from './block';
import { remaining } from './deadline';
import { unpark } from './park';

/** Slot: permits left. */
export const VALUE = 0;
/** Slot: threads asleep (or about to be) on VALUE. */
export const WAITERS = 1;
/** Words a counting semaphore needs. */
export const SEMAPHORE_WORDS = 2;

/** The largest value a semaphore can hold. */
export const MAX_VALUE = 0x7fffffff;

/** Takes a permit if one is free, without waiting. */
export function semTryAcquire(block: Block, at: number): boolean {
  let v = Atomics.load(block.i32, at + VALUE);
  while (v > 0) {
    const seen = Atomics.compareExchange(block.i32, at + VALUE, v, v - 1);
    if (seen === v) return true;
    v = seen;
  }
  return false;
}

/** Takes a permit, waiting until `deadline`; returns false when it timed out. */
export function* semAcquire(block: Block, at: number, deadline: number): Steps<boolean> {
  for (;;) {
    if (semTryAcquire(block, at)) return true;
    if (remaining(deadline) === 0) return false;
    Atomics.add(block.i32, at + WAITERS, 1);
    try {
      yield park(block, at + VALUE, 0, deadline);
    } finally {
      Atomics.sub(block.i32, at + WAITERS, 1);
    }
  }
}

/**
 * Adds `n` permits unless that would take the value above `max`; wakes up to `n` sleepers.
 * Returns false (and changes nothing) when the value would exceed `max`.
 */
export function semRelease(block: Block, at: number, n: number, max: number): boolean {
  let v = Atomics.load(block.i32, at + VALUE);
  for (;;) {
    if (v > max - n) return false;
    const seen = Atomics.compareExchange(block.i32, at + VALUE, v, v + n);
    if (seen === v) break;
    v = seen;
  }
  if (Atomics.load(block.i32, at + WAITERS) > 0) unpark(block, at + VALUE, n);
  return true;
}

/** Permits left now. */
export function semValue(block: Block, at: number): number {
  return Atomics.load(block.i32, at + VALUE);
}
