/**
 * Executor: the abstract base of ThreadPoolExecutor and ProcessPoolExecutor, as Python's
 * `concurrent.futures.Executor`.
 *
 * The base owns everything both executors share: argument and target encoding (a bad target or
 * argument is a TypeError from `submit`, and nothing is queued), the pending queue with
 * Python-style cancellation, batch sizing, `map` (chunks, timeout, lazy bounded read-ahead), and
 * the shutdown and broken-pool logic. A subclass supplies only the worker transport.
 *
 * ## Extension interface (what a subclass implements and calls)
 *
 * Life of a work item: `submit()` encodes it and puts it in the base's pending queue (its future is
 * PENDING and can be cancelled). When work is waiting, the base calls the subclass's
 * {@link Executor._onWork}; the subclass, for each worker that can take work now (starting
 * workers lazily, at most `_maxWorkers`), calls {@link Executor._takeBatch}, which removes a batch
 * of items from the queue and marks their futures RUNNING (cancelled ones are dropped). It sends
 * the batch (`packBatch()` from `internal/executor/work-item` gives the wire form; the worker side
 * runs it with `runItem()` from `internal/executor/run-item`), and reports back, for every item it
 * took, exactly one of:
 *
 * - {@link Executor._complete}`(item, outcome)` — the worker's `EncodedOutcome` (the base decodes
 *   the value or error and settles the future);
 * - {@link Executor._fail}`(item, error)` — any error of the main side's choosing, e.g.
 *   `this._brokenError('… died while running the task (exit code 3)')` for the item a dead worker
 *   was running, or a TypeError for a result that could not be sent back;
 * - {@link Executor._requeue}`(items)` — items a dead worker had not started: they go back to the
 *   front of the queue (still RUNNING, so they are not cancellable) and are handed out again.
 *
 * After reporting, when a worker is free again the subclass calls `_takeBatch()` again itself (the
 * base only calls `_onWork` when new work arrives). An initializer that throws is reported with
 * {@link Executor._break}`(message, cause?)`: the executor becomes broken (pending futures fail with the
 * Broken error, `submit` throws it); the subclass still reports the items it holds (usually
 * `_fail(item, this._brokenError(message))`).
 *
 * Once `shutdown()` was called (or the executor broke) and every taken item has been reported,
 * the base calls {@link Executor._stopWorkers} exactly once; it must end every worker and resolve
 * when none is left (no thread, process or handle). `shutdown({ wait: true })` resolves after it.
 *
 * Constructor: `super({ maxWorkers, defaultMaxWorkers, initializer, initargs, crossProcess,
 * BrokenError })` validates and encodes the common options; the subclass reads `_maxWorkers` and
 * `_initializer` (`{ target, args }` encoded, or undefined). State queries for the subclass:
 * `_pendingCount()`, `_inFlightCount()`, `_isShutdown()`, `_isBroken()`.
 *
 * Invariant: every item `_takeBatch` returned is reported exactly once (complete, fail or
 * requeue); the base counts items in flight by it, and shutdown waits for that count to reach 0.
 */
import { inspect } from 'node:util';
import { BrokenExecutorError, RuntimeError } from '../errors';
import type { Target } from '../target';
import { encodeArgs, type EncodedOutcome, type EncodedTarget } from '../internal/transport';
import { decodeOutcome, encodeInitializer, TargetCache } from '../internal/executor/encoding';
import { PendingQueue } from '../internal/executor/pending-queue';
import type { WorkItem } from '../internal/executor/work-item';
import type { WireInitializer } from '../internal/executor/run-item';
import { MapIterator } from '../internal/executor/map';
import { booleanOption, checkTimeout, optionsObject, positiveInteger } from '../internal/validate';
import { CANCELLED, Future, kNotifyOnCancel } from './future';

export type { WorkItem } from '../internal/executor/work-item';

/** Options of {@link Executor.map}. */
export interface MapOptions {
  /**
   * Milliseconds, counted from the call of `map`, within which every result must be ready;
   * the iterator throws TimeoutError at the first result that is not.
   * @default undefined (no limit)
   */
  timeout?: number;
  /**
   * Number of items sent to a worker as one task (one call per item, one message per chunk).
   * Large chunks cut the per-task cost of many small items.
   * @default 1
   */
  chunksize?: number;
}

/** Options of {@link Executor.shutdown}. */
export interface ShutdownOptions {
  /**
   * Resolve only after every running and pending task has finished and every worker has ended.
   * @default true
   */
  wait?: boolean;
  /**
   * Cancel every task that no worker has started yet.
   * @default false
   */
  cancelFutures?: boolean;
}

/** What a subclass passes to the base constructor. */
export interface ExecutorConfig {
  /** The user's `maxWorkers` option, unvalidated. */
  readonly maxWorkers: unknown;
  /** Used when `maxWorkers` is undefined. */
  readonly defaultMaxWorkers: number;
  readonly initializer?: unknown;
  readonly initargs?: unknown;
  /** True when workers are other processes: threading objects cannot be sent (TypeError). */
  readonly crossProcess: boolean;
  /** The error class of a dead worker or failed initializer. */
  readonly BrokenError: new (message?: string, options?: ErrorOptions) => BrokenExecutorError;
}

/** Upper bound of a batch taken by `_takeBatch()` without an explicit limit. */
export const DEFAULT_BATCH_LIMIT = 256;

/**
 * A batch takes 1/(4 × maxWorkers) of the queue: with many small tasks batches stay large (one
 * message per batch), while with few tasks most of them stay queued, where they can be cancelled
 * and go to whichever worker frees up first.
 */
const BATCH_SHARE_DIVISOR = 4;

/**
 * Runs tasks on a pool of workers and returns a {@link Future} for each.
 *
 * `submit` schedules one call; `map` runs a function over an iterable (sync or async, read lazily
 * with bounded read-ahead) and yields the results in input order. A task waits in the executor's
 * own queue until a worker is free, and can be cancelled until then. `shutdown` refuses new tasks,
 * lets the queued ones finish (or cancels them with `cancelFutures`), and ends every worker;
 * `await using executor = …` calls it for you.
 *
 * @example
 * await using executor = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const squares = executor.map((x: number) => x * x, [1, 2, 3]);
 * for await (const value of squares) console.log(value);   // 1, 4, 9
 *
 * @throws TypeError from `submit`/`map` for a target or argument that cannot be sent;
 *   RuntimeError after `shutdown`; the executor's BrokenExecutorError subclass once it is broken.
 */
export abstract class Executor {
  /** Tasks no worker has taken yet. */
  readonly #pending = new PendingQueue();
  /** Items taken by `_takeBatch` and not yet reported. Invariant: ≥ 0. */
  #inFlight = 0;
  #scheduled = false;
  #shutdown = false;
  /** The broken message once an initializer failed. */
  #broken: string | undefined;
  #brokenCause: unknown;
  /** Set once `_stopWorkers` has been called. */
  #stopped: Promise<void> | undefined;
  #resolveStopped: (() => void) | undefined;
  #rejectStopped: ((error: unknown) => void) | undefined;
  readonly #whenStopped: Promise<void>;
  readonly #crossProcess: boolean;
  readonly #BrokenError: new (message?: string, options?: ErrorOptions) => BrokenExecutorError;
  readonly #targets = new TargetCache();

  /** Maximum number of workers (validated positive integer). */
  protected readonly _maxWorkers: number;
  /** The encoded initializer and its arguments, run once by each worker before its first task. */
  protected readonly _initializer: WireInitializer | undefined;

  protected constructor(config: ExecutorConfig) {
    this._maxWorkers = positiveInteger(config.maxWorkers, 'maxWorkers', config.defaultMaxWorkers);
    this.#crossProcess = config.crossProcess;
    this.#BrokenError = config.BrokenError;
    this._initializer = encodeInitializer(config.initializer, config.initargs, config.crossProcess);
    this.#whenStopped = new Promise<void>((resolve, reject) => {
      this.#resolveStopped = resolve;
      this.#rejectStopped = reject;
    });
    // shutdown({ wait: false }) never awaits it: a failure there must not be an unhandled rejection.
    this.#whenStopped.catch(() => {});
  }

  /**
   * Schedules `fn(...args)` on a worker.
   * @returns a Future for its result
   * @throws TypeError when `fn` is not a target or an argument cannot be sent (nothing is queued);
   *   RuntimeError after `shutdown`; the Broken error of a broken executor.
   */
  submit<A extends unknown[], R>(fn: Target<A, R>, ...args: A): Future<Awaited<R>> {
    this.#checkOpen();
    const target = this.#targets.encode(fn);
    return this.#enqueue(target, encodeArgs(args, { crossProcess: this.#crossProcess }), false);
  }

  /**
   * Runs `fn` over every item of `iterable` and yields the results in input order.
   *
   * The iterable (sync or async) is read lazily: only a bounded number of items are in flight
   * ahead of the consumer, so an endless generator works. The first task error is thrown by the
   * iterator; leaving the loop early (break, throw) cancels the tasks not started yet.
   * @throws (synchronously) TypeError for a bad target or iterable; ValueError (a RangeError) for
   *   `chunksize < 1`; RangeError for a bad timeout; RuntimeError after shutdown. The iterator
   *   throws TimeoutError when a result is not ready `timeout` ms after the call, and RuntimeError
   *   at the first item it could not submit because the executor was shut down meanwhile.
   */
  map<T, R>(fn: Target<[T], R>, iterable: Iterable<T> | AsyncIterable<T>, options?: MapOptions): AsyncIterable<Awaited<R>> {
    const { timeout, chunksize: rawChunksize } = optionsObject(options);
    checkTimeout(timeout);
    const chunksize = positiveInteger(rawChunksize, 'chunksize', 1);
    this.#checkOpen();
    const target = this.#targets.encode(fn);
    const crossProcess = this.#crossProcess;
    return new MapIterator<T, Awaited<R>>({
      iterable,
      timeout,
      chunksize,
      maxWorkers: this._maxWorkers,
      // With chunksize 1 each task is a plain call (no result array to unpack).
      submitChunk: (values) => {
        this.#checkOpen(' (map reads its input lazily, a bounded window ahead of the results: consume them before shutdown)');
        return this.#enqueue(target, encodeArgs(values, { crossProcess }), chunksize > 1);
      },
    });
  }

  /**
   * Refuses new tasks and ends the workers once the queued and running tasks are done.
   * Safe to call more than once.
   * @param options.wait resolve only when everything has finished and every worker has ended
   * @param options.cancelFutures cancel the tasks that no worker has started yet
   */
  async shutdown(options?: ShutdownOptions): Promise<void> {
    const opts = optionsObject(options);
    const wait = booleanOption(opts.wait, 'wait', true);
    const cancelFutures = booleanOption(opts.cancelFutures, 'cancelFutures', false);
    if (cancelFutures) {
      // Python's workers take queued work as soon as it is submitted; ours get it at the end of the
      // current synchronous stretch. Hand it out now, so that `shutdown({ cancelFutures: true })`
      // right after a burst of submits still runs the tasks free workers would have started
      // (CPython test_cancel_futures: some cancelled, some finished).
      if (this.#broken === undefined && this.#pending.size > 0) this._onWork();
      // Items put back after a worker died are RUNNING and cannot be cancelled: they stay queued.
      const keep: WorkItem[] = [];
      for (const item of this.#pending.drain()) {
        if (!item.future.cancel()) keep.push(item);
        else notifyCancelled(item);
      }
      this.#pending.unshift(keep);
    }
    this.#shutdown = true;
    this.#maybeStop();
    if (wait) await this.#whenStopped;
  }

  /** `await using executor = …`: `shutdown({ wait: true })`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  [inspect.custom](): string {
    const state = this.#broken !== undefined ? ' broken' : this.#shutdown ? ' shutdown' : '';
    return `<${this.constructor.name}${state} maxWorkers=${this._maxWorkers} pending=${this.#pending.size} running=${this.#inFlight}>`;
  }

  // ───────────────────────────── extension interface ─────────────────────────────

  /**
   * Called (at most once per microtask) when work is waiting in the queue and the executor is not
   * broken. Take work with `_takeBatch()` for every worker that can run it now.
   */
  protected abstract _onWork(): void;

  /**
   * Called once, after shutdown (or breakage) when every taken item has been reported: end every
   * worker and resolve when none is left.
   */
  protected abstract _stopWorkers(): Promise<void>;

  /**
   * Removes a batch from the front of the queue for one worker and marks its futures RUNNING.
   * The size is a fair share of the queue (`ceil(queued / (4 × maxWorkers))`, so idle workers get
   * work too and `cancelFutures` still finds most tasks queued), between 1 and `limit`. Empty when nothing is queued or the
   * executor is broken.
   */
  protected _takeBatch(limit = DEFAULT_BATCH_LIMIT): WorkItem[] {
    if (this.#broken !== undefined || this.#pending.size === 0) return [];
    const share = Math.ceil(this.#pending.size / (BATCH_SHARE_DIVISOR * this._maxWorkers));
    const items = this.#pending.take(Math.max(1, Math.min(limit, share)));
    this.#inFlight += items.length;
    if (items.length === 0) this.#maybeStop();
    return items;
  }

  /** Number of queued items (cancelled ones included until they are dropped). */
  protected _pendingCount(): number {
    return this.#pending.size;
  }

  /** Number of items taken and not yet reported. */
  protected _inFlightCount(): number {
    return this.#inFlight;
  }

  /** True once the executor is broken (`_break` was called). */
  protected _isBroken(): boolean {
    return this.#broken !== undefined;
  }

  /** True once `shutdown()` was called. */
  protected _isShutdown(): boolean {
    return this.#shutdown;
  }

  /** Settles a taken item from the worker's outcome (decoding the value or error in this realm). */
  protected _complete(item: WorkItem, outcome: EncodedOutcome): void {
    const { ok, value } = decodeOutcome(outcome);
    this.#settle(item, ok, value);
  }

  /** Fails a taken item with `error`. */
  protected _fail(item: WorkItem, error: unknown): void {
    this.#settle(item, false, error);
  }

  /** Puts taken items that never started back at the front of the queue, in order. */
  protected _requeue(items: readonly WorkItem[]): void {
    if (items.length === 0) return;
    this.#inFlight -= items.length;
    if (this.#broken !== undefined) {
      for (const item of items) if (!item.future.done()) item.future.setException(this._brokenError(this.#broken, this.#brokenCause));
      this.#maybeStop();
      return;
    }
    this.#pending.unshift(items);
    this.#schedule();
  }

  /** Marks the executor broken (an initializer failed) and fails every queued task. */
  protected _break(message: string, cause?: unknown): void {
    if (this.#broken !== undefined) return;
    this.#broken = message;
    this.#brokenCause = cause;
    for (const item of this.#pending.drain()) {
      if (!item.future.done()) item.future.setException(this._brokenError(message, cause));
    }
    this.#maybeStop();
  }

  /** The executor's Broken error class with `message` (and `cause`, e.g. the initializer's error). */
  protected _brokenError(message: string, cause?: unknown): BrokenExecutorError {
    return cause === undefined ? new this.#BrokenError(message) : new this.#BrokenError(message, { cause });
  }

  // ───────────────────────────── internals ─────────────────────────────

  #checkOpen(hint = ''): void {
    if (this.#broken !== undefined) throw this._brokenError(this.#broken, this.#brokenCause);
    if (this.#shutdown) throw new RuntimeError(`cannot schedule new futures after shutdown${hint}`);
  }

  #enqueue(target: EncodedTarget, args: unknown[], chunk: boolean): Future<any> {
    const future = new Future<any>()[kNotifyOnCancel]();
    this.#pending.push({ future, target, args, chunk });
    this.#schedule();
    return future;
  }

  /** Calls `_onWork` once in the next microtask: a burst of `submit`s becomes one dispatch. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#broken === undefined && this.#pending.size > 0) this._onWork();
    });
  }

  #settle(item: WorkItem, ok: boolean, value: unknown): void {
    this.#inFlight--;
    const future = item.future;
    // A future can already be done if a subclass reports an item twice; the first report wins.
    if (!future.done()) {
      if (ok) future.setResult(value);
      else future.setException(value);
    }
    if (this.#inFlight === 0) this.#maybeStop();
  }

  /** After shutdown or breakage, stops the workers once nothing taken or runnable is left. */
  #maybeStop(): void {
    if (this.#stopped !== undefined || (!this.#shutdown && this.#broken === undefined)) return;
    if (this.#inFlight !== 0 || !this.#pending.onlyCancelled()) return;
    this.#pending.drain().forEach(notifyCancelled);
    this.#stopped = Promise.resolve()
      .then(() => this._stopWorkers())
      .then(this.#resolveStopped, this.#rejectStopped);
  }
}

/** Records that the executor saw a cancelled item's cancellation (CANCELLED → CANCELLED_AND_NOTIFIED). */
function notifyCancelled(item: WorkItem): void {
  if (item.future._state === CANCELLED) item.future.setRunningOrNotifyCancel();
}
