/**
 * ThreadPoolExecutor: an {@link Executor} over a pool of worker threads (piscina underneath).
 *
 * Dispatch. The executor keeps its tasks in its own queue (so `cancel()` works until a worker takes
 * a task) and hands them to piscina as batches: once the work has proved fast (FAST_ITEM_MS per
 * item), one piscina task carries up to a fair share of the queue, so a burst of small tasks costs
 * one message round trip per batch instead of per task; slow or not yet measured work goes out one
 * task per worker, so the rest stays cancellable (`shutdown({ cancelFutures: true })` cancels all
 * but the running ones). A lone task goes out at once, alone (no batching delay when idle). At
 * most `maxWorkers` batches are out at a time, one per worker; piscina starts workers lazily,
 * never more than `maxWorkers`.
 *
 * Batch slots. Each batch in flight owns a slot of shared memory (`internal/executor/batch-slot`):
 * the worker claims items one by one from it and writes each result into it, so
 * - a worker that dies in item k (process.exit, an uncaught error, out of memory) fails only item k
 *   with BrokenThreadPoolError; the results before k are read from the slot, the items after k go
 *   back to the queue, and piscina replaces the worker;
 * - an idle worker steals the unstarted tail of a busy worker's batch when the queue is empty, so a
 *   task is never stuck behind a blocked one while a worker is free (as with Python's one-task-
 *   per-thread queue).
 */
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import Piscina from 'piscina';
import type { ResourceLimits } from 'node:worker_threads';
import { BrokenThreadPoolError } from '../errors';
import type { Target } from '../target';
import { decodeError, workerEntry, type EncodedError, type EncodedOutcome } from '../internal/transport';
import { describe, optionsObject } from '../internal/validate';
import { track } from '../internal/tracking';
import { initializerSummary, reportInitializerFailure } from '../internal/executor/init-failure';
import { packBatch, type WorkItem } from '../internal/executor/work-item';
import {
  allocateSlot,
  claimRange,
  COUNT,
  MAX_SLOT_ITEMS,
  readResults,
  resetSlot,
  slotViews,
  stealable,
  stealTail,
  type SlotViews,
} from '../internal/executor/batch-slot';
import type { PoolThreadData, PoolThreadReply, PoolThreadTask } from '../internal/worker/pool-thread';
import { Executor } from './executor';

/** Options of {@link ThreadPoolExecutor}. */
export interface ThreadPoolExecutorOptions {
  /**
   * Maximum number of worker threads, started as work arrives.
   * @default Math.min(32, os.availableParallelism() + 4)
   */
  maxWorkers?: number;
  /**
   * Runs once in each worker before its first task; if it throws, the executor is broken.
   * @default undefined (none)
   */
  initializer?: Target;
  /** Arguments of `initializer`. @default [] */
  initargs?: unknown[];
  /**
   * Prefix of the workers' names (`currentThread().name` inside a task is `<prefix>_<n>`).
   * @default 'ThreadPoolExecutor-<k>' (k counts executors)
   */
  threadNamePrefix?: string;
  /**
   * Memory limits of each worker thread (a task exceeding them fails with BrokenThreadPoolError).
   * Not in Python; passed to `new Worker`.
   * @default undefined (Node's defaults)
   */
  resourceLimits?: ResourceLimits;
}

let executorCounter = 0;

/** Batches in a row that may fail before starting anything until the executor counts as broken. */
const MAX_FAILED_STARTS = 3;

/** Most items per batch: enough to make the per-message cost negligible, few enough to balance. */
const BATCH_LIMIT = Math.min(1024, MAX_SLOT_ITEMS);

/**
 * A batch whose items took at most this long each (round trip included) counts as fast. Only fast
 * work is batched: an item sent in a batch is RUNNING and can no longer be cancelled, so slow or
 * not yet measured work goes out one item per worker and the rest stays cancellable in the queue.
 */
const FAST_ITEM_MS = 1;

/** One batch in flight: its shared slot and its items. */
interface Slot {
  readonly buffer: SharedArrayBuffer;
  readonly views: SlotViews;
  /** The batch's items; index i is item i of the slot. */
  items: WorkItem[];
  /** Items `[0, end)` belong to this batch as far as the main side knows (lowered by steals). */
  end: number;
  /** `performance.now()` when the batch was sent. */
  sentAt: number;
}

/**
 * Runs tasks on a pool of worker threads and returns a Future for each.
 *
 * Tasks are functions (sent by source) or `fromModule` references, run in worker threads that
 * stay warm between tasks. Use it for CPU-bound JavaScript and for blocking synchronous calls that
 * must not stall the main event loop. Threads are started lazily, up to `maxWorkers`. A worker that
 * dies while running a task fails only that task (BrokenThreadPoolError) and is replaced; an
 * initializer that throws breaks the executor, as in Python.
 *
 * @example
 * await using executor = new ThreadPoolExecutor({ maxWorkers: 4 });
 * const future = executor.submit((n: number) => { let a = 0, b = 1; while (n--) [a, b] = [b, a + b]; return a; }, 50);
 * console.log(await future);   // 12586269025
 *
 * @throws ValueError (a RangeError) when `maxWorkers` is not a positive integer, TypeError when it
 *   is not a number or `threadNamePrefix` is not a string, TypeError for an initializer or initargs
 *   that cannot be sent.
 */
export class ThreadPoolExecutor extends Executor {
  readonly #namePrefix: string;
  readonly #resourceLimits: ResourceLimits | undefined;
  /** Created at the first dispatch. */
  #pool: Piscina<PoolThreadTask, PoolThreadReply> | undefined;
  #untrack: (() => void) | undefined;
  /** Slots not in use, and the ones in use. */
  readonly #freeSlots: Slot[] = [];
  readonly #busySlots = new Set<Slot>();
  #slotCount = 0;
  readonly #counter = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  /** Batches in a row that failed before starting any item. */
  #failedStarts = 0;
  /** Set when the pool was destroyed from outside (the leak check's kill). */
  #killed = false;
  /** Whether the batch that finished last ran fast (see FAST_ITEM_MS); unknown work counts as slow. */
  #recentFast = false;

  constructor(options?: ThreadPoolExecutorOptions) {
    const opts = optionsObject(options);
    const number = executorCounter++;
    super({
      maxWorkers: opts.maxWorkers,
      defaultMaxWorkers: Math.min(32, os.availableParallelism() + 4),
      initializer: opts.initializer,
      initargs: opts.initargs,
      crossProcess: false,
      BrokenError: BrokenThreadPoolError,
    });
    if (opts.threadNamePrefix !== undefined && typeof opts.threadNamePrefix !== 'string') {
      throw new TypeError(`Expected \`threadNamePrefix\` to be a string, got ${describe(opts.threadNamePrefix)}`);
    }
    if (opts.resourceLimits !== undefined && (typeof opts.resourceLimits !== 'object' || opts.resourceLimits === null)) {
      throw new TypeError(`Expected \`resourceLimits\` to be an object, got ${describe(opts.resourceLimits)}`);
    }
    this.#namePrefix = opts.threadNamePrefix || `ThreadPoolExecutor-${number}`;
    this.#resourceLimits = opts.resourceLimits;
  }

  protected _onWork(): void {
    this.#dispatch();
  }

  protected async _stopWorkers(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) await pool.destroy();
    this.#untrack?.();
    this.#untrack = undefined;
  }

  /** Fills every free slot from the queue, then lets idle slots steal from busy ones. */
  #dispatch(): void {
    if (this._isBroken()) return;
    for (;;) {
      const slot = this.#acquireSlot();
      if (slot === undefined) return;
      let items = this._takeBatch(this.#recentFast ? BATCH_LIMIT : 1);
      if (items.length === 0) items = this.#steal();
      if (items.length === 0) {
        this.#freeSlots.push(slot);
        return;
      }
      this.#send(slot, items);
    }
  }

  /** A free slot, or undefined when `maxWorkers` batches are out. */
  #acquireSlot(): Slot | undefined {
    const free = this.#freeSlots.pop();
    if (free !== undefined) return free;
    if (this.#slotCount >= this._maxWorkers) return undefined;
    this.#slotCount++;
    const buffer = allocateSlot();
    return { buffer, views: slotViews(buffer), items: [], end: 0, sentAt: 0 };
  }

  /**
   * Takes the unstarted tail of the busy batch that has the most items waiting (the queue is
   * empty and a worker is free: without this a task could wait behind a blocked one). A batch's
   * first item is never taken before its worker starts (a lone task would otherwise hop to a
   * second, new worker while the first boots). Termination: each steal moves items to a batch that
   * completes and steals again, until no batch has an item waiting behind another.
   */
  #steal(): WorkItem[] {
    let victim: Slot | undefined;
    let most = 0;
    for (const slot of this.#busySlots) {
      const { next } = claimRange(slot.views.header);
      const unstarted = stealable(next, slot.end);
      if (unstarted > most) {
        most = unstarted;
        victim = slot;
      }
    }
    if (victim === undefined) return [];
    const range = stealTail(victim.views.header);
    if (range === undefined) return [];
    victim.end = range.from;
    return victim.items.slice(range.from, range.to);
  }

  #send(slot: Slot, items: WorkItem[]): void {
    slot.items = items;
    slot.end = items.length;
    slot.sentAt = performance.now();
    resetSlot(slot.views, items.length);
    this.#busySlots.add(slot);
    this.#ensurePool()
      .run({ buffer: slot.buffer, batch: packBatch(items) })
      .then(
        (reply) => this.#finish(slot, reply, undefined),
        (error: unknown) => this.#finish(slot, undefined, error),
      );
  }

  /** Reports every item of a finished (or dead) batch, then frees its slot and dispatches again. */
  #finish(slot: Slot, reply: PoolThreadReply | undefined, death: unknown): void {
    this.#busySlots.delete(slot);
    const { items, views } = slot;
    if (reply !== undefined && 'initError' in reply) {
      // Items stolen from this batch (beyond slot.end) belong to the batch that took them.
      this.#initializerFailed(items.slice(0, slot.end), reply);
      this.#release(slot);
      return;
    }
    // Arena results first (they survive a death), then the reply's tail, both in item order.
    let settled = 0;
    for (const { ok, value } of readResults(views)) this.#report(items[settled++], ok, value);
    if (reply !== undefined) for (const { ok, value } of reply.tail) this.#report(items[settled++], ok, value);
    const { next } = claimRange(views.header);
    if (death !== undefined && next > settled) {
      this._fail(items[settled++], this._brokenError(`the worker thread running the task died (${deathDetail(death)})`));
    }
    if (death !== undefined && next === 0) {
      // The batch failed before its first item started: a worker that cannot even start, or a
      // pool torn down from outside. Retrying forever would spin; a few times in a row breaks it.
      if (++this.#failedStarts >= MAX_FAILED_STARTS || this.#killed) {
        this._break(`the thread pool cannot run tasks: ${deathDetail(death)}`, death);
      }
    } else {
      this.#failedStarts = 0;
    }
    if (settled > 0) this.#recentFast = death === undefined && (performance.now() - slot.sentAt) / settled <= FAST_ITEM_MS;
    // Claimed-but-unreported cannot happen on success; on a death it is the one item failed above.
    const unstarted = items.slice(Math.max(settled, next), slot.end);
    this.#release(slot);
    this._requeue(unstarted);
    this.#dispatch();
  }

  #report(item: WorkItem, ok: boolean, value: unknown): void {
    this._complete(item, (ok ? { ok: true, value } : { ok: false, error: value }) as EncodedOutcome);
  }

  /** Python: an initializer that throws breaks the pool; this batch and the queue fail with the Broken error. */
  #initializerFailed(items: WorkItem[], reply: { initError: EncodedError }): void {
    let cause: unknown;
    try {
      cause = decodeError(reply.initError);
    } catch (error) {
      cause = error;
    }
    // Every worker runs the initializer: report the first failure only.
    const summary = this._isBroken() ? initializerSummary(cause) : reportInitializerFailure(cause);
    const message = `a thread initializer failed, the thread pool is not usable anymore (${summary})`;
    this._break(message, cause);
    for (const item of items) this._fail(item, this._brokenError(message, cause));
  }

  #release(slot: Slot): void {
    slot.items = [];
    slot.end = 0;
    Atomics.store(slot.views.header, COUNT, 0);
    this.#freeSlots.push(slot);
  }

  #ensurePool(): Piscina<PoolThreadTask, PoolThreadReply> {
    if (this.#pool !== undefined) return this.#pool;
    const { filename, execArgv } = workerEntry('pool-thread');
    const workerData: PoolThreadData = { initializer: this._initializer, namePrefix: this.#namePrefix, counter: this.#counter };
    const pool = new Piscina<PoolThreadTask, PoolThreadReply>({
      filename,
      execArgv,
      minThreads: 0,
      maxThreads: this._maxWorkers,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      resourceLimits: this.#resourceLimits,
      workerData,
    });
    // A worker that dies with no task is no one's error; with a task, run() rejects and #finish reports it.
    pool.on('error', () => {});
    this.#pool = pool;
    const executor = this;
    this.#untrack = track({
      kind: 'pool-thread',
      label: this.#namePrefix,
      get idle() {
        return executor._inFlightCount() === 0;
      },
      kill: () => {
        this.#killed = true;
        return pool.destroy();
      },
    });
    return pool;
  }
}

/** "exit code 3", or the error that killed the worker. */
function deathDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const exit = /exited with code:?\s*(-?\d+)/.exec(message);
  if (exit !== null) return `exit code ${exit[1]}`;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
