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
import { allocate, memoryRef, reviveMemory, type MemoryRef } from '../internal/shm/memory';
import { runAsync, runSync } from '../internal/shm/steps';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import { encodeTarget, type EncodedTarget } from '../internal/transport';
import type { Target } from '../target';
import { startTargetThread, type Outcome, type TargetThread } from '../internal/thread/target-thread';

const TAG = 'threading.Barrier';
/** Offset of the barrier state (internal/shm/barrier-state.ts) in the block. */
const BARRIER = 0;

/** Options of {@link Barrier}. */
export interface BarrierOptions {
  /** Runs once per round, in a thread of its own, started by the last party to arrive, before any party is released. */
  action?: Target;
  /** Default timeout (ms) of `wait()` calls that pass none. @default undefined (wait forever) */
  timeout?: number;
}

interface BarrierData extends MemoryRef {
  readonly action: EncodedTarget | null;
  readonly timeout: number | undefined;
}

/** Starts the action in its own thread. */
function startAction(action: EncodedTarget): TargetThread {
  return startTargetThread(action, []);
}

function toActionOutcome(outcome: Outcome): ActionOutcome {
  return outcome.ok ? { ok: true } : { ok: false, error: outcome.error };
}

let reviving: { i32: Int32Array; action: EncodedTarget | null; timeout: number | undefined } | undefined;

/**
 * A meeting point for a fixed number of parties: each `wait()` blocks until `parties` threads are
 * waiting, then all are released together and the barrier is ready for the next round.
 *
 * Each wait returns its arrival index (0 … parties-1), so one of them can be picked to do
 * something once. The optional `action` runs once per round, in a new thread started by the last
 * party to arrive, before anyone is released; if it throws, that party's wait throws its error and
 * every other party gets BrokenBarrierError. A wait that times out breaks the barrier for everyone
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
  readonly #i32: Int32Array;
  /** The action, encoded once: it travels in the handle and is started as it is by the last arrival. */
  readonly #encodedAction: EncodedTarget | null;
  readonly #timeout: number | undefined;

  /**
   * @param parties threads that must call wait() before all are released (≥ 1).
   * @param options `action` and default `timeout`.
   */
  constructor(parties: number, options: BarrierOptions = {}) {
    if (reviving !== undefined) {
      ({ i32: this.#i32, action: this.#encodedAction, timeout: this.#timeout } = reviving);
      reviving = undefined;
      return;
    }
    if (typeof parties !== 'number' || !Number.isInteger(parties)) {
      throw new TypeError(`Expected \`parties\` to be an integer, got ${describe(parties)}`);
    }
    if (parties < 1 || parties > 0x7fffffff) throw new ValueError(`Expected \`parties\` to be an integer from 1 to ${0x7fffffff}, got ${parties}`);
    if (typeof options !== 'object' || options === null) throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}`);
    this.#timeout = checkTimeout(options.timeout, 'options.timeout');
    this.#encodedAction = options.action === undefined ? null : encodeTarget(options.action, 'options.action');
    this.#i32 = allocate(BARRIER_WORDS);
    barrierInit(this.#i32, BARRIER, parties);
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
    const steps = barrierWait(this.#i32, BARRIER, this.#deadline(timeout), this.#encodedAction !== null);
    return this.#finish(await runAsync(steps, async () => {
      try {
        return toActionOutcome(await startAction(this.#encodedAction!).join());
      } catch (error) {
        return { ok: false, error };
      }
    }));
  }

  /** As {@link wait}, blocking the calling thread. */
  waitSync(timeout?: number): number {
    const steps = barrierWait(this.#i32, BARRIER, this.#deadline(timeout), this.#encodedAction !== null);
    return this.#finish(runSync(steps, () => {
      try {
        return toActionOutcome(startAction(this.#encodedAction!).joinSync());
      } catch (error) {
        return { ok: false, error };
      }
    }));
  }

  /** Returns the barrier to its initial state; parties waiting now get BrokenBarrierError. */
  reset(): void {
    barrierReset(this.#i32, BARRIER);
  }

  /** Breaks the barrier: current and later waits throw BrokenBarrierError until reset(). */
  abort(): void {
    barrierAbort(this.#i32, BARRIER);
  }

  /** Threads needed to pass the barrier. */
  get parties(): number {
    return Atomics.load(this.#i32, BARRIER + PARTIES);
  }

  /** Threads waiting in the current round. */
  get nWaiting(): number {
    return barrierWaiting(this.#i32, BARRIER);
  }

  /** True when the barrier is broken. */
  get broken(): boolean {
    return barrierBroken(this.#i32, BARRIER);
  }

  [kShare](): Handle {
    const data: BarrierData = { ...memoryRef(this.#i32), action: this.#encodedAction, timeout: this.#timeout };
    return { tag: TAG, data };
  }

  [inspect.custom](): string {
    return `<Barrier ${this.broken ? 'broken ' : ''}waiters=${this.nWaiting}/${this.parties}>`;
  }
}

/** Rebuilds a Barrier over the memory (and with the action) of a handle's data. */
function revive(data: BarrierData): Barrier {
  const action = data?.action;
  // The action is sent on to a new thread as it is, so check its shape here, once.
  const validAction = action === null || (typeof action === 'object' && (
    (action.kind === 'source' && typeof action.source === 'string' && typeof action.name === 'string') ||
    (action.kind === 'module' && typeof action.href === 'string' && typeof action.exportName === 'string')));
  if (!validAction) {
    throw new TypeError(`Invalid handle: ${TAG}`);
  }
  reviving = { i32: reviveMemory(data, BARRIER_WORDS, TAG), action, timeout: checkTimeout(data.timeout) };
  return new Barrier(1);
}

registerShareable(TAG, revive);
