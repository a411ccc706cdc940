/**
 * `Barrier`: Python's `threading.Barrier` — a fixed number of threads meet, then all go on.
 */
import { inspect } from 'node:util';
import { BrokenBarrierError, ValueError } from '../errors';
import { deadlineFor } from '../internal/shm/deadline';
import { checkTimeout, describe } from '../internal/validate';
import {
  BARRIER_WORDS, PARTIES, barrierAbort, barrierBroken, barrierInit, barrierReset, barrierWait, barrierWaiting,
  type ActionOutcome, type BarrierOutcome,
} from '../internal/shm/barrier-state';
import { memoryRef, reviveMemory, type MemoryRef } from '../internal/shm/memory';
import { handOver, localBlock, takeHandOver, type Block, type LocalBlock } from '../internal/shm/block';
import { runAsync, runSync } from '../internal/shm/steps';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import { encodeTarget, resolveTarget, resolveTargetSync, type EncodedTarget } from '../internal/transport';
import type { Target } from '../target';

const TAG = 'threading.Barrier';
/** Offset of the barrier state (internal/shm/barrier-state.ts) in the block. */
const BARRIER = 0;

/** Options of {@link Barrier}. */
export interface BarrierOptions {
  /**
   * Runs once per round in the thread of the last party to arrive, before any party is released:
   * a function (sent by its source, so self-contained) or `fromModule(…)`.
   */
  action?: Target;
  /** Default timeout (ms) of `wait()` calls that pass none. @default undefined (wait forever) */
  timeout?: number;
}

interface BarrierData extends MemoryRef {
  readonly action: EncodedTarget | null;
  readonly timeout: number | undefined;
}

/** What a reviver or a multiprocessing.Barrier hands over (block.ts). */
export interface BarrierMemory {
  readonly block: Block;
  readonly action: EncodedTarget | null;
  readonly timeout: number | undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** True when `action` has the shape of an encoded target (a handle's action is checked once, on revival). */
export function isEncodedAction(action: unknown): action is EncodedTarget | null {
  const a = action as Record<string, unknown> | null;
  return a === null || (typeof a === 'object' && (
    (a.kind === 'source' && typeof a.source === 'string' && typeof a.name === 'string') ||
    (a.kind === 'module' && typeof a.href === 'string' && typeof a.exportName === 'string')));
}

/**
 * A meeting point for a fixed number of parties: each `wait()` blocks until `parties` threads are
 * waiting, then all are released together and the barrier is ready for the next round.
 *
 * Each wait returns its arrival index (0 … parties-1), so one of them can be picked to do
 * something once. The optional `action` runs once per round, in the thread of the last party to
 * arrive (as in CPython), before anyone is released; it is compiled (or loaded) once per thread that
 * runs it. If it throws, that party's wait throws its error and every other party gets
 * BrokenBarrierError. `waitSync` runs it synchronously: an action that returns a Promise there is
 * an error (use `wait`, which awaits it). A wait that times out breaks the barrier for everyone
 * (CPython's rule). `abort()` breaks it, `reset()` makes it usable again (waiters at that moment get
 * BrokenBarrierError). The state machine is in internal/shm/barrier-state.ts.
 *
 * @example
 * const barrier = new Barrier(2);
 * new Thread({ target: (b) => b.waitSync(), args: [barrier] }).start();
 * const index = await barrier.wait();    // 0 or 1
 *
 * @throws TypeError from the constructor when `parties` is not an integer, or `action` is not a
 *   target; RangeError when `parties` < 1 or `timeout` is negative or NaN.
 */
export class Barrier {
  /** The barrier block: LOCK, STATE, COUNT, CHANGES, PARTIES. */
  readonly #block: Block;
  /** The action, encoded once: it travels in the handle, and each thread compiles it once. */
  readonly #encodedAction: EncodedTarget | null;
  /** The action compiled in this thread, once it ran here. */
  #action: ((...args: unknown[]) => unknown) | undefined;
  readonly #timeout: number | undefined;

  /**
   * @param parties threads that must call wait() before all are released (≥ 1).
   * @param options `action` and default `timeout`.
   */
  constructor(parties: number, options: BarrierOptions = {}) {
    const given = takeHandOver<BarrierMemory>();
    if (given !== undefined && parties === undefined) {
      ({ block: this.#block, action: this.#encodedAction, timeout: this.#timeout } = given);
      return;
    }
    if (typeof parties !== 'number' || !Number.isInteger(parties)) {
      throw new TypeError(`Expected \`parties\` to be an integer, got ${describe(parties)}`);
    }
    if (parties < 1 || parties > 0x7fffffff) throw new ValueError(`Expected \`parties\` to be an integer from 1 to ${0x7fffffff}, got ${parties}`);
    if (typeof options !== 'object' || options === null) throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}`);
    this.#timeout = checkTimeout(options.timeout, 'options.timeout');
    this.#encodedAction = options.action === undefined ? null : encodeTarget(options.action, 'options.action');
    this.#block = given?.block ?? localBlock(BARRIER_WORDS);
    barrierInit(this.#block, BARRIER, parties);
  }

  #deadline(timeout: number | undefined): number {
    return deadlineFor(timeout === undefined ? this.#timeout : timeout);
  }

  #finish(outcome: BarrierOutcome): number {
    if (outcome.failure === undefined) return outcome.index;
    if (outcome.failure.broken) throw new BrokenBarrierError('barrier is broken');
    throw outcome.failure.error;
  }

  /**
   * Waits until all parties are waiting, without blocking the event loop.
   * @param timeout ms to wait; `undefined` takes the barrier's default timeout.
   * @returns this party's arrival index, 0 … parties-1.
   * @throws BrokenBarrierError when the barrier is or becomes broken (abort, reset, timeout, a failed
   *   action); the action's own error for the party that ran it; RangeError for a bad timeout.
   */
  async wait(timeout?: number): Promise<number> {
    const steps = barrierWait(this.#block, BARRIER, this.#deadline(timeout), this.#encodedAction !== null);
    return this.#finish(await runAsync(steps, async (): Promise<ActionOutcome> => {
      try {
        this.#action ??= await resolveTarget(this.#encodedAction!);
        await this.#action();
        return { ok: true };
      } catch (error) {
        return { ok: false, error };
      }
    }));
  }

  /** As {@link wait}, blocking the calling thread (and running the action synchronously). */
  waitSync(timeout?: number): number {
    const steps = barrierWait(this.#block, BARRIER, this.#deadline(timeout), this.#encodedAction !== null);
    return this.#finish(runSync(steps, (): ActionOutcome => {
      try {
        this.#action ??= resolveTargetSync(this.#encodedAction!);
        const value = this.#action();
        if (isThenable(value)) {
          Promise.resolve(value).catch(() => {});
          throw new TypeError('the barrier action returned a Promise, which waitSync cannot wait for: use wait(), or a synchronous action');
        }
        return { ok: true };
      } catch (error) {
        return { ok: false, error };
      }
    }));
  }

  /** Returns the barrier to its initial state; parties waiting now get BrokenBarrierError. */
  reset(): void {
    barrierReset(this.#block, BARRIER);
  }

  /** Breaks the barrier: current and later waits throw BrokenBarrierError until reset(). */
  abort(): void {
    barrierAbort(this.#block, BARRIER);
  }

  /** Threads needed to pass the barrier. */
  get parties(): number {
    return Atomics.load(this.#block.i32, BARRIER + PARTIES);
  }

  /** Threads waiting in the current round. */
  get nWaiting(): number {
    return barrierWaiting(this.#block, BARRIER);
  }

  /** True when the barrier is broken. */
  get broken(): boolean {
    return barrierBroken(this.#block, BARRIER);
  }

  [kShare](): Handle {
    const data: BarrierData = { ...memoryRef(this.#block as LocalBlock), action: this.#encodedAction, timeout: this.#timeout };
    return { tag: TAG, data };
  }

  [inspect.custom](): string {
    return `<Barrier ${this.broken ? 'broken ' : ''}waiters=${this.nWaiting}/${this.parties}>`;
  }
}

/** Rebuilds a Barrier over the memory (and with the action) of a handle's data. */
function revive(data: BarrierData): Barrier {
  if (!isEncodedAction(data?.action)) throw new TypeError(`Invalid handle: ${TAG}`);
  const memory: BarrierMemory = { block: reviveMemory(data, BARRIER_WORDS, TAG), action: data.action, timeout: checkTimeout(data.timeout) };
  return new Barrier(...handOver(memory, undefined as unknown as number));
}

registerShareable(TAG, revive);
