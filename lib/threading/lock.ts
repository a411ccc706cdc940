/**
 * `Lock`: Python's `threading.Lock` over one word of shared memory.
 */
import { inspect } from 'node:util';
import { RuntimeError } from '../errors';
import { deadlineFor } from '../internal/shm/deadline';
import * as mutex from '../internal/shm/mutex';
import { MUTEX_WORDS, mutexLock } from '../internal/shm/mutex';
import { memoryRef, reviveMemory, type MemoryRef } from '../internal/shm/memory';
import { handOver, localBlock, takeHandOver, type Block, type LocalBlock } from '../internal/shm/block';
import { runAsync, runSync } from '../internal/shm/steps';
import { unpark } from '../internal/shm/park';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import {
  kAcquireRestore, kAcquireRestoreSync, kIsOwned, kReleaseSave, withLockAsync, withLockSync, type ConditionLock,
} from './with-lock';

const TAG = 'threading.Lock';
/** Slot: the mutex word (internal/shm/mutex.ts). */
const MUTEX = 0;
const TRUE: Promise<boolean> = Promise.resolve(true);
// Module-local copies: some loaders (esbuild/tsx) turn imported bindings into getters, which would
// cost a call on every fast-path acquire.
const { UNLOCKED, LOCKED, CONTENDED } = mutex;

/**
 * A mutual-exclusion lock shared by every thread it is passed to.
 *
 * At most one holder at a time; not reentrant (a thread that acquires it twice waits for itself
 * forever, as in Python); any thread may release it, not only the one that acquired it. Waiters are
 * woken in the order they went to sleep, but a thread arriving just as the lock is freed may take it
 * first (no hand-off), as with CPython's and Go's locks. The uncontended path is one CAS to acquire
 * and one exchange to release; a wake runs only when the word says somebody sleeps
 * (Drepper's three-state mutex, see internal/shm/mutex.ts).
 *
 * @example
 * const lock = new Lock();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * const t = new Thread({ target: (lock, c) => lock.withLockSync(() => { c[0]++; }), args: [lock, counter] });
 * t.start();
 * await lock.withLock(() => { counter[0]++; });
 * await t.join();
 *
 * @throws RuntimeError from `release()` when the lock is not locked; RangeError/TypeError from the
 *   acquire methods for a bad timeout.
 */
export class Lock implements ConditionLock {
  /** The lock's block: its memory and how to sleep on it. */
  readonly #block: Block;
  /** `#block.i32`, for the fast paths; `#i32[MUTEX]` is UNLOCKED, LOCKED or CONTENDED. */
  readonly #i32: Int32Array;

  constructor() {
    // A revived handle, or a multiprocessing.Lock, hands its block over (block.ts).
    this.#block = takeHandOver<Block>() ?? localBlock(MUTEX_WORDS);
    this.#i32 = this.#block.i32;
  }

  /**
   * Waits until the lock is free and takes it, without blocking the event loop.
   * @param timeout ms to wait; `undefined` waits forever, `0` tries once.
   * @returns true when acquired, false when the timeout passed first.
   * @throws RangeError when `timeout` is negative or NaN; TypeError when it is not a number.
   */
  acquire(timeout?: number): Promise<boolean> {
    if (timeout === undefined && Atomics.compareExchange(this.#i32, MUTEX, UNLOCKED, LOCKED) === UNLOCKED) return TRUE;
    return this.#acquireSlow(timeout);
  }

  async #acquireSlow(timeout: number | undefined): Promise<boolean> {
    return runAsync(mutexLock(this.#block, MUTEX, deadlineFor(timeout)));
  }

  /**
   * Waits until the lock is free and takes it, blocking the calling thread.
   * @param timeout ms to wait; `undefined` waits forever, `0` tries once.
   * @returns true when acquired, false when the timeout passed first.
   * @throws RangeError when `timeout` is negative or NaN; TypeError when it is not a number.
   */
  acquireSync(timeout?: number): boolean {
    if (timeout === undefined && Atomics.compareExchange(this.#i32, MUTEX, UNLOCKED, LOCKED) === UNLOCKED) return true;
    return runSync(mutexLock(this.#block, MUTEX, deadlineFor(timeout)));
  }

  /**
   * Frees the lock and wakes one waiter, if any. Any thread may release it.
   * @throws RuntimeError when the lock is not locked.
   */
  release(): void {
    const old = Atomics.exchange(this.#i32, MUTEX, UNLOCKED);
    if (old === LOCKED) return;
    if (old === CONTENDED) {
      unpark(this.#block, MUTEX, 1);
      return;
    }
    throw new RuntimeError('cannot release un-acquired lock');
  }

  /** True while some thread holds the lock. */
  locked(): boolean {
    return Atomics.load(this.#i32, MUTEX) !== UNLOCKED;
  }

  /** Runs `fn` holding the lock (`with lock:`); releases it however `fn` ends. */
  withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    return withLockAsync(this, fn);
  }

  /** Runs `fn` holding the lock, acquired with `acquireSync`; releases it however `fn` ends. */
  withLockSync<T>(fn: () => T): T {
    return withLockSync(this, fn);
  }

  [kIsOwned](): boolean {
    return this.locked();
  }

  [kReleaseSave](): number {
    this.release();
    return 1;
  }

  async [kAcquireRestore](): Promise<void> {
    await this.acquire();
  }

  [kAcquireRestoreSync](): void {
    this.acquireSync();
  }

  [kShare](): Handle {
    return { tag: TAG, data: memoryRef(this.#block as LocalBlock) };
  }

  [inspect.custom](): string {
    return `<Lock ${this.locked() ? 'locked' : 'unlocked'}>`;
  }
}

/** Rebuilds a Lock over the memory a handle's data points at. */
function revive(data: MemoryRef): Lock {
  return new Lock(...handOver(reviveMemory(data, MUTEX_WORDS, TAG)));
}

registerShareable(TAG, revive);
