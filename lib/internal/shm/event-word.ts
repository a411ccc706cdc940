/**
 * The event word: a flag and a generation counter in one 32-bit word, plus a waiter count.
 *
 *     WORD    — bit 0: the flag (SET_BIT); bits 1–31: generation, +1 on every set() that finds the
 *               flag clear. clear() only drops bit 0.
 *     WAITERS — threads asleep (or about to be) on WORD, so set() skips the notify when nobody waits.
 *
 * A waiter reads WORD once. If the flag is set it returns true at once; otherwise it sleeps while
 * WORD still holds *exactly the value it read*. Since the flag was clear in that value, the only way
 * WORD can change is a set() (a clear() of a clear flag writes the same value), so "WORD differs from
 * what I read" means "a set() happened during my wait" — even when a clear() followed at once.
 *
 * The race this prevents: with a bare flag word, `set(); clear()` in quick succession writes 1 then
 * 0, and a waiter that the kernel had not yet scheduled wakes to find 0 and sleeps again, missing
 * the set (Python's Event guarantees it returns true). The generation makes the two states
 * "clear before the set" and "clear after the set" different words.
 *
 * The wake-up itself is the semaphore's pattern: the waiter increments WAITERS before sleeping and
 * the wait re-reads WORD atomically; set() writes WORD before reading WAITERS. The generation
 * wraps after 2³⁰ sets, far beyond any single wait.
 *
 * A waiter spins first without being counted in WAITERS (as the queues' waits and the mutex do), so
 * that a set() that comes during the spin wakes nobody: between processes a wake is a futex
 * syscall, which two processes handing an event back and forth would otherwise pay on every set().
 */
import { park, type Steps } from './steps';
import type { Block } from './block';
import { remaining } from './deadline';
import { spinWhile, unpark } from './park';

/** Slot: flag bit and generation. */
export const WORD = 0;
/** Slot: threads asleep (or about to be) on WORD. */
export const WAITERS = 1;
/** Words an event needs. */
export const EVENT_WORDS = 2;

/** The flag bit of WORD. */
export const SET_BIT = 1;
/** One step of the generation in WORD. */
const GENERATION_STEP = 2;

/** True while the flag is set. */
export function eventIsSet(block: Block, at: number): boolean {
  return (Atomics.load(block.i32, at + WORD) & SET_BIT) !== 0;
}

/** Sets the flag (a new generation) and wakes every waiter; no effect when already set. */
export function eventSet(block: Block, at: number): void {
  let w = Atomics.load(block.i32, at + WORD);
  for (;;) {
    if ((w & SET_BIT) !== 0) return;
    const seen = Atomics.compareExchange(block.i32, at + WORD, w, ((w + GENERATION_STEP) | SET_BIT) | 0);
    if (seen === w) break;
    w = seen;
  }
  if (Atomics.load(block.i32, at + WAITERS) > 0) unpark(block, at + WORD, Infinity);
}

/** Clears the flag; the generation stays, so a waiter that saw the set still sees a change. */
export function eventClear(block: Block, at: number): void {
  Atomics.and(block.i32, at + WORD, ~SET_BIT);
}

/** Waits until the flag is set or was set during the wait; false when `deadline` passed first. */
export function* eventWait(block: Block, at: number, deadline: number): Steps<boolean> {
  const seen = Atomics.load(block.i32, at + WORD);
  if ((seen & SET_BIT) !== 0) return true;
  if (remaining(deadline) > 0 && spinWhile(block.i32, at + WORD, seen)) return true;
  for (;;) {
    if (remaining(deadline) === 0) return false;
    Atomics.add(block.i32, at + WAITERS, 1);
    try {
      // Counted now: a set() from here on wakes us; one during the spin changed WORD already.
      if (Atomics.load(block.i32, at + WORD) !== seen) return true;
      yield park(block, at + WORD, seen, deadline);
    } finally {
      Atomics.sub(block.i32, at + WAITERS, 1);
    }
    if (Atomics.load(block.i32, at + WORD) !== seen) return true;
  }
}
