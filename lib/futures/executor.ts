/**
 * Executor: the abstract base of ThreadPoolExecutor and ProcessPoolExecutor, as Python's
 * `concurrent.futures.Executor`.
 *
 * The base owns what every executor shares: argument and target encoding (a bad target or argument
 * is a TypeError from `submit`, and nothing is queued), the queue with Python-style cancellation
 * (`internal/executor/job-queue.ts`), `map` (chunks, timeout, lazy bounded read-ahead), and
 * shutdown. A subclass supplies the workers.
 *
 * ## Extension interface (what a subclass implements and calls)
 *
 * The work waits in `_jobs`, the base's {@link JobQueue} of {@link WorkItem}s. A pool of workers
 * hands it to the scheduling core (`new Scheduler(kind, this._jobs, …)`, as ThreadPoolExecutor and
 * ProcessPoolExecutor do), which takes, reports, requeues and breaks through it. An executor whose
 * workers are elsewhere may instead call the queue's methods through the protected ones below.
 *
 * Life of a work item: `submit()` encodes it and queues it (its future is PENDING and can be
 * cancelled). When work is waiting, the base calls the subclass's {@link Executor._onWork}; the
 * subclass, for each worker that can take work now, calls {@link Executor._takeBatch}`(max)`, which
 * removes up to `max` items from the queue and marks their futures RUNNING (cancelled ones are
 * dropped), sends them (`packBatch()` of `internal/executor/batch` gives the wire form; the worker
 * side runs it with `runItem()` of `internal/executor/run-item`), and reports back, for every item
 * it took, exactly one of:
 *
 * - {@link Executor._complete}`(item, outcome)` — the worker's `EncodedOutcome` (decoded here,
 *   once, and the future settled);
 * - {@link Executor._fail}`(item, error)` — any error of the main side's choosing, e.g.
 *   `this._brokenError('… died while running the task (exit code 3)')` for the item a dead worker
 *   was running, or a TypeError for a result that could not be sent back;
 * - {@link Executor._requeue}`(items)` — items a dead worker had not started: they go back to the
 *   front of the queue (still RUNNING, so they are not cancellable) and are handed out again.
 *
 * An initializer that throws is reported with {@link Executor._break}`(message, cause)`: the executor
 * becomes broken (queued futures fail with the Broken error whose cause is `cause`, `submit` throws
 * it); the subclass still reports the items it holds.
 *
 * Once `shutdown()` was called (or the executor broke) and every taken item has been reported,
 * the base calls {@link Executor._stopWorkers} exactly once; it must end every worker and resolve
 * when none is left (no thread, process or handle). `shutdown({ wait: true })` resolves after it.
 *
 * Constructor: `super({ maxWorkers, defaultMaxWorkers, initializer, initargs, crossProcess,
 * BrokenError })` validates and encodes the common options; the subclass reads `_maxWorkers` and
 * `_initializer` (`{ target, args }` encoded, or undefined).
 *
 * Invariant: every item taken is reported exactly once (complete, fail or requeue); the queue
 * counts items in flight by it, and shutdown waits for that count to reach 0.
 */
import { inspect } from 'node:util';
import { BrokenExecutorError, RuntimeError } from '../errors';
import type { Target } from '../target';
import { encodeArgs, type EncodedOutcome, type EncodedTarget } from '../internal/transport';
import { captureCallSite, type CallSite } from '../internal/transport/call-site';
import { encodeInitializer, TargetCache } from '../internal/executor/encoding';
import { JobQueue } from '../internal/executor/job-queue';
import type { Job } from '../internal/executor/batch';
import type { WireInitializer } from '../internal/executor/run-item';
import { MAP_AFTER_SHUTDOWN_HINT, MapIterator } from '../internal/executor/map';
import { booleanOption, checkTimeout, optionsObject, positiveInteger } from '../internal/validate';
import { CANCELLED_AND_NOTIFIED, Future, kNotifyOnCancel } from './future';

/** One submitted task, as the executor holds it: the job and the future its outcome settles. */
export interface WorkItem extends Job {
  readonly future: Future<any>;
}

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

/** Internal: runs a call that arrives already encoded and returns its outcome encoded (the distributed worker). */
export const kSubmitEncoded: unique symbol = Symbol('threadkit.Executor.submitEncoded') as never;

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
  readonly #crossProcess: boolean;
  readonly #BrokenError: new (message?: string, options?: ErrorOptions) => BrokenExecutorError;
  readonly #targets = new TargetCache();
  #shutdown = false;

  /** Maximum number of workers (validated positive integer). */
  protected readonly _maxWorkers: number;
  /** The encoded initializer and its arguments, run once by each worker before its first task. */
  protected readonly _initializer: WireInitializer | undefined;
  /** The queue of submitted work (see the extension interface above). */
  protected readonly _jobs: JobQueue<WorkItem>;

  protected constructor(config: ExecutorConfig) {
    this._maxWorkers = positiveInteger(config.maxWorkers, 'maxWorkers', config.defaultMaxWorkers);
    this.#crossProcess = config.crossProcess;
    this.#BrokenError = config.BrokenError;
    this._initializer = encodeInitializer(config.initializer, config.initargs, config.crossProcess);
    this._jobs = new JobQueue<WorkItem>({
      start: startItem,
      cancelled: (item) => item.future.cancelled(),
      settle: settleItem,
      onWork: () => this._onWork(),
      stopWorkers: () => this._stopWorkers(),
      brokenError: (message, cause) => this._brokenError(message, cause),
    });
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
    return this.#enqueue(target, encodeArgs(args, { crossProcess: this.#crossProcess }), false, captureCallSite('task submitted', Executor.prototype.submit, target));
  }

  /**
   * {@link submit} of a call that is already in wire form, for the distributed worker: `target`
   * and `args` as another machine's executor encoded them (and this machine checked and read them
   * back), and a future that settles with the outcome record as the worker thread or process
   * encoded it — a task's error included, as `{ ok: false, error }` — ready to be signed and sent
   * back. Nothing is encoded or decoded twice on the way, and the task's own function is the
   * pool's target, so the pool sends it once and learns its speed (a `map` chunk is `chunk`).
   * No call site is recorded: the caller's site is on the machine that submitted the task.
   * @throws RuntimeError after `shutdown`; the Broken error of a broken executor
   */
  [kSubmitEncoded](target: EncodedTarget, args: unknown[], chunk: boolean): Future<EncodedOutcome> {
    this.#checkOpen();
    const future = new Future<EncodedOutcome>()[kNotifyOnCancel]();
    this._jobs.push({ future, target, args, chunk, encodedOutcome: true });
    return future;
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
    const site = captureCallSite('task submitted', Executor.prototype.map, target);
    return new MapIterator<T, Awaited<R>>({
      iterable,
      timeout,
      chunksize,
      maxWorkers: this._maxWorkers,
      // With chunksize 1 each task is a plain call (no result array to unpack).
      submitChunk: (values) => {
        this.#checkOpen(MAP_AFTER_SHUTDOWN_HINT);
        return this.#enqueue(target, encodeArgs(values, { crossProcess }), chunksize > 1, site);
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
      this._jobs.flush();
      // Items put back after a worker died are RUNNING and cannot be cancelled: they stay queued.
      this._jobs.cancelQueued((item) => item.future.cancel());
    }
    this.#shutdown = true;
    const stopped = this._jobs.close();
    if (wait) await stopped;
  }

  /** `await using executor = …`: `shutdown({ wait: true })`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  [inspect.custom](): string {
    const state = this._jobs.brokenError() !== undefined ? ' broken' : this.#shutdown ? ' shutdown' : '';
    return `<${this.constructor.name}${state} maxWorkers=${this._maxWorkers} pending=${this._jobs.size} running=${this._jobs.inFlight}${this._inspectWorkers()}>`;
  }

  // ───────────────────────────── extension interface ─────────────────────────────

  /**
   * Called (at most once per microtask) when work is waiting in the queue and the executor is not
   * broken. Take work for every worker that can run it now.
   */
  protected abstract _onWork(): void;

  /**
   * Called once, after shutdown (or breakage) when every taken item has been reported: end every
   * worker and resolve when none is left.
   */
  protected abstract _stopWorkers(): Promise<void>;

  /** What `inspect` adds about the workers, e.g. ` batching` while the work runs fast. */
  protected _inspectWorkers(): string {
    return '';
  }

  /**
   * Removes up to `max` items from the front of the queue and marks their futures RUNNING
   * (cancelled items are dropped and do not count). Empty when nothing is queued or the executor
   * is broken. How many a worker takes is the caller's decision (the scheduling core's, for pools).
   */
  protected _takeBatch(max: number): WorkItem[] {
    return this._jobs.take(max);
  }

  /** Number of queued items (cancelled ones included until they are dropped). */
  protected _pendingCount(): number {
    return this._jobs.size;
  }

  /** Number of items taken and not yet reported. */
  protected _inFlightCount(): number {
    return this._jobs.inFlight;
  }

  /** True once the executor is broken (`_break` was called). */
  protected _isBroken(): boolean {
    return this._jobs.brokenError() !== undefined;
  }

  /** Settles a taken item from the worker's outcome (decoding the value or error in this realm). */
  protected _complete(item: WorkItem, outcome: EncodedOutcome): void {
    this._jobs.complete(item, outcome);
  }

  /** Fails a taken item with `error`. */
  protected _fail(item: WorkItem, error: unknown): void {
    this._jobs.fail(item, error);
  }

  /** Puts taken items that never started back at the front of the queue, in order. */
  protected _requeue(items: readonly WorkItem[]): void {
    this._jobs.requeue(items);
  }

  /** Marks the executor broken and fails every queued task with the Broken error, whose cause is `cause`. */
  protected _break(message: string, cause?: unknown): void {
    this._jobs.break(message, cause);
  }

  /** The executor's Broken error class with `message` (and `cause`, e.g. the initializer's error). */
  protected _brokenError(message: string, cause?: unknown): BrokenExecutorError {
    return cause === undefined ? new this.#BrokenError(message) : new this.#BrokenError(message, { cause });
  }

  // ───────────────────────────── internals ─────────────────────────────

  #checkOpen(hint = ''): void {
    const broken = this._jobs.brokenError();
    if (broken !== undefined) throw broken;
    if (this.#shutdown) throw new RuntimeError(`cannot schedule new futures after shutdown${hint}`);
  }

  #enqueue(target: EncodedTarget, args: unknown[], chunk: boolean, site: CallSite | undefined): Future<any> {
    const future = new Future<any>()[kNotifyOnCancel]();
    this._jobs.push({ future, target, args, chunk, site });
    return future;
  }
}

/**
 * The queue's `start`: a PENDING item starts now (RUNNING); an item a dead worker put back is
 * already RUNNING and runs again; a cancelled one is dropped (its cancellation notified), and so
 * is one that is somehow already done.
 */
function startItem(item: WorkItem): boolean {
  const future = item.future;
  if (future.running()) return true;
  if (future.done() && !future.cancelled()) return false;
  return future._state !== CANCELLED_AND_NOTIFIED && future.setRunningOrNotifyCancel();
}

/** The queue's `settle`: the first report wins (a future failed by a broken executor stays failed). */
function settleItem(item: WorkItem, ok: boolean, value: unknown): void {
  const future = item.future;
  if (future.done()) return;
  if (ok) future.setResult(value);
  else future.setException(value);
}
