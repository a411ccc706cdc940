/**
 * Parking a thread on a word of a {@link Block}: the one place where the algorithms of
 * `internal/shm` sleep and wake (through the block's own `waitSync`/`waitAsync`/`wake`, see block.ts).
 *
 * Spin, then sleep. A sleep and its wake-up cost a kernel round trip: ≈ 27 µs between two threads
 * here, 11–19 µs between two processes (the sleeper must be woken, then scheduled), while a hand-off
 * between two running threads that poll the word costs about 1 µs. So a park first polls the word a
 * bounded number of times, and sleeps only when that did not pay. The spin must never make a wait
 * slower than sleeping at once. It can, in two ways: a spin that is too short gives up just before
 * the wake-up comes (it paid the spin *and* the round trip), and a spin that cannot win — the waker
 * is not running, because the cores are busy with other work — steals the very CPU time the waker
 * needs. The budget is bounded by what spinning wins, per thread (one budget per thread keeps the
 * hot path free of any lookup), in the spirit of glibc's adaptive mutex:
 *
 * - a spin that sees the word change at poll `k` moves the estimate `won` an eighth of the way
 *   towards `k`; the next spin polls at most `2·won + MIN_SPIN` times (about twice what recently
 *   won, as glibc's `max_cnt = spins·2 + 10`), never more than MAX_SPIN;
 * - a spin that gave up, followed by a sleep that ended within SHORT_SLEEP_MS, was a near miss: a
 *   longer spin would have won, so `won` doubles (without this, a budget that once shrank could
 *   never learn that a longer spin pays: an Event ping-pong measured 25–40 µs that way instead of 2);
 * - a spin that gave up, followed by a long sleep, was a loss; after MAX_LOSSES losses in a row the
 *   thread sleeps at once for its next SKIP_PARKS parks, then probes with one spin again: while a
 *   CPU hog keeps the waker off the cores, it pays one bounded spin per SKIP_PARKS parks.
 *
 * Async parks use the same policy (a spin blocks the event loop for a few µs at most).
 *
 * Every park may return early (a wake meant for another waiter, a spurious wake-up): callers always
 * re-check their condition in a loop and re-park with the time that is left.
 */
import { performance } from 'node:perf_hooks';
import { remaining } from './deadline';
import { LocalBlock, type Block, type ParkResult } from './block';

export type { ParkResult };

const MIN_SPIN = 32;
const MAX_SPIN = 8192;
/** A sleep that ended sooner than this (ms) after the spin gave up: a longer spin would have won. */
const SHORT_SLEEP_MS = 0.1;
/** Losses in a row after which this thread stops spinning for a while. */
const MAX_LOSSES = 4;
/** Parks that sleep at once before the next probing spin. */
const SKIP_PARKS = 16;

/** Polls at which recent spins saw the word change (an estimate; this thread only). */
let won = 256;
let losses = 0;
/** Parks left that sleep at once without spinning. */
let skip = 0;

/** Polls `i32[index]` while it holds `expected`; how many polls it took, or -1 when the budget ran out. */
function spin(i32: Int32Array, index: number, expected: number): number {
  if (skip > 0) {
    skip--;
    return -1;
  }
  const limit = Math.min(MAX_SPIN, 2 * won + MIN_SPIN);
  for (let i = 0; i < limit; i++) {
    if (Atomics.load(i32, index) !== expected) {
      won += (i - won) >> 3;
      losses = 0;
      return i;
    }
  }
  return -1;
}

/** Learns from a sleep that followed a spin that gave up. */
function judgeSleep(slept: number): void {
  if (slept < SHORT_SLEEP_MS) {
    won = Math.min(MAX_SPIN, won * 2 + MIN_SPIN);
    losses = 0;
  } else if (++losses >= MAX_LOSSES) {
    losses = 0;
    skip = SKIP_PARKS;
  }
}

/** A Block for an Int32Array of this process (callers that still pass bare words). */
function asBlock(memory: Block | Int32Array): Block {
  return ArrayBuffer.isView(memory) ? new LocalBlock(memory as Int32Array) : memory;
}

/**
 * Blocks the calling thread while `i32[index] === expected`, until woken or `deadline`
 * (`performance.now()` time, or FOREVER) passes. An Int32Array is memory of this process.
 */
export function parkSync(memory: Block | Int32Array, index: number, expected: number, deadline: number): ParkResult {
  const block = asBlock(memory);
  const spun = skip === 0;
  if (spin(block.i32, index, expected) >= 0) return 'not-equal';
  const left = remaining(deadline);
  if (left === 0) return Atomics.load(block.i32, index) === expected ? 'timed-out' : 'not-equal';
  const asleep = performance.now();
  const result = block.waitSync(index, expected, left);
  if (spun && result === 'ok') judgeSleep(performance.now() - asleep);
  return result;
}

/**
 * Waits without blocking the event loop while `i32[index] === expected`, until woken or
 * `deadline` passes. Keeps the process alive while pending.
 */
export async function parkAsync(memory: Block | Int32Array, index: number, expected: number, deadline: number): Promise<ParkResult> {
  const block = asBlock(memory);
  const spun = skip === 0;
  if (spin(block.i32, index, expected) >= 0) return 'not-equal';
  const left = remaining(deadline);
  if (left === 0) return Atomics.load(block.i32, index) === expected ? 'timed-out' : 'not-equal';
  const asleep = performance.now();
  const result = await block.waitAsync(index, expected, left);
  if (spun && result === 'ok') judgeSleep(performance.now() - asleep);
  return result;
}

/** Wakes up to `count` threads parked on `i32[index]` of `block`; returns how many were woken. */
export function unpark(block: Block, index: number, count = 1): number {
  return block.wake(index, count);
}
