/**
 * The strategies of the main benchmark: the ways to run a workload's tasks.
 *
 * Every strategy runs the same task functions (workloads/tasks.ts). Pools are opened once per
 * workload set with `workers` workers and warmed up (every worker started and the task module
 * loaded) before anything is timed: the benchmark measures running tasks, not starting pools.
 * "Thread per task" is measured the same way: before each timed run, as many threads as the run
 * starts have run and left their workers warm (`warmThreads`), so each new Thread finds one — what a
 * program that starts threads now and then gets. "Thread per task, cold" is the other end: no warm
 * worker at all (`warmThreads({ max: 0 })`), every Thread starts a new Worker, as the first threads
 * of a program do.
 */
import * as path from 'node:path';
import Piscina from 'piscina';
import * as workerpool from 'workerpool';
import { run as runTask, type TaskName } from '../workloads/tasks';
import type { Executor } from 'threadkit/futures';
import { TASKS_PATH, futures, pool, targets, threading, type Targets } from '../lib/threadkit';

/** What a strategy opened: it runs task lists until closed. */
export interface Runner {
  /** Untimed, before each timed run: puts the strategy in the state its run is measured in. */
  prepare?(task: TaskName, args: readonly unknown[]): Promise<void>;
  /** Runs `task` once per argument; resolves to the results in argument order. */
  run(task: TaskName, args: readonly unknown[]): Promise<number[]>;
  close(): Promise<void>;
}

/** Who provides a strategy (the report groups and colours by it). */
export type Family = 'main' | 'threadkit' | 'peer' | 'cpython';

export interface Strategy {
  readonly id: string;
  readonly label: string;
  readonly family: Family;
  /** One line on what it does, for the report. */
  readonly description: string;
  /** True for pools: open() starts `workers` workers. */
  readonly pooled: boolean;
  open(workers: number): Promise<Runner>;
}

const PISCINA_WORKER = path.resolve(__dirname, '../peers/piscina-tasks.cjs');
const WORKERPOOL_WORKER = path.resolve(__dirname, '../peers/workerpool-tasks.cjs');

/** Execution arguments for the raw peers' workers: none inherited (tsx's --import would be). */
const PEER_EXEC_ARGV: string[] = [];

/** Warm-up: one short timer task per worker, all at once, so every worker starts and loads the tasks. */
async function warmUp(runner: Runner, workers: number): Promise<void> {
  await runner.run('timer', Array.from({ length: workers }, () => 20));
}

async function opened(runner: Runner, workers: number): Promise<Runner> {
  try {
    await warmUp(runner, workers);
  } catch (error) {
    await runner.close().catch(() => undefined);
    throw error;
  }
  return runner;
}

const serial: Strategy = {
  id: 'serial', label: 'serial', family: 'main',
  description: 'one task after another on the main thread (await each)',
  pooled: false,
  async open() {
    return {
      async run(task, args) {
        const results: number[] = [];
        for (const arg of args) results.push(await runTask(task, arg as never));
        return results;
      },
      async close() {},
    };
  },
};

const asyncMain: Strategy = {
  id: 'async', label: 'async (main)', family: 'main',
  description: 'all tasks started at once on the main thread, Promise.all',
  pooled: false,
  async open() {
    return {
      run: (task, args) => Promise.all(args.map((arg) => runTask(task, arg as never))),
      async close() {},
    };
  },
};

/** The warm pool's defaults, restored when a Thread strategy closes. */
const WARM_DEFAULTS = { idleTimeout: 5_000, max: 8 };

/** A new Thread per task, all started, then joined; `warm`: each finds a worker left warm (see the header). */
function threadPerTask(warm: boolean): Strategy {
  return {
    id: warm ? 'thread' : 'thread-cold',
    label: warm ? 'Thread per task' : 'Thread per task, cold',
    family: 'threadkit',
    description: warm
      ? 'threadkit: a new Thread for each task, all started, then joined; each finds a worker a finished Thread left warm'
      : 'threadkit: a new Thread for each task, with no warm worker: every Thread starts a new Worker (a program\'s first threads)',
    pooled: false,
    async open() {
      const { Thread, warmThreads } = await threading();
      const { fromModule } = await targets();
      const target = fromModule(TASKS_PATH, 'intoSlot');
      const runThreads = async (task: TaskName, args: readonly unknown[]): Promise<number[]> => {
        const results = new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT * args.length));
        const threads = args.map((arg, slot) => new Thread({ target, args: [results, slot, task, arg] }));
        for (const thread of threads) thread.start();
        await Promise.all(threads.map((thread) => thread.join()));
        return Array.from(results);
      };
      return {
        async prepare(_task, args) {
          if (!warm) {
            warmThreads({ max: 0 });
            return;
          }
          // As many warm workers as the run starts threads, each with the task module loaded.
          warmThreads({ max: Math.max(WARM_DEFAULTS.max, args.length), idleTimeout: Infinity });
          await runThreads('timer', args.map(() => 0));
        },
        run: runThreads,
        async close() {
          warmThreads(WARM_DEFAULTS);
        },
      };
    },
  };
}

function executorRunner(executor: Executor, fromModule: Targets['fromModule']): Runner {
  return {
    run(task, args) {
      const target = fromModule<[unknown], number>(TASKS_PATH, task);
      return Promise.all(args.map((arg) => executor.submit(target, arg).result()));
    },
    close: () => executor.shutdown({ wait: true }),
  };
}

const threadPool: Strategy = {
  id: 'tpe', label: 'ThreadPoolExecutor', family: 'threadkit',
  description: 'threadkit ThreadPoolExecutor, submit each task',
  pooled: true,
  async open(workers) {
    const { ThreadPoolExecutor } = await futures();
    const { fromModule } = await targets();
    return opened(executorRunner(new ThreadPoolExecutor({ maxWorkers: workers }), fromModule), workers);
  },
};

const processPool: Strategy = {
  id: 'ppe', label: 'ProcessPoolExecutor', family: 'threadkit',
  description: 'threadkit ProcessPoolExecutor, submit each task',
  pooled: true,
  async open(workers) {
    const { ProcessPoolExecutor } = await futures();
    const { fromModule } = await targets();
    return opened(executorRunner(new ProcessPoolExecutor({ maxWorkers: workers }), fromModule), workers);
  },
};

const mpPool: Strategy = {
  id: 'pool', label: 'multiprocessing Pool', family: 'threadkit',
  description: 'threadkit multiprocessing Pool, map over the arguments',
  pooled: true,
  async open(workers) {
    const { Pool } = await pool();
    const { fromModule } = await targets();
    const processes = new Pool(workers);
    return opened({
      run: (task, args) => processes.map<unknown, number>(fromModule(TASKS_PATH, task), args),
      async close() {
        processes.close();
        await processes.join();
      },
    }, workers);
  },
};

const piscina: Strategy = {
  id: 'piscina', label: 'piscina (raw)', family: 'peer',
  description: 'piscina 5 used directly, run each task',
  pooled: true,
  async open(workers) {
    const threads = new Piscina({ filename: PISCINA_WORKER, minThreads: workers, maxThreads: workers, execArgv: PEER_EXEC_ARGV });
    return opened({
      run: (task, args) => Promise.all(args.map((arg) => threads.run({ name: task, arg }) as Promise<number>)),
      close: () => threads.destroy(),
    }, workers);
  },
};

const workerPool: Strategy = {
  id: 'workerpool', label: 'workerpool', family: 'peer',
  description: 'workerpool (worker threads) used directly, exec each task',
  pooled: true,
  async open(workers) {
    const threads = workerpool.pool(WORKERPOOL_WORKER, {
      minWorkers: workers, maxWorkers: workers, workerType: 'thread', workerThreadOpts: { execArgv: PEER_EXEC_ARGV },
    });
    return opened({
      run: (task, args) => Promise.all(args.map((arg) => threads.exec('run', [task, arg]) as Promise<number>)),
      async close() {
        await threads.terminate();
      },
    }, workers);
  },
};

/** Every Node strategy, in report order. */
export const STRATEGIES: readonly Strategy[] = [serial, asyncMain, threadPerTask(true), threadPerTask(false), threadPool, processPool, mpPool, piscina, workerPool];

/** The CPython strategies (run by benchmarks/python/workloads.py), in report order. */
export const PYTHON_STRATEGIES: readonly Pick<Strategy, 'id' | 'label' | 'family' | 'description'>[] = [
  { id: 'cpython-serial', label: 'CPython serial', family: 'cpython', description: 'CPython 3: one task after another' },
  { id: 'cpython-threads', label: 'CPython ThreadPoolExecutor', family: 'cpython', description: 'CPython concurrent.futures.ThreadPoolExecutor' },
  { id: 'cpython-processes', label: 'CPython ProcessPoolExecutor', family: 'cpython', description: 'CPython concurrent.futures.ProcessPoolExecutor' },
];
