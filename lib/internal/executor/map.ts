/**
 * `Executor.map`'s iterator: submits chunks of the input as the consumer advances, and yields the
 * results in input order.
 *
 * Python's `Executor.map` submits the whole input at once, which cannot work for an endless or
 * huge iterable. Here the input is read lazily with a bounded read-ahead: at most `window` futures
 * are in flight ahead of the consumer, refilled each time one is consumed, so an endless generator
 * works and memory stays bounded. Reading starts at the call (as Python's eager submit does), and
 * the timeout counts from the call.
 *
 * Closing: when the consumer leaves the loop (break → `return()`), when a task fails, or when the
 * timeout passes, the futures still in flight — the one the timeout was waiting on included — are
 * cancelled (those not started are dropped) and the source iterator is closed (`return()`), as
 * Python's result iterator cancels its remaining futures.
 *
 * An error thrown by the source iterator, or by submitting an item (an argument that cannot be sent,
 * an executor shut down meanwhile), is thrown by this iterator at that item's position, after the
 * results before it.
 */
import { TimeoutError } from '../../errors';
import { deadlineFor, remaining } from '../shm/deadline';
import { describe } from '../validate';

/**
 * Items read ahead of the consumer, at most (but always at least two chunks per worker). Small
 * items are cheap to hold, and the queue they fill is what lets the executor send them in large
 * batches: with chunksize 100, a thousand-item read-ahead made batches of one or two chunks, and a
 * message round trip per 150 items capped `map` at about half a million items per second.
 */
const READ_AHEAD_ITEMS = 16_384;
/** Futures in flight, at most (the same bound, counted in tasks: with chunksize 1, each item is one). */
const READ_AHEAD_TASKS = 1024;

/** What `map` needs of an executor's Future. */
/** Said by an executor refusing a task that a map read ahead after shutdown (why a map can meet one). */
export const MAP_AFTER_SHUTDOWN_HINT = ' (map reads its input lazily, a bounded window ahead of the results: consume them before shutdown)';

export interface MapFuture {
  /** The value, waiting up to `timeout` ms; rejects with the task's error or a TimeoutError. */
  result(timeout?: number): Promise<unknown>;
  cancel(): boolean;
  done(): boolean;
}

/** A future that already failed with `error` (an item that could not be submitted). */
function failedFuture(error: unknown): MapFuture {
  return { result: () => Promise.reject(error), cancel: () => false, done: () => true };
}

export interface MapConfig<T> {
  readonly iterable: Iterable<T> | AsyncIterable<T>;
  readonly timeout: number | undefined;
  readonly chunksize: number;
  readonly maxWorkers: number;
  /** Submits one chunk (a single item when chunksize is 1); may throw. */
  readonly submitChunk: (values: T[]) => MapFuture;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

export class MapIterator<T, R> implements AsyncIterableIterator<R> {
  readonly #source: Iterator<T> | AsyncIterator<T>;
  readonly #isAsync: boolean;
  readonly #timeout: number | undefined;
  readonly #deadline: number;
  readonly #chunksize: number;
  /** Maximum number of in-flight futures. */
  readonly #window: number;
  readonly #submitChunk: (values: T[]) => MapFuture;
  /** Futures submitted and not yet consumed, in input order. */
  readonly #inflight: MapFuture[] = [];
  /** Values of the chunk being yielded, and the index of the next one. */
  #buffer: R[] = [];
  #bufferIndex = 0;
  /** Nothing more is read: the source ended or threw, or a submit failed. */
  #sourceDone = false;
  /** The source itself ended or threw (it needs no `return()`). */
  #sourceEnded = false;
  #sourceError: { error: unknown } | undefined;
  #closed = false;
  /** The pump in progress over an async source. */
  #pumping: Promise<void> | undefined;
  /** Wakes a `next()` waiting for the pump to submit something. */
  #signal: (() => void) | undefined;
  /** Serializes next()/return() calls made without awaiting the previous one: the last call's settling. */
  #chain: Promise<unknown> = Promise.resolve();
  /** Calls of next()/return() made and not yet settled. */
  #queued = 0;

  constructor(config: MapConfig<T>) {
    const { iterable } = config;
    if (iterable !== null && typeof iterable === 'object' || typeof iterable === 'string') {
      const asyncIt = (iterable as AsyncIterable<T>)[Symbol.asyncIterator];
      const syncIt = (iterable as Iterable<T>)[Symbol.iterator];
      if (typeof asyncIt === 'function') {
        this.#source = asyncIt.call(iterable);
        this.#isAsync = true;
      } else if (typeof syncIt === 'function') {
        this.#source = syncIt.call(iterable);
        this.#isAsync = false;
      } else {
        throw new TypeError(`Expected \`iterable\` to be an iterable or async iterable, got ${describe(iterable)}`);
      }
    } else {
      throw new TypeError(`Expected \`iterable\` to be an iterable or async iterable, got ${describe(iterable)}`);
    }
    this.#timeout = config.timeout;
    this.#deadline = deadlineFor(config.timeout);
    this.#chunksize = config.chunksize;
    this.#window = Math.max(2 * config.maxWorkers, Math.min(READ_AHEAD_TASKS, Math.ceil(READ_AHEAD_ITEMS / config.chunksize)));
    this.#submitChunk = config.submitChunk;
    void this.#pump();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R>> {
    // The common case, all but one item of each chunk: no call is waiting before this one and the
    // value is at hand, so the answer is known now. One settled promise per item, instead of a
    // link of the chain, an async call and its awaits (the bulk of the per-item cost of `for await`).
    if (this.#queued === 0 && this.#bufferIndex < this.#buffer.length) return Promise.resolve({ value: this.#takeBuffered(), done: false });
    return this.#serialized(() => this.#next());
  }

  return(): Promise<IteratorResult<R>> {
    return this.#serialized(async () => {
      await this.#close();
      return DONE;
    });
  }

  /** Runs `op` after every earlier next()/return() call has settled (at once when none is pending). */
  #serialized(op: () => Promise<IteratorResult<R>>): Promise<IteratorResult<R>> {
    const result = this.#queued === 0 ? op() : this.#chain.then(op);
    this.#queued++;
    // The chain must not hold the IteratorResult: that would keep the last yielded value alive.
    this.#chain = result.then(this.#settledOne, this.#settledOne);
    return result;
  }

  readonly #settledOne = (): void => {
    this.#queued--;
  };

  async #next(): Promise<IteratorResult<R>> {
    if (this.#closed) return DONE;
    if (this.#bufferIndex < this.#buffer.length) return { value: this.#takeBuffered(), done: false };
    while (this.#inflight.length === 0) {
      if (this.#sourceError !== undefined) {
        const { error } = this.#sourceError;
        await this.#close();
        throw error;
      }
      if (this.#sourceDone) {
        this.#closed = true;
        return DONE;
      }
      const signalled = new Promise<void>((resolve) => (this.#signal = resolve));
      void this.#pump();
      if (this.#inflight.length === 0 && !this.#sourceDone) await signalled;
    }
    const future = this.#inflight.shift()!;
    // Refill in bursts (below half the window, up to all of it): items submitted together are
    // dispatched together, in batches, instead of one by one as each result is consumed.
    if (this.#inflight.length <= this.#window >> 1) void this.#pump();
    let value: unknown;
    try {
      value = await future.result(remaining(this.#deadline));
    } catch (error) {
      // Our timeout, not a TimeoutError the task itself threw (its future would be done).
      const timedOut = error instanceof TimeoutError && !future.done();
      // The future waited on is no longer in #inflight: cancel it too (Python's _result_or_cancel).
      future.cancel();
      await this.#close();
      if (timedOut) throw new TimeoutError(`map results were not ready within ${this.#timeout} ms`);
      throw error;
    }
    if (this.#chunksize === 1) return { value: value as R, done: false };
    this.#buffer = value as R[];
    this.#bufferIndex = 0;
    return { value: this.#takeBuffered(), done: false };
  }

  /** The next value of the current chunk; the chunk forgets it (no reference to a yielded result is kept). */
  #takeBuffered(): R {
    const value = this.#buffer[this.#bufferIndex];
    this.#buffer[this.#bufferIndex++] = undefined as R;
    return value;
  }

  /** Reads and submits items until the window is full or the source ends. Never rejects. */
  #pump(): Promise<void> {
    if (!this.#isAsync) {
      this.#pumpSync();
      return Promise.resolve();
    }
    return (this.#pumping ??= this.#pumpAsync().finally(() => (this.#pumping = undefined)));
  }

  #pumpSync(): void {
    const source = this.#source as Iterator<T>;
    while (this.#wantsMore()) {
      const values: T[] = [];
      try {
        while (values.length < this.#chunksize) {
          const step = source.next();
          if (step.done) {
            this.#sourceDone = this.#sourceEnded = true;
            break;
          }
          values.push(step.value);
        }
      } catch (error) {
        this.#endSource(error);
      }
      this.#submit(values);
    }
    this.#wake();
  }

  async #pumpAsync(): Promise<void> {
    const source = this.#source as AsyncIterator<T>;
    while (this.#wantsMore()) {
      const values: T[] = [];
      try {
        while (values.length < this.#chunksize && !this.#closed) {
          const step = await source.next();
          if (step.done) {
            this.#sourceDone = this.#sourceEnded = true;
            break;
          }
          values.push(step.value);
        }
      } catch (error) {
        this.#endSource(error);
      }
      if (this.#closed) break;
      this.#submit(values);
      this.#wake();
    }
    this.#wake();
  }

  #wantsMore(): boolean {
    return !this.#closed && !this.#sourceDone && this.#inflight.length < this.#window;
  }

  #endSource(error: unknown): void {
    this.#sourceDone = this.#sourceEnded = true;
    this.#sourceError = { error };
  }

  #submit(values: T[]): void {
    if (values.length === 0) return;
    try {
      this.#inflight.push(this.#submitChunk(values));
    } catch (error) {
      // Thrown at this position, after the results before it; nothing after it is read.
      this.#inflight.push(failedFuture(error));
      this.#sourceDone = true;
    }
  }

  #wake(): void {
    const signal = this.#signal;
    this.#signal = undefined;
    signal?.();
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const future of this.#inflight) future.cancel();
    this.#inflight.length = 0;
    this.#buffer = [];
    this.#wake();
    if (this.#sourceEnded) return;
    try {
      const closing = this.#source.return?.();
      // An async source with a read in progress closes after that read (an async generator queues
      // return() behind its pending next()); waiting for it could hang on a stuck source.
      if (closing !== undefined && this.#pumping === undefined) await closing;
      else Promise.resolve(closing).catch(noop);
    } catch {
      // An error from closing the source is not the consumer's concern at this point.
    }
  }
}

function noop(): void {}
