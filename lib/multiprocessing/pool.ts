/**
 * Pool: Python's `multiprocessing.Pool` over forked Node.js children, on the machinery of
 * ProcessPoolExecutor: the same queue (`internal/executor/job-queue.ts`), scheduling core
 * (`internal/executor/scheduler.ts`) and children (`internal/process-pool/process-lanes.ts`).
 */
import { inspect } from 'node:util';
import { BrokenProcessPoolError, RuntimeError } from '../errors';
import type { Target, TargetArgs } from '../target';
import { encodeArgs, type EncodedTarget } from '../internal/transport';
import { captureCallSite, type CallSite } from '../internal/transport/call-site';
import { encodeInitializer, TargetCache } from '../internal/executor/encoding';
import { JobQueue } from '../internal/executor/job-queue';
import { Scheduler } from '../internal/executor/scheduler';
import type { Job } from '../internal/executor/batch';
import { describe, optionsObject, positiveInteger, stringArray } from '../internal/validate';
import { ProcessLanes } from '../internal/process-pool/process-lanes';
import { AsyncResult, kSettle, type AsyncResultCallbacks } from './async-result';
import { cpuCount } from './cpu-count';

/** Options of {@link Pool}. */
export interface PoolOptions {
  /** Runs once in each child before its first task; if it throws, the pool is broken. @default undefined */
  initializer?: Target;
  /** Arguments of `initializer`. @default [] */
  initargs?: unknown[];
  /**
   * Tasks a child runs before it is replaced by a fresh one; a chunk counts as one task.
   * @default undefined (children live until the pool ends)
   */
  maxtasksperchild?: number;
  /** Extra Node.js flags for the children (not in Python's API). @default [] */
  execArgv?: string[];
}

/** Options of {@link Pool.mapAsync} and {@link Pool.starmapAsync}. */
export interface MapAsyncOptions<R> extends AsyncResultCallbacks<R[]> {
  /**
   * Items sent to a child as one task.
   * @default about a quarter of the items per child, as Python
   */
  chunksize?: number;
}

/** A queued unit of work: one call, or a chunk of calls, and what to do with its outcome. */
interface PoolTask extends Job {
  settle(ok: boolean, value: unknown): void;
  /** Where it was submitted: shown under the stack of an error it throws. */
  readonly site: CallSite;
}

type PoolState = 'run' | 'close' | 'terminate';

/**
 * One item of a starmap input: the target's argument list, as a tuple that fits its parameters or
 * as an array of its parameter types (`number[][]` for `(a: number, b: number) => …`).
 */
type StarItem<A extends any[]> = NoInfer<A | A[number][]>;

/**
 * A pool of child processes that runs functions for you: Python's `multiprocessing.Pool`.
 *
 * `apply`/`map`/`starmap` wait for the result; their `Async` forms return an {@link AsyncResult}
 * at once; `imap`/`imapUnordered` yield results as they come. Long inputs are cut into chunks (one
 * task per chunk) to save messages. Tasks are functions sent by source or `fromModule` references;
 * arguments and results are structured-cloned. A child that dies mid-task fails only that task (with
 * BrokenProcessPoolError), is replaced, and everything else completes — unlike Python, where such a
 * pool hangs. `close()` lets queued work finish and then ends the children; `terminate()` kills them
 * at once and fails what is unfinished; `join()` waits for the children after either. Children start
 * lazily and an idle pool does not keep the process alive; `await using pool = new Pool()` terminates
 * it at the end of the block (as Python's `with Pool()`).
 *
 * @example
 * await using pool = new Pool(2);
 * console.log(await pool.map((x: number) => x * x, [1, 2, 3]));        // [1, 4, 9]
 * const r = pool.applyAsync((a: number, b: number) => a + b, [1, 2]);
 * console.log(await r.get(1000));                                        // 3
 * pool.close();
 * await pool.join();
 *
 * @throws ValueError (a RangeError) for `processes`, `maxtasksperchild` or `chunksize` below 1, and
 *   TypeError when they are not numbers; TypeError for a target or argument that cannot be sent;
 *   RuntimeError "Pool not running" after `close()`/`terminate()`, and from `join()` before them;
 *   BrokenProcessPoolError once an initializer failed.
 */
export class Pool {
  #state: PoolState = 'run';
  readonly #processes: number;
  readonly #queue: JobQueue<PoolTask>;
  readonly #scheduler: Scheduler<PoolTask>;
  /** Resolves when every child has exited, once close() or terminate() started the end. */
  #ended: Promise<void> | undefined;
  readonly #targets = new TargetCache();

  /**
   * @param processes number of child processes
   * @default processes cpuCount()
   */
  constructor(processes?: number, options?: PoolOptions) {
    this.#processes = positiveInteger(processes, 'processes', cpuCount());
    const opts = optionsObject(options);
    const maxTasksPerChild = opts.maxtasksperchild === undefined ? undefined : positiveInteger(opts.maxtasksperchild, 'maxtasksperchild', 1);
    const initializer = encodeInitializer(opts.initializer, opts.initargs, true);
    const execArgv = stringArray(opts.execArgv, 'execArgv');
    this.#queue = new JobQueue<PoolTask>({
      start: () => true,
      cancelled: () => false,
      settle: (task, ok, value) => task.settle(ok, value),
      onWork: () => this.#scheduler.dispatch(),
      stopWorkers: () => this.#scheduler.shutdown(),
      brokenError: (message, cause) => new BrokenProcessPoolError(message, cause === undefined ? undefined : { cause }),
    });
    const lanes = new ProcessLanes<PoolTask>({ initializer, execArgv, label: 'Pool' });
    this.#scheduler = new Scheduler(lanes, this.#queue, { maxWorkers: this.#processes, maxTasksPerWorker: maxTasksPerChild });
  }

  /** Runs `fn(...args)` in a child and resolves with its result. */
  async apply<R = unknown, A extends any[] = any[]>(fn: Target<A, R | PromiseLike<R>>, ...args: TargetArgs<A>): Promise<R> {
    return this.applyAsync<R>(fn as Target<any[], R>, (args as unknown[][])[0]).get();
  }

  /**
   * Runs `fn(...args)` in a child.
   * @returns an AsyncResult for its result; `callback`/`errorCallback` run once when it is ready
   */
  applyAsync<R = unknown, A extends any[] = any[]>(fn: Target<A, R | PromiseLike<R>>, ...rest: [...TargetArgs<A>, options?: AsyncResultCallbacks<R>]): AsyncResult<R>;
  applyAsync<R>(fn: Target, args: unknown[] = [], options?: AsyncResultCallbacks<R>): AsyncResult<R> {
    this.#checkRunning();
    const target = this.#targets.encode(fn);
    if (!Array.isArray(args)) throw new TypeError(`Expected \`args\` to be an array, got ${describe(args)}`);
    const encoded = encodeArgs(args, { crossProcess: true });
    const result = new AsyncResult<R>(callbacksOption(options));
    const site = captureCallSite('task submitted', Pool.prototype.applyAsync, target);
    this.#push({ target, args: encoded, chunk: false, site, settle: (ok, value) => result[kSettle](ok, value) });
    return result;
  }

  /** Applies `fn` to every item (in chunks) and resolves with the results in order. */
  async map<T, R>(fn: Target<[T], R | PromiseLike<R>>, iterable: Iterable<T>, chunksize?: number): Promise<R[]> {
    return this.mapAsync(fn, iterable, { chunksize }).get();
  }

  /** The async form of {@link Pool.map}: an AsyncResult for the array of results. */
  mapAsync<T, R>(fn: Target<[T], R | PromiseLike<R>>, iterable: Iterable<T>, options?: MapAsyncOptions<R>): AsyncResult<R[]> {
    return this.#mapAsync<R>(fn, iterable, optionsObject(options), false, Pool.prototype.mapAsync);
  }

  /** As {@link Pool.map}, with each item an argument list: `fn(...item)`. */
  async starmap<R = unknown, A extends any[] = any[]>(fn: Target<A, R | PromiseLike<R>>, iterable: Iterable<StarItem<A>>, chunksize?: number): Promise<R[]> {
    return this.starmapAsync<R>(fn as Target<any[], R>, iterable, { chunksize }).get();
  }

  /** The async form of {@link Pool.starmap}. */
  starmapAsync<R = unknown, A extends any[] = any[]>(fn: Target<A, R | PromiseLike<R>>, iterable: Iterable<StarItem<A>>, options?: MapAsyncOptions<R>): AsyncResult<R[]> {
    return this.#mapAsync<R>(fn, iterable, optionsObject(options), true, Pool.prototype.starmapAsync);
  }

  /**
   * Applies `fn` to every item and yields the results in input order, each as soon as it and those
   * before it are ready. The whole input is read at the call (as Python's task handler does), so an
   * endless iterator never returns: use ProcessPoolExecutor's `map` for lazy input. A task error is
   * thrown at its position (later positions can still be read); an error of the input iterator is
   * thrown after the results of the whole chunks read before it (the chunk it broke is not run).
   */
  imap<T, R>(fn: Target<[T], R | PromiseLike<R>>, iterable: Iterable<T>, chunksize = 1): AsyncIterable<R> {
    return this.#imap<R>(fn, iterable, chunksize, true, Pool.prototype.imap);
  }

  /** As {@link Pool.imap}, yielding each result as soon as it is ready, in any order. */
  imapUnordered<T, R>(fn: Target<[T], R | PromiseLike<R>>, iterable: Iterable<T>, chunksize = 1): AsyncIterable<R> {
    return this.#imap<R>(fn, iterable, chunksize, false, Pool.prototype.imapUnordered);
  }

  /** Refuses new work; the children end once the queued work is done. */
  close(): void {
    if (this.#state !== 'run') return;
    this.#state = 'close';
    this.#ended = this.#queue.close();
  }

  /**
   * Kills every child at once; every unfinished call fails with RuntimeError. Resolves once the
   * children have exited and been reaped.
   */
  terminate(): Promise<void> {
    if (this.#state !== 'terminate') {
      this.#state = 'terminate';
      const reason = new RuntimeError('pool was terminated before the task finished');
      this.#queue.failQueued(reason);
      this.#scheduler.terminate(reason);
      this.#ended = this.#queue.close();
    }
    return this.#ended!;
  }

  /**
   * Waits for every child to end, after `close()` or `terminate()`.
   * @throws (rejects) RuntimeError when the pool is still running
   */
  async join(): Promise<void> {
    if (this.#state === 'run') throw new RuntimeError('cannot join a running Pool: call close() or terminate() first');
    await this.#ended;
  }

  /** `await using pool = …`: `terminate()`, as Python's `with Pool()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.terminate();
  }

  [inspect.custom](): string {
    return `<Pool state=${this.#state} processes=${this.#processes} pending=${this.#queue.size} running=${this.#queue.inFlight}${this.#scheduler.batching ? ' batching' : ''}>`;
  }

  // ─────────────────────────────── internals ───────────────────────────────

  #checkRunning(): void {
    if (this.#state !== 'run') throw new RuntimeError('Pool not running');
    const broken = this.#queue.brokenError();
    if (broken !== undefined) throw broken;
  }

  #push(task: PoolTask): void {
    this.#queue.push(task);
  }

  /**
   * Cuts `items` into tasks of `chunksize` (one call each when 1) and queues them;
   * `onChunk(start, ok, values | error)` reports each chunk, `start` being its first item's index.
   */
  #submitChunks(target: EncodedTarget, items: unknown[], chunksize: number, star: boolean, site: CallSite,
                onChunk: (start: number, ok: boolean, value: unknown) => void): void {
    // Encode everything first: an item that cannot be sent is a TypeError and nothing is queued.
    const tasks: PoolTask[] = [];
    for (let start = 0; start < items.length; start += chunksize) {
      const slice = items.slice(start, start + chunksize);
      if (chunksize === 1) {
        const args = star ? encodeArgs(starArgs(slice[0], start), { crossProcess: true }) : encodeArgs(slice, { crossProcess: true });
        tasks.push({ target, args, chunk: false, site, settle: (ok, value) => onChunk(start, ok, ok ? [value] : value) });
      } else {
        const args = encodeArgs(star ? slice.map((item, i) => starArgs(item, start + i)) : slice, { crossProcess: true });
        tasks.push({ target, args, chunk: true, star, site, settle: (ok, value) => onChunk(start, ok, value) });
      }
    }
    this.#queue.pushAll(tasks);
  }

  #mapAsync<R>(fn: Target, iterable: Iterable<unknown>, options: Partial<MapAsyncOptions<R>>, star: boolean, method: Function): AsyncResult<R[]> {
    this.#checkRunning();
    const target = this.#targets.encode(fn);
    const site = captureCallSite('task submitted', method, target);
    const items = itemsOf(iterable);
    const chunksize = options.chunksize === undefined
      ? Math.max(1, Math.ceil(items.length / (this.#processes * 4)))
      : positiveInteger(options.chunksize, 'chunksize', 1);
    const result = new AsyncResult<R[]>(callbacksOption(options));
    const values = new Array<R>(items.length);
    let left = Math.ceil(items.length / chunksize);
    this.#submitChunks(target, items, chunksize, star, site, (start, ok, value) => {
      if (!ok) return result[kSettle](false, value); // the first error wins; later chunks are ignored
      const chunk = value as R[];
      for (let i = 0; i < chunk.length; i++) values[start + i] = chunk[i];
      if (--left === 0) result[kSettle](true, values);
    });
    if (left === 0) result[kSettle](true, values);
    return result;
  }

  #imap<R>(fn: Target, iterable: Iterable<unknown>, chunksize: number, ordered: boolean, method: Function): AsyncIterable<R> {
    this.#checkRunning();
    const target = this.#targets.encode(fn);
    const site = captureCallSite('task submitted', method, target);
    const size = positiveInteger(chunksize, 'chunksize', 1);
    // Read the input now, as Python's task handler does; an error of the iterator is yielded in turn.
    const items: unknown[] = [];
    let sourceError: { error: unknown } | undefined;
    if (iterable === null || typeof (iterable as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`Expected \`iterable\` to be an iterable, got ${describe(iterable)}`);
    }
    try {
      for (const item of iterable) items.push(item);
    } catch (error) {
      sourceError = { error };
      // As Python's task handler: the chunk being read when the iterator failed is never run;
      // the error takes its place.
      items.length -= items.length % size;
    }
    const stream = new ResultStream<R>(Math.ceil(items.length / size) + (sourceError ? 1 : 0), ordered);
    this.#submitChunks(target, items, size, false, site, (start, ok, value) => stream.put(start / size, ok, value));
    if (sourceError) stream.put(Math.ceil(items.length / size), false, sourceError.error, true);
    return stream;
  }
}

/**
 * The results of `imap`/`imapUnordered`: one slot per chunk (values or an error), yielded flattened,
 * in chunk order or in arrival order.
 */
class ResultStream<R> implements AsyncIterableIterator<R> {
  readonly #ordered: boolean;
  /** Ordered: outcome per chunk index. Unordered: outcomes in arrival order. */
  readonly #slots: Array<{ ok: boolean; value: unknown } | undefined> = [];
  #arrived = 0;
  /** Next slot to yield and the next value inside it. */
  #slot = 0;
  #inSlot = 0;
  readonly #total: number;
  /** next() calls waiting for an outcome. */
  #waiters: Array<() => void> = [];
  /** The source error goes last in unordered mode, after every chunk. */
  #lateError: { ok: false; value: unknown } | undefined;

  constructor(total: number, ordered: boolean) {
    this.#total = total;
    this.#ordered = ordered;
  }

  put(index: number, ok: boolean, value: unknown, last = false): void {
    const outcome = { ok, value };
    if (this.#ordered) this.#slots[index] = outcome;
    else if (last) this.#lateError = { ok: false, value };
    else this.#slots.push(outcome);
    this.#arrived++;
    if (!this.#ordered && this.#lateError !== undefined && this.#arrived === this.#total) this.#slots.push(this.#lateError);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async next(): Promise<IteratorResult<R>> {
    for (;;) {
      if (this.#slot >= this.#total) return { value: undefined, done: true };
      const outcome = this.#slots[this.#slot];
      if (outcome !== undefined) {
        if (!outcome.ok) {
          this.#slots[this.#slot++] = undefined;
          this.#inSlot = 0;
          throw outcome.value;
        }
        const values = outcome.value as R[];
        if (this.#inSlot < values.length) return { value: values[this.#inSlot++], done: false };
        this.#slots[this.#slot++] = undefined;
        this.#inSlot = 0;
        continue;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async return(): Promise<IteratorResult<R>> {
    this.#slot = this.#total;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function itemsOf(iterable: unknown): unknown[] {
  if (Array.isArray(iterable)) return iterable;
  if (iterable === null || typeof (iterable as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
    throw new TypeError(`Expected \`iterable\` to be an iterable, got ${describe(iterable)}`);
  }
  return Array.from(iterable as Iterable<unknown>);
}

/** One starmap item as an argument list. */
function starArgs(item: unknown, index: number): unknown[] {
  if (Array.isArray(item)) return item;
  if (item !== null && typeof (item as Iterable<unknown>)?.[Symbol.iterator] === 'function' && typeof item !== 'string') {
    return Array.from(item as Iterable<unknown>);
  }
  throw new TypeError(`Expected item ${index} of \`iterable\` to be an argument list (array), got ${describe(item)}`);
}

function callbacksOption<R>(options: AsyncResultCallbacks<R> | undefined): AsyncResultCallbacks<R> {
  const { callback, errorCallback } = optionsObject(options);
  if (callback !== undefined && typeof callback !== 'function') {
    throw new TypeError(`Expected \`callback\` to be a function, got ${describe(callback)}`);
  }
  if (errorCallback !== undefined && typeof errorCallback !== 'function') {
    throw new TypeError(`Expected \`errorCallback\` to be a function, got ${describe(errorCallback)}`);
  }
  return { callback, errorCallback };
}
