/**
 * ProcessPoolExecutor: Python's `concurrent.futures.ProcessPoolExecutor` over forked Node.js children.
 *
 * The scheduling is the scheduling core's (`internal/executor/scheduler.ts`), shared with the thread
 * pool; the children are `internal/process-pool/process-lanes.ts`.
 */
import * as os from 'node:os';
import { BrokenProcessPoolError } from '../errors';
import type { Target } from '../target';
import { optionsObject, positiveInteger, stringArray } from '../internal/validate';
import { Scheduler } from '../internal/executor/scheduler';
import { ProcessLanes } from '../internal/process-pool/process-lanes';
import { Executor, type WorkItem } from './executor';

/**
 * Internal option (the distributed worker's): `{ [kJsonChannel]: true }` gives the children an IPC
 * channel in JSON (internal/child/channel.ts), cheaper per small message and slower for large ones.
 */
export const kJsonChannel: unique symbol = Symbol('threadkit.ProcessPoolExecutor.jsonChannel') as never;

/** Options of {@link ProcessPoolExecutor}. */
export interface ProcessPoolExecutorOptions {
  /**
   * Maximum number of child processes; children are started only when work needs them.
   * @default os.availableParallelism()
   */
  maxWorkers?: number;
  /** Runs once in each child before its first task; if it throws, the executor is broken. @default undefined */
  initializer?: Target;
  /** Arguments of `initializer`. @default [] */
  initargs?: unknown[];
  /**
   * Tasks a child runs before it is replaced by a fresh one (frees whatever the tasks leaked).
   * A chunk of `map` counts as one task.
   * @default undefined (children live until shutdown)
   */
  maxTasksPerChild?: number;
  /**
   * Extra Node.js flags for the children, e.g. `['--max-old-space-size=256']`. Not part of Python's
   * API; the parent's own `process.execArgv` is never inherited.
   * @default []
   */
  execArgv?: string[];
}

/**
 * An executor that runs each task in one of a pool of child processes.
 *
 * Tasks (functions sent by source, or `fromModule` references) run in separate Node.js processes,
 * so a crash, `process.exit()` or an out-of-memory task takes only its own child down: that task
 * fails with BrokenProcessPoolError naming the exit code or signal, the child is replaced, and every
 * other task still completes. Arguments and results are structured-cloned; threadkit `threading`
 * objects cannot be sent (use their `threadkit/multiprocessing` equivalents). Children start lazily,
 * stay warm until `shutdown()`, and exit by themselves if this process dies; an idle executor does
 * not keep the process alive. Small tasks that queue up travel in batches, so many small tasks cost
 * few messages.
 *
 * @example
 * await using executor = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const pid = await executor.submit(() => process.pid);
 * for await (const square of executor.map((x: number) => x * x, [1, 2, 3], { chunksize: 2 })) console.log(square);
 *
 * @throws ValueError (a RangeError) for `maxWorkers` or `maxTasksPerChild` that is not a positive
 *   integer (TypeError when not a number); TypeError for a bad initializer, initargs or execArgv.
 *   `submit`/`map` throw TypeError for a target or argument that cannot be sent, RuntimeError
 *   after shutdown, and BrokenProcessPoolError once the executor is broken.
 */
export class ProcessPoolExecutor extends Executor {
  readonly #scheduler: Scheduler<WorkItem>;

  constructor(options?: ProcessPoolExecutorOptions) {
    const opts = optionsObject(options);
    super({
      maxWorkers: opts.maxWorkers,
      defaultMaxWorkers: os.availableParallelism(),
      initializer: opts.initializer,
      initargs: opts.initargs,
      crossProcess: true,
      BrokenError: BrokenProcessPoolError,
    });
    const maxTasksPerChild = opts.maxTasksPerChild === undefined ? undefined : positiveInteger(opts.maxTasksPerChild, 'maxTasksPerChild', 1);
    const lanes = new ProcessLanes<WorkItem>({
      initializer: this._initializer,
      execArgv: stringArray(opts.execArgv, 'execArgv'),
      label: 'ProcessPoolExecutor',
      channel: (opts as { [kJsonChannel]?: boolean })[kJsonChannel] === true ? 'json' : 'advanced',
    });
    this.#scheduler = new Scheduler(lanes, this._jobs, { maxWorkers: this._maxWorkers, maxTasksPerWorker: maxTasksPerChild });
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
