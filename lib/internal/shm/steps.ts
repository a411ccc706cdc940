/**
 * One algorithm, two ways to block. Every waiting algorithm of `internal/shm` is written once as a
 * generator that *yields* a {@link ParkRequest} ("sleep while `i32[index] === expected`, until
 * `deadline`") and receives the {@link ParkResult} back. {@link runSync} drives it with `parkSync`
 * (`Atomics.wait`, blocks the thread); {@link runAsync} drives it with `parkAsync`
 * (`Atomics.waitAsync`, leaves the event loop free). So `acquire` and `acquireSync` of every
 * primitive run the very same state machine, and a fix to one is a fix to both.
 *
 * An algorithm may also yield something else (the Barrier yields "run the action now"); the caller
 * passes a handler for those, sync or async, and its return value is sent back into the generator.
 *
 * Generators cost an allocation, so only slow paths use them: every public fast path (uncontended
 * CAS) runs before one is created.
 */
import { parkSync, parkAsync, type ParkResult } from './park';

export type { ParkResult };

/** "Sleep while `i32[index] === expected`, until notified or `deadline` (performance.now() ms)." */
export interface ParkRequest {
  readonly park: true;
  readonly i32: Int32Array;
  readonly index: number;
  readonly expected: number;
  readonly deadline: number;
}

/** A waiting algorithm: yields park requests (or `Y`), returns `T`. */
export type Steps<T, Y = never> = Generator<ParkRequest | Y, T, ParkResult | unknown>;

/** Builds a park request. */
export function park(i32: Int32Array, index: number, expected: number, deadline: number): ParkRequest {
  return { park: true, i32, index, expected, deadline };
}

function isPark(step: unknown): step is ParkRequest {
  return typeof step === 'object' && step !== null && (step as ParkRequest).park === true;
}

function noHandler(step: unknown): never {
  throw new TypeError(`internal error: unexpected step ${String(step)}`);
}

/** Runs `steps` to completion on this thread, blocking in `Atomics.wait`. */
export function runSync<T, Y = never>(steps: Steps<T, Y>, other: (step: Y) => unknown = noHandler): T {
  let r = steps.next();
  while (!r.done) {
    const step = r.value;
    r = steps.next(isPark(step) ? parkSync(step.i32, step.index, step.expected, step.deadline) : other(step));
  }
  return r.value;
}

/** Runs `steps` to completion without blocking the event loop (`Atomics.waitAsync`). */
export async function runAsync<T, Y = never>(steps: Steps<T, Y>, other: (step: Y) => unknown = noHandler): Promise<T> {
  let r = steps.next();
  while (!r.done) {
    const step = r.value;
    r = steps.next(isPark(step) ? await parkAsync(step.i32, step.index, step.expected, step.deadline) : await other(step));
  }
  return r.value;
}
