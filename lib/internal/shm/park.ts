/**
 * Parking a thread on a 32-bit word of shared memory: the one place that calls `Atomics.wait` and
 * `Atomics.waitAsync`. Every algorithm of `internal/shm` blocks through these two functions.
 *
 * Spin, then sleep. A futex round trip between two threads costs ≈ 27 µs on Node 20 (the kernel
 * wakes the sleeper, which must then be scheduled), while a hand-off between two running threads
 * that poll the word costs under 1 µs. So `parkSync` first polls the word a bounded number of times
 * and only then sleeps in `Atomics.wait`. The spin is bounded so that a long wait costs almost no
 * CPU, and it adapts per thread (one budget per thread keeps the hot path free of any lookup), in the
 * spirit of glibc's adaptive mutexes. The budget is judged by what happens after the spin gave up:
 * when the sleep in `Atomics.wait` ended soon (the wake-up came within SHORT_SLEEP_MS, so a longer
 * spin would have caught it without the kernel round trip) the budget doubles; when it lasted long
 * (LONG_SLEEP_MS or more: spinning could never have helped) it halves. Judging by the sleep and not
 * by the spin alone matters: shrinking whenever a spin fails collapses the budget after a few
 * unlucky waits (a GC pause, a descheduled peer), and then every wait pays the ≈ 27 µs futex round
 * trip and never gets the chance to grow back — an Event ping-pong measured 25–40 µs that way
 * instead of ≈ 2 µs.
 *
 * Keeping the process alive. A pending `Atomics.waitAsync` does not keep Node's event loop alive: a
 * program whose only pending work is `await lock.acquire()` would simply exit. Python's semantics
 * (and the API contract) are that a pending wait keeps the program running like a pending timer, so
 * `parkAsync` holds one ref'd interval handle for as long as any async park of this thread is pending.
 *
 * Both functions may return early (a notify meant for another waiter, a spurious wake-up): callers
 * always re-check their condition in a loop and re-park with the time that is left.
 */
import { performance } from 'node:perf_hooks';
import { remaining, FOREVER } from './deadline';

/** Why a park ended. */
export type ParkResult = 'ok' | 'not-equal' | 'timed-out';

const MIN_SPIN = 16;
const MAX_SPIN = 4096;
/** A sleep that ended sooner than this (ms) would have been caught by a longer spin. */
const SHORT_SLEEP_MS = 0.1;
/** A sleep this long (ms) or longer means spinning is wasted on this thread's waits. */
const LONG_SLEEP_MS = 1;
let spinBudget = 1024;

/**
 * Blocks the calling thread while `i32[index] === expected`, until notified or `deadline`
 * (`performance.now()` time, or FOREVER) passes.
 */
export function parkSync(i32: Int32Array, index: number, expected: number, deadline: number): ParkResult {
  for (let i = 0; i < spinBudget; i++) {
    if (Atomics.load(i32, index) !== expected) return 'not-equal';
  }
  const left = remaining(deadline);
  if (left === 0) return Atomics.load(i32, index) === expected ? 'timed-out' : 'not-equal';
  const asleep = performance.now();
  const result = Atomics.wait(i32, index, expected, left === FOREVER ? undefined : left);
  if (result === 'ok') {
    const slept = performance.now() - asleep;
    if (slept < SHORT_SLEEP_MS) {
      if (spinBudget < MAX_SPIN) spinBudget <<= 1;
    } else if (slept >= LONG_SLEEP_MS && spinBudget > MIN_SPIN) {
      spinBudget >>= 1;
    }
  }
  return result;
}

let pendingAsync = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;

function holdProcess(): void {
  if (pendingAsync++ === 0) keepAlive = setInterval(noop, 0x7fffffff);
}

function releaseProcess(): void {
  if (--pendingAsync === 0 && keepAlive !== undefined) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

function noop(): void {}

/**
 * Waits without blocking the event loop while `i32[index] === expected`, until notified or
 * `deadline` passes. Keeps the process alive while pending.
 */
export async function parkAsync(i32: Int32Array, index: number, expected: number, deadline: number): Promise<ParkResult> {
  const left = remaining(deadline);
  const waited = Atomics.waitAsync(i32, index, expected, left === FOREVER ? undefined : left);
  if (!waited.async) return waited.value;
  holdProcess();
  try {
    return await waited.value;
  } finally {
    releaseProcess();
  }
}

/** Wakes up to `count` threads parked on `i32[index]`; returns how many were woken. */
export function unpark(i32: Int32Array, index: number, count = 1): number {
  return Atomics.notify(i32, index, count);
}
