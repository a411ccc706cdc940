/**
 * One algorithm, two ways to block. Every waiting algorithm of `internal/shm` is written once as a
 * generator that *yields* a {@link ParkRequest} ("sleep while word `index` of `block` holds
 * `expected`, until `deadline`") and receives the {@link ParkResult} back. {@link runSync} drives it
 * with `parkSync` (blocks the thread); {@link runAsync} drives it with `parkAsync` (leaves the event
 * loop free). Either sleeps the way the block's memory needs (block.ts). So `acquire` and `acquireSync` of every
 * primitive run the very same state machine, and a fix to one is a fix to both.
 *
 * An algorithm may also yield something else (the Barrier yields "run the action now"); the caller
 * passes a handler for those, sync or async, and its return value is sent back into the generator.
 *
 * Generators cost an allocation, so only slow paths use them: every public fast path (uncontended
 * CAS) runs before one is created.
 */
import { parkSync, parkAsync, type ParkResult } from './park';
import type { Block } from './block';

export type { ParkResult };

/** "Sleep while `block.i32[index] === expected`, until woken or `deadline` (performance.now() ms)." */
export interface ParkRequest {
  readonly park: true;
  readonly block: Block;
  readonly index: number;
  readonly expected: number;
  readonly deadline: number;
}

/** A waiting algorithm: yields park requests (or `Y`), returns `T`. */
export type Steps<T, Y = never> = Generator<ParkRequest | Y, T, ParkResult | unknown>;

/** Builds a park request. */
export function park(block: Block, index: number, expected: number, deadline: number): ParkRequest {
  return { park: true, block, index, expected, deadline };
}

function isPark(step: unknown): step is ParkRequest {
  return typeof step === 'object' && step !== null && (step as ParkRequest).park === true;
}

function noHandler(step: unknown): never {
  throw new TypeError(`internal error: unexpected step ${String(step)}`);
}

/** Runs `steps` to completion on this thread, blocking it while it waits. */
export function runSync<T, Y = never>(steps: Steps<T, Y>, other: (step: Y) => unknown = noHandler): T {
  let r = steps.next();
  while (!r.done) {
    const step = r.value;
    r = steps.next(isPark(step) ? parkSync(step.block, step.index, step.expected, step.deadline) : other(step));
  }
  return r.value;
}

/** Runs `steps` to completion without blocking the event loop. */
export async function runAsync<T, Y = never>(steps: Steps<T, Y>, other: (step: Y) => unknown = noHandler): Promise<T> {
  let r = steps.next();
  while (!r.done) {
    const step = r.value;
    r = steps.next(isPark(step) ? await parkAsync(step.block, step.index, step.expected, step.deadline) : await other(step));
  }
  return r.value;
}
