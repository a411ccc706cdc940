/**
 * `RLock`: Python's `threading.RLock` — a lock that its owning thread may acquire again.
 */
import { inspect } from 'node:util';
import { threadId } from 'node:worker_threads';
import { RuntimeError } from '../errors';
import { deadlineFor, FOREVER } from '../internal/shm/deadline';
import { checkTimeout } from '../internal/validate';
import * as mutex from '../internal/shm/mutex';
import { mutexLock } from '../internal/shm/mutex';
import { memoryRef, reviveMemory, type MemoryRef } from '../internal/shm/memory';
import { handOver, localBlock, takeHandOver, type Block, type LocalBlock } from '../internal/shm/block';
import type { Steps } from '../internal/shm/steps';
import { runAsync, runSync } from '../internal/shm/steps';
import { unpark } from '../internal/shm/park';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import {
  kAcquireRestore, kAcquireRestoreSync, kIsOwned, kReleaseSave, withLockAsync, withLockSync, type ConditionLock,
} from './with-lock';

const TAG = 'threading.RLock';
/** Slot: the mutex word (internal/shm/mutex.ts), held while OWNER ≠ NO_OWNER. */
export const MUTEX = 0;
/**
 * Slot: owner id of the holding thread, NO_OWNER when free (threading: `threadId + 1`; a
 * multiprocessing RLock uses ids unique across processes). Written only by the thread that holds
 * MUTEX, and read with plain (non-atomic) loads: a thread can only ever read its own id there if it
 * wrote that itself (program order), so a stale or racing read of another thread's write can never
 * make a non-owner believe it owns the lock. The CAS/exchange on MUTEX order these writes for the
 * next owner.
 */
export const OWNER = 1;
/** Slot: recursion depth; read and written only by the owner (plain accesses, as OWNER). */
export const COUNT = 2;
/** Slot (multiprocessing layout only): pid of the owner's process, for dead-owner checks. */
export const OWNER_PID = 3;
const WORDS = 3;

export const NO_OWNER = 0;
/** This thread's owner id: `threadId + 1`, so the main thread (threadId 0) is never NO_OWNER. */
const SELF = threadId + 1;
const TRUE: Promise<boolean> = Promise.resolve(true);
// Module-local copies: some loaders (esbuild/tsx) turn imported bindings into getters.
const { UNLOCKED, LOCKED, CONTENDED } = mutex;

/**
 * What a multiprocessing.RLock hands over instead of a plain block: its arena block (with the
 * OWNER_PID slot), this thread's process-wide owner id and pid, and the way it waits for the mutex
 * (in slices, taking over from a dead owner).
 */
export interface RLockMemory {
  readonly block: Block;
  readonly self: number;
  readonly pid: number;
  readonly lock: (deadline: number) => Steps<boolean>;
}

/**
 * A reentrant lock: the thread that holds it may acquire it again, and must release it as many
 * times as it acquired it before another thread can take it.
 *
 * Ownership is per thread (worker or main), as in Python: async code on one thread shares that
 * thread's ownership. Only the owner may release it. Underneath is the same three-state mutex word as
 * {@link Lock} plus an owner word and a depth word that only the owner writes; a thread reading
 * OWNER can only ever find its own id there if it wrote it itself, so the reentrancy check needs no
 * lock. A Condition over an RLock releases it fully while waiting and restores its depth after.
 *
 * @example
 * const rlock = new RLock();
 * rlock.withLockSync(() => rlock.withLockSync(() => console.log('held twice')));
 *
 * @throws RuntimeError from `release()` when this thread does not hold it; RangeError/TypeError
 *   from the acquire methods for a bad timeout.
 */
export class RLock implements ConditionLock {
  /** The lock's block: MUTEX, OWNER, COUNT (and OWNER_PID for a multiprocessing RLock). */
  readonly #block: Block;
  /** `#block.i32`, for the fast paths. */
  readonly #i32: Int32Array;
  /** The owner id this thread writes into OWNER. */
  readonly #self: number;
  /** This process's pid, written into OWNER_PID; 0 for a threading RLock (no such slot). */
  readonly #pid: number;
  /** How a multiprocessing RLock waits for MUTEX; undefined: mutexLock. */
  readonly #lock: ((deadline: number) => Steps<boolean>) | undefined;

  constructor() {
    // A revived handle hands its block over; a multiprocessing.RLock, an RLockMemory (block.ts).
    const given = takeHandOver<Block | RLockMemory>();
    if (given !== undefined && 'self' in given) {
      ({ block: this.#block, self: this.#self, pid: this.#pid, lock: this.#lock } = given);
    } else {
      this.#block = given ?? localBlock(WORDS);
      this.#self = SELF;
      this.#pid = 0;
      this.#lock = undefined;
    }
    this.#i32 = this.#block.i32;
  }

  #lockSteps(deadline: number): Steps<boolean> {
    return this.#lock === undefined ? mutexLock(this.#block, MUTEX, deadline) : this.#lock(deadline);
  }

  /**
   * Takes the lock (again, when this thread holds it), without blocking the event loop.
   * @param timeout ms to wait; `undefined` waits forever, `0` tries once.
   * @returns true when acquired, false when the timeout passed first.
   * @throws RangeError when `timeout` is negative or NaN; TypeError when it is not a number.
   */
  acquire(timeout?: number): Promise<boolean> {
    if (timeout === undefined && this.#tryFast()) return TRUE;
    return this.#acquireSlow(timeout);
  }

  async #acquireSlow(timeout: number | undefined): Promise<boolean> {
    checkTimeout(timeout);
    if (this.#reenter()) return true;
    if (!(await runAsync(this.#lockSteps(deadlineFor(timeout))))) return false;
    this.#own(1);
    return true;
  }

  /**
   * Takes the lock (again, when this thread holds it), blocking the calling thread.
   * @param timeout ms to wait; `undefined` waits forever, `0` tries once.
   * @returns true when acquired, false when the timeout passed first.
   * @throws RangeError when `timeout` is negative or NaN; TypeError when it is not a number.
   */
  acquireSync(timeout?: number): boolean {
    if (timeout === undefined && this.#tryFast()) return true;
    checkTimeout(timeout);
    if (this.#reenter()) return true;
    if (!runSync(this.#lockSteps(deadlineFor(timeout)))) return false;
    this.#own(1);
    return true;
  }

  #tryFast(): boolean {
    if (this.#reenter()) return true;
    if (Atomics.compareExchange(this.#i32, MUTEX, UNLOCKED, LOCKED) !== UNLOCKED) return false;
    this.#own(1);
    return true;
  }

  #reenter(): boolean {
    const i32 = this.#i32;
    if (i32[OWNER] !== this.#self) return false;
    i32[COUNT]++;
    return true;
  }

  #own(count: number): void {
    const i32 = this.#i32;
    // The pid first: a process killed between these stores leaves OWNER naming no one (no takeover,
    // a window of two stores), never OWNER naming it with the previous owner's pid.
    if (this.#pid !== 0) i32[OWNER_PID] = this.#pid;
    i32[OWNER] = this.#self;
    i32[COUNT] = count;
  }

  /** Gives the lock up entirely; returns the depth it was held at. */
  #disown(): number {
    const i32 = this.#i32;
    const count = i32[COUNT];
    i32[COUNT] = 0;
    i32[OWNER] = NO_OWNER;
    // The exchange publishes the two writes above before the next owner's CAS succeeds.
    if (Atomics.exchange(i32, MUTEX, UNLOCKED) === CONTENDED) unpark(this.#block, MUTEX, 1);
    return count;
  }

  /**
   * Releases one level; the last release frees the lock and wakes one waiter.
   * @throws RuntimeError when this thread does not hold the lock.
   */
  release(): void {
    const i32 = this.#i32;
    if (i32[OWNER] !== this.#self) throw new RuntimeError('cannot release un-acquired lock');
    if (--i32[COUNT] === 0) this.#disown();
  }

  /** Runs `fn` holding the lock (`with rlock:`); releases it however `fn` ends. */
  withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    return withLockAsync(this, fn);
  }

  /** Runs `fn` holding the lock, acquired with `acquireSync`; releases it however `fn` ends. */
  withLockSync<T>(fn: () => T): T {
    return withLockSync(this, fn);
  }

  [kIsOwned](): boolean {
    return this.#i32[OWNER] === this.#self;
  }

  [kReleaseSave](): number {
    if (!this[kIsOwned]()) throw new RuntimeError('cannot release un-acquired lock');
    return this.#disown();
  }

  async [kAcquireRestore](count: number): Promise<void> {
    await runAsync(this.#lockSteps(FOREVER));
    this.#own(count);
  }

  [kAcquireRestoreSync](count: number): void {
    runSync(this.#lockSteps(FOREVER));
    this.#own(count);
  }

  [kShare](): Handle {
    return { tag: TAG, data: memoryRef(this.#block as LocalBlock) };
  }

  [inspect.custom](): string {
    // A snapshot: another thread may be changing OWNER and COUNT meanwhile.
    const owner = this.#i32[OWNER];
    return `<RLock owner=${owner === NO_OWNER ? 'none' : owner - 1} count=${this.#i32[COUNT]}>`;
  }
}

/** Rebuilds an RLock over the memory a handle's data points at. */
function revive(data: MemoryRef): RLock {
  return new RLock(...handOver(reviveMemory(data, WORDS, TAG)));
}

registerShareable(TAG, revive);
