/**
 * `Semaphore` and `BoundedSemaphore`: Python's counting semaphores.
 */
import { inspect } from 'node:util';
import { ValueError } from '../errors';
import { deadlineFor } from '../internal/shm/deadline';
import { describe } from '../internal/validate';
import * as counting from '../internal/shm/counting-semaphore';
import { MAX_VALUE, SEMAPHORE_WORDS, VALUE, semAcquire } from '../internal/shm/counting-semaphore';
import { memoryRef, reviveMemory, type MemoryRef } from '../internal/shm/memory';
import { handOver, localBlock, takeHandOver, type Block, type LocalBlock } from '../internal/shm/block';
import { runAsync, runSync } from '../internal/shm/steps';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import { withLockAsync, withLockSync } from './with-lock';

const TAG = 'threading.Semaphore';
const BOUNDED_TAG = 'threading.BoundedSemaphore';
/** Offset of the counting semaphore (internal/shm/counting-semaphore.ts) in the block. */
const SEM = 0;
const TRUE: Promise<boolean> = Promise.resolve(true);
// Module-local copies of the fast-path functions: some loaders (esbuild/tsx) turn imported
// bindings into getters, which would cost a call on every acquire and release.
const { semRelease, semTryAcquire, semValue } = counting;

interface SemaphoreData extends MemoryRef {
  /** Largest value release() may reach: the initial value of a BoundedSemaphore. */
  readonly max: number;
}

/** What a reviver or a multiprocessing semaphore hands over (block.ts). */
export interface SemaphoreMemory {
  readonly block: Block;
  readonly max: number;
  readonly bounded: boolean;
}

/** Validates a permit count (`value`, `n`): an integer from `min` to MAX_VALUE. */
export function checkInteger(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`Expected \`${name}\` to be an integer, got ${describe(value)}`);
  }
  if (value < min || value > MAX_VALUE) {
    throw new ValueError(`Expected \`${name}\` to be an integer from ${min} to ${MAX_VALUE}, got ${value}`);
  }
  return value;
}

/**
 * A counter of permits shared by every thread it is passed to: `acquire` takes one (waiting while
 * there are none), `release(n)` gives n back.
 *
 * Waiters sleep until a release; a release of n wakes at most n of them, and none when nobody waits
 * (internal/shm/counting-semaphore.ts). A woken waiter may lose its permit to a thread that arrived
 * meanwhile and then waits again with the time it has left, so there is no strict FIFO, as in
 * CPython. Any thread may release, whether or not it acquired.
 *
 * @example
 * const pool = new Semaphore(2);          // at most two holders at once
 * await pool.withLock(async () => { … });
 *
 * @throws TypeError from the constructor when `value` is not an integer; RangeError when negative.
 */
export class Semaphore {
  /** The counting semaphore block: VALUE, WAITERS. */
  readonly #block: Block;
  /** `#block.i32`, for the fast paths. */
  readonly #i32: Int32Array;
  /** Largest value a release may reach (MAX_VALUE, or a BoundedSemaphore's initial value). */
  readonly #max: number;
  /** True for a BoundedSemaphore (of either module). */
  readonly #bounded: boolean;

  /**
   * @param value initial number of permits. @default 1
   */
  constructor(value = 1) {
    const given = takeHandOver<SemaphoreMemory>();
    if (given !== undefined) {
      ({ block: this.#block, max: this.#max, bounded: this.#bounded } = given);
      this.#i32 = this.#block.i32;
      return;
    }
    checkInteger(value, 'value', 0);
    this.#block = localBlock(SEMAPHORE_WORDS);
    this.#i32 = this.#block.i32;
    Atomics.store(this.#i32, SEM + VALUE, value);
    this.#bounded = this instanceof BoundedSemaphore;
    this.#max = this.#bounded ? value : MAX_VALUE;
  }

  /**
   * Takes a permit, waiting while there is none, without blocking the event loop.
   * @param timeout ms to wait; `undefined` waits forever, `0` tries once.
   * @returns true when a permit was taken, false when the timeout passed first.
   * @throws RangeError when `timeout` is negative or NaN; TypeError when it is not a number.
   */
  acquire(timeout?: number): Promise<boolean> {
    if (timeout === undefined && semTryAcquire(this.#block, SEM)) return TRUE;
    return this.#acquireSlow(timeout);
  }

  async #acquireSlow(timeout: number | undefined): Promise<boolean> {
    return runAsync(semAcquire(this.#block, SEM, deadlineFor(timeout)));
  }

  /** As {@link acquire}, blocking the calling thread. */
  acquireSync(timeout?: number): boolean {
    if (timeout === undefined && semTryAcquire(this.#block, SEM)) return true;
    return runSync(semAcquire(this.#block, SEM, deadlineFor(timeout)));
  }

  /**
   * Gives `n` permits back and wakes up to `n` waiters.
   * @param n permits to give back. @default 1
   * @throws TypeError when `n` is not an integer; RangeError when it is below 1;
   *   ValueError (BoundedSemaphore) when the value would exceed the initial value.
   */
  release(n = 1): void {
    checkInteger(n, 'n', 1);
    if (semRelease(this.#block, SEM, n, this.#max)) return;
    if (this.#bounded) throw new ValueError('semaphore released too many times');
    throw new ValueError(`semaphore value cannot exceed ${MAX_VALUE}`);
  }

  /** Runs `fn` holding a permit; gives it back however `fn` ends. */
  withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    return withLockAsync(this, fn);
  }

  /** Runs `fn` holding a permit taken with `acquireSync`; gives it back however `fn` ends. */
  withLockSync<T>(fn: () => T): T {
    return withLockSync(this, fn);
  }

  /** Permits available now (a snapshot; `_value` in CPython). */
  get value(): number {
    return semValue(this.#block, SEM);
  }

  [kShare](): Handle {
    const data: SemaphoreData = { ...memoryRef(this.#block as LocalBlock), max: this.#max };
    return { tag: this.#bounded ? BOUNDED_TAG : TAG, data };
  }

  [inspect.custom](): string {
    return this.#bounded
      ? `<BoundedSemaphore value=${this.value}/${this.#max}>`
      : `<Semaphore value=${this.value}>`;
  }
}

/**
 * A Semaphore that refuses to be released above its initial value, which catches a release
 * without a matching acquire.
 *
 * @example
 * const slots = new BoundedSemaphore(3);
 * slots.acquireSync();
 * slots.release();
 * slots.release();                        // ValueError: semaphore released too many times
 *
 * @throws ValueError from `release` when the value would exceed the initial value.
 */
export class BoundedSemaphore extends Semaphore {
  /** @param value initial and largest number of permits. @default 1 */
  constructor(value = 1) {
    super(value);
  }
}

function reviver(Class: typeof Semaphore, tag: string) {
  return (data: SemaphoreData): Semaphore => {
    const max = data?.max;
    if (!Number.isInteger(max) || max < 0 || max > MAX_VALUE) throw new TypeError(`Invalid handle: ${tag}`);
    const memory: SemaphoreMemory = { block: reviveMemory(data, SEMAPHORE_WORDS, tag), max, bounded: Class === BoundedSemaphore };
    return new Class(...handOver(memory));
  };
}

registerShareable(TAG, reviver(Semaphore, TAG));
registerShareable(BOUNDED_TAG, reviver(BoundedSemaphore, BOUNDED_TAG));
