/**
 * `Condition`: Python's `threading.Condition` — wait until another thread changes shared state and
 * notifies.
 */
import { inspect } from 'node:util';
import { RuntimeError, ValueError } from '../errors';
import { deadlineFor, remaining, FOREVER } from '../internal/shm/deadline';
import { checkTimeout, describe } from '../internal/validate';
import {
  DEFAULT_CAPACITY, conditionEnqueue, conditionNotify, conditionSleep, conditionWaiting, conditionWords,
} from '../internal/shm/condition-queue';
import { memoryRef, reviveMemory, type MemoryRef } from '../internal/shm/memory';
import { handOver, localBlock, takeHandOver, type Block, type LocalBlock } from '../internal/shm/block';
import { runAsync, runSync } from '../internal/shm/steps';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import { RLock } from './rlock';
import type { Lock } from './lock';
import {
  kAcquireRestore, kAcquireRestoreSync, kIsOwned, kReleaseSave, withLockAsync, withLockSync, type ConditionLock,
} from './with-lock';

const TAG = 'threading.Condition';

interface ConditionData extends MemoryRef {
  readonly capacity: number;
  readonly lock: ConditionLock;
}

/** What a reviver or a multiprocessing.Condition hands over (block.ts). */
export interface ConditionMemory {
  readonly block: Block;
  readonly capacity: number;
}

function isConditionLock(value: unknown): value is ConditionLock {
  return typeof value === 'object' && value !== null && typeof (value as Partial<ConditionLock>)[kIsOwned] === 'function';
}

/** A notify count: a whole number ≥ 0, or Infinity (every waiter). 1.5 would otherwise wake 2. */
function checkCount(n: unknown): number {
  if (typeof n === 'number' && (n < 0 || Number.isNaN(n))) throw new ValueError(`Expected \`n\` to be a non-negative number of waiters, got ${n}`);
  if (typeof n !== 'number' || !(Number.isInteger(n) || n === Infinity)) {
    throw new TypeError(`Expected \`n\` to be a whole number of waiters, got ${describe(n)}`);
  }
  return n;
}

/**
 * A condition variable: threads holding its lock wait for a change of shared state, and a thread
 * that makes the change (holding the same lock) notifies them.
 *
 * `wait()` releases the lock — fully, even an RLock held at depth 3 — sleeps until notified or
 * timed out, then takes the lock back at the same depth. `notify(n)` wakes exactly
 * `min(n, waiting)` waiters, the longest-waiting first; a waiter that timed out is gone and never
 * counted (internal/shm/condition-queue.ts). There are no spurious wake-ups, but the state a waiter
 * was notified about may have changed again before it re-acquires the lock: re-check it, or use
 * `waitFor`. The condition and its lock can be passed to other threads together or apart.
 *
 * FIFO order holds for up to 64 simultaneous waiters; beyond that, later waiters are still woken
 * exactly as counted, in unspecified order among themselves. RLock ownership is per thread, so async
 * tasks of one thread all count as the owner of the default RLock: to coordinate async tasks of a
 * single thread, give the Condition a Lock.
 *
 * @example
 * const cond = new Condition();
 * const box = new Int32Array(new SharedArrayBuffer(4));
 * new Thread({ target: (cond, box) => cond.withLockSync(() => { box[0] = 1; cond.notify(); }), args: [cond, box] }).start();
 * await cond.withLock(() => cond.waitFor(() => box[0] === 1));
 *
 * @throws TypeError from the constructor when `lock` is not a Lock or RLock.
 */
export class Condition {
  /** The user-visible lock that wait() releases and re-takes. */
  readonly #lock: ConditionLock;
  /** The waiter queue block (LOCK, HEAD, TAIL, counters, slots). */
  readonly #block: Block;
  /** Slots in the queue; a power of two. */
  readonly #capacity: number;

  /**
   * @param lock the lock to wait with.
   * @default a new RLock
   */
  constructor(lock?: Lock | RLock) {
    const given = takeHandOver<ConditionMemory>();
    if (lock !== undefined && !isConditionLock(lock)) {
      throw new TypeError(`Expected \`lock\` to be a Lock or RLock, got ${describe(lock)}`);
    }
    this.#lock = lock ?? new RLock();
    this.#capacity = given?.capacity ?? DEFAULT_CAPACITY;
    this.#block = given?.block ?? localBlock(conditionWords(DEFAULT_CAPACITY));
  }

  /** Acquires the underlying lock (see Lock/RLock `acquire`). */
  acquire(timeout?: number): Promise<boolean> {
    return this.#lock.acquire(timeout);
  }

  /** Acquires the underlying lock, blocking the calling thread. */
  acquireSync(timeout?: number): boolean {
    return this.#lock.acquireSync(timeout);
  }

  /** Releases the underlying lock. @throws RuntimeError when it is not held. */
  release(): void {
    this.#lock.release();
  }

  /** Runs `fn` holding the underlying lock; releases it however `fn` ends. */
  withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    return withLockAsync(this.#lock, fn);
  }

  /** Runs `fn` holding the underlying lock (acquired with `acquireSync`). */
  withLockSync<T>(fn: () => T): T {
    return withLockSync(this.#lock, fn);
  }

  /** Queues this thread as a waiter and releases the lock; returns what `#finishWait` needs. */
  #beginWait(): { ticket: ReturnType<typeof conditionEnqueue>; saved: number } {
    if (!this.#lock[kIsOwned]()) throw new RuntimeError('cannot wait on un-acquired lock');
    // Queue first, release after: a notifier that takes the lock after we drop it must find us queued.
    const ticket = conditionEnqueue(this.#block, 0, this.#capacity);
    return { ticket, saved: this.#lock[kReleaseSave]() };
  }

  /**
   * Releases the lock, waits until notified or timed out, and re-acquires the lock (at the depth
   * it was held) before returning, without blocking the event loop.
   * @param timeout ms to wait; `undefined` waits forever.
   * @returns true when notified, false when the timeout passed.
   * @throws RuntimeError when the lock is not held; RangeError/TypeError for a bad timeout.
   */
  async wait(timeout?: number): Promise<boolean> {
    const deadline = deadlineFor(timeout);
    const { ticket, saved } = this.#beginWait();
    try {
      return await runAsync(conditionSleep(this.#block, 0, this.#capacity, ticket, deadline));
    } finally {
      await this.#lock[kAcquireRestore](saved);
    }
  }

  /** As {@link wait}, blocking the calling thread. */
  waitSync(timeout?: number): boolean {
    const deadline = deadlineFor(timeout);
    const { ticket, saved } = this.#beginWait();
    try {
      return runSync(conditionSleep(this.#block, 0, this.#capacity, ticket, deadline));
    } finally {
      this.#lock[kAcquireRestoreSync](saved);
    }
  }

  /**
   * Waits until `predicate()` is truthy, re-checking it after every wake-up; the timeout counts for
   * the whole call.
   * @returns the last value of `predicate()` (falsy when the timeout passed).
   * @throws RuntimeError when the lock is not held; TypeError when `predicate` is not a function.
   */
  async waitFor<T>(predicate: () => T, timeout?: number): Promise<T> {
    const deadline = this.#checkWaitFor(predicate, timeout);
    let result = predicate();
    while (!result) {
      const left = remaining(deadline);
      if (left === 0) break;
      await this.wait(left === FOREVER ? undefined : left);
      result = predicate();
    }
    return result;
  }

  /** As {@link waitFor}, blocking the calling thread. */
  waitForSync<T>(predicate: () => T, timeout?: number): T {
    const deadline = this.#checkWaitFor(predicate, timeout);
    let result = predicate();
    while (!result) {
      const left = remaining(deadline);
      if (left === 0) break;
      this.waitSync(left === FOREVER ? undefined : left);
      result = predicate();
    }
    return result;
  }

  #checkWaitFor(predicate: unknown, timeout: unknown): number {
    if (typeof predicate !== 'function') throw new TypeError(`Expected \`predicate\` to be a function, got ${describe(predicate)}`);
    checkTimeout(timeout);
    return deadlineFor(timeout);
  }

  /**
   * Wakes `min(n, waiting)` waiters, the longest-waiting first. Call it holding the lock.
   * @param n how many to wake. @default 1
   * @throws RuntimeError when the lock is not held; TypeError when `n` is not a whole number (or
   *   Infinity); RangeError when it is negative or NaN.
   */
  notify(n = 1): void {
    checkCount(n);
    if (!this.#lock[kIsOwned]()) throw new RuntimeError('cannot notify on un-acquired lock');
    conditionNotify(this.#block, 0, this.#capacity, n);
  }

  /** Wakes every waiter. @throws RuntimeError when the lock is not held. */
  notifyAll(): void {
    this.notify(Infinity);
  }

  [kShare](): Handle {
    const data: ConditionData = { ...memoryRef(this.#block as LocalBlock), capacity: this.#capacity, lock: this.#lock };
    return { tag: TAG, data };
  }

  [inspect.custom](): string {
    return `<Condition ${inspect(this.#lock)} waiters=${conditionWaiting(this.#block, 0)}>`;
  }
}

/** Rebuilds a Condition over the memory (and the revived lock) of a handle's data. */
function revive(data: ConditionData): Condition {
  const capacity = data?.capacity;
  if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0 || !isConditionLock(data.lock)) {
    throw new TypeError(`Invalid handle: ${TAG}`);
  }
  const memory: ConditionMemory = { block: reviveMemory(data, conditionWords(capacity), TAG), capacity };
  return new Condition(...handOver(memory, data.lock as Lock | RLock));
}

registerShareable(TAG, revive);
