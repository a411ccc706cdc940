/**
 * ThreadPoolExecutor: an {@link Executor} over a pool of worker threads (piscina underneath).
 *
 * The scheduling — which thread gets which tasks, batches of fast tasks, what a thread's death means
 * for each task — is the scheduling core's (`internal/executor/scheduler.ts`), shared with the
 * process pools; the threads and their batch slots are `internal/executor/thread-lanes.ts`.
 */
import * as os from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { BrokenThreadPoolError } from '../errors';
import type { Target } from '../target';
import { Scheduler } from '../internal/executor/scheduler';
import { ThreadLanes } from '../internal/executor/thread-lanes';
import { describe, optionsObject } from '../internal/validate';
import { Executor, type WorkItem } from './executor';

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
  readonly #scheduler: Scheduler<WorkItem>;

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
    const lanes = new ThreadLanes<WorkItem>({
      maxWorkers: this._maxWorkers,
      initializer: this._initializer,
      namePrefix: opts.threadNamePrefix || `ThreadPoolExecutor-${number}`,
      resourceLimits: opts.resourceLimits,
      busy: () => this._jobs.inFlight > 0,
    });
    this.#scheduler = new Scheduler(lanes, this._jobs, { maxWorkers: this._maxWorkers });
  }

  protected _onWork(): void {
    this.#scheduler.dispatch();
  }

  protected override _inspectWorkers(): string {
    return this.#scheduler.batching ? ' batching' : '';
  }

  protected _stopWorkers(): Promise<void> {
    return this.#scheduler.shutdown();
  }
}
