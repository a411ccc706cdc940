/**
 * Parking a thread on a word of a {@link Block}: the one place where the algorithms of
 * `internal/shm` sleep and wake (through the block's own `waitSync`/`waitAsync`/`wake`, see block.ts).
 *
 * Spin, then sleep. A sleep and its wake-up cost a kernel round trip: ≈ 27 µs between two threads
 * here, 11–19 µs between two processes (the sleeper must be woken, then scheduled), while a hand-off
 * between two running threads that poll the word costs about 1 µs. So a park first polls the word a
 * bounded number of times, and sleeps only when that did not pay. The spin must never make a wait
 * slower than sleeping at once, and it can, in two ways: a spin that gives up just before the
 * wake-up pays the spin *and* the round trip; and a spin that cannot win — the waker is not running,
 * because the cores are busy — steals the very CPU time the waker needs (measured: an Event
 * ping-pong on a loaded host took 120–240 µs with a spin that grew on "near misses", 35–65 µs
 * sleeping at once). So the spin is bounded by what it wins, per thread (one budget per thread keeps
 * the hot path free of any lookup), as glibc's adaptive mutex bounds it:
 *
 * - a spin that sees the word change at poll `k` raises the estimate `won` to `k` when `k` is
 *   larger, else moves it an eighth of the way down towards `k`: `won` follows the longest recent
 *   successful spins, not their mean, because hand-off times have a long tail and a spin that gives
 *   up a few polls too early pays the whole sleep (measured: a Pipe round trip between processes
 *   took 12–17 µs with a mean, 8–13 µs with this); a spin polls at most `2·won + MIN_SPIN` times
 *   (glibc: `max_cnt = spins·2 + 10`);
 * - a spin that gives up is a loss; after MAX_LOSSES losses in a row the thread sleeps at once for
 *   its next SKIP_PARKS parks, then probes with one spin of up to MAX_SPIN polls: if it wins, `won`
 *   becomes at least what it took (as any win that took longer) and spinning resumes; if not,
 *   another pause. Under a CPU hog that costs one bounded spin per
 *   SKIP_PARKS parks; between two running threads, spins win and the hand-off stays near 1 µs.
 *
 * How long a sleep lasted is not a signal: on busy cores a spin delays the waker, whose answer then
 * comes right after the spinner goes to sleep — which looks like "a longer spin would have won"
 * and is the opposite.
 *
 * Async parks use the same policy (a spin blocks the event loop for a few µs at most).
 *
 * Every park may return early (a wake meant for another waiter, a spurious wake-up): callers always
 * re-check their condition in a loop and re-park with the time that is left.
 */
import { remaining } from './deadline';
import type { Block, ParkResult } from './block';

export type { ParkResult };

const MIN_SPIN = 32;
const MAX_SPIN = 8192;
/** Failed spins in a row after which this thread stops spinning for a while. */
const MAX_LOSSES = 4;
/** Parks that sleep at once before the next probing spin. */
const SKIP_PARKS = 16;

/** Polls at which recent spins saw the word change (an estimate; this thread only). */
let won = 256;
let losses = 0;
/** Parks left that sleep at once without spinning. */
let skip = 0;
/** The next spin is a probe after a pause: it may poll up to MAX_SPIN. */
let probe = false;

/** Polls `i32[index]` while it holds `expected`; how many polls it took, or -1 when it gave up (or did not spin). */
function spin(i32: Int32Array, index: number, expected: number): number {
  if (skip > 0) {
    if (--skip === 0) probe = true;
    return -1;
  }
  const limit = probe ? MAX_SPIN : Math.min(MAX_SPIN, 2 * won + MIN_SPIN);
  for (let i = 0; i < limit; i++) {
    if (Atomics.load(i32, index) !== expected) {
      won = i > won ? i : won - ((won - i) >> 3);
      probe = false;
      losses = 0;
      return i;
    }
  }
  probe = false;
  if (++losses >= MAX_LOSSES) {
    losses = 0;
    skip = SKIP_PARKS;
  }
  return -1;
}

/**
 * Polls `i32[index]` while it holds `expected`, within this thread's spin budget; true when it
 * changed (for algorithms that spin before they announce a sleeper, as the mutex does).
 */
export function spinWhile(i32: Int32Array, index: number, expected: number): boolean {
  return spin(i32, index, expected) >= 0;
}

/**
 * Blocks the calling thread while `i32[index] === expected`, until woken or `deadline`
 * (`performance.now()` time, or FOREVER) passes.
 */
export function parkSync(block: Block, index: number, expected: number, deadline: number): ParkResult {
  if (spin(block.i32, index, expected) >= 0) return 'not-equal';
  const left = remaining(deadline);
  if (left === 0) return Atomics.load(block.i32, index) === expected ? 'timed-out' : 'not-equal';
  return block.waitSync(index, expected, left);
}

/**
 * Waits without blocking the event loop while `i32[index] === expected`, until woken or
 * `deadline` passes. Keeps the process alive while pending.
 */
export async function parkAsync(block: Block, index: number, expected: number, deadline: number): Promise<ParkResult> {
  if (spin(block.i32, index, expected) >= 0) return 'not-equal';
  const left = remaining(deadline);
  if (left === 0) return Atomics.load(block.i32, index) === expected ? 'timed-out' : 'not-equal';
  return block.waitAsync(index, expected, left);
}

/** Wakes up to `count` threads parked on `i32[index]` of `block`; returns how many were woken. */
export function unpark(block: Block, index: number, count = 1): number {
  return block.wake(index, count);
}
