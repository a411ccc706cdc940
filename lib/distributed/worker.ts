/**
 * runWorker: serves a DistributedExecutor's queue on this machine.
 *
 * A BullMQ Worker takes jobs from the queue, at most `concurrency` at a time; each job's task is
 * checked (signature), then run in a local ThreadPoolExecutor or ProcessPoolExecutor, and its
 * signed outcome becomes the job's return value. The task goes to the pool as it arrived (target
 * and arguments in wire form) and its outcome comes back in wire form (`kSubmitEncoded`): this
 * process's main thread never compiles or calls task code, and never decodes what it only forwards.
 *
 * Slots. Each of the `concurrency` jobs in progress has a one-worker executor of its own (a slot),
 * rather than all sharing one pool of `concurrency` workers: a pool batches and pipelines calls of
 * a function it has seen run fast, so a shared pool could queue a job behind one call of it that
 * blocks while another of its workers idles. One task per slot keeps the jobs BullMQ handed out
 * running side by side, as the local pools would run them.
 *
 * Failures, and who handles them:
 * - a task that throws: its error is the outcome (the job completes; the caller's future fails);
 * - a task that kills its thread or child process: the local pool fails it with its Broken error,
 *   which is the outcome, and replaces the thread or process;
 * - this whole process dying (SIGKILL, a lost machine): its jobs' locks expire after
 *   `lockDuration` and BullMQ's stalled-job check (run by every worker) puts them back in the
 *   queue; the worker that takes one again checks how many times that happened (BullMQ counts it
 *   in the job) against the task's `retries`, and fails the job once there were more;
 * - a job that is not a task signed with this worker's secret: failed with a clear reason (logged
 *   once), and the worker goes on.
 */
import * as os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { BrokenExecutorError, TimeoutError } from '../errors';
import { kSubmitEncoded, type Executor } from '../futures/executor';
import type { Future } from '../futures/future';
import { kJsonChannel, ProcessPoolExecutor, type ProcessPoolExecutorOptions } from '../futures/process-pool-executor';
import { ThreadPoolExecutor } from '../futures/thread-pool-executor';
import { encodeError, type EncodedOutcome } from '../internal/transport';
import { describe, optionsObject, positiveInteger } from '../internal/validate';
import { track } from '../internal/tracking';
import { connectionOption, DIED, ENV_SECRET, KEEP_COMPLETED, KEEP_FAILED, packResult, queueOption, REFUSED, secretOption, unpackTask, type JobResult, type WireTask } from './protocol';

/** Options of {@link runWorker}. */
export interface RunWorkerOptions {
  /**
   * Redis URL, as the executor's.
   * @default process.env.THREADKIT_REDIS ?? 'redis://127.0.0.1:6379'
   */
  connection?: string;
  /** Name of the BullMQ queue to serve. @default 'threadkit' */
  queue?: string;
  /** Key the tasks must be signed with: the executors'. Required. @default process.env.THREADKIT_SECRET */
  secret?: string;
  /** Tasks run at once on this machine. @default os.availableParallelism() */
  concurrency?: number;
  /** Run the tasks in worker threads or in child processes. @default 'processes' */
  kind?: 'threads' | 'processes';
  /** Stops the worker when aborted: running tasks finish, no new one is taken. */
  signal?: AbortSignal;
  /**
   * Milliseconds a task's lock lasts without renewal (BullMQ's `lockDuration`; this worker renews
   * it every half of that). When this process dies, its tasks go back to the queue once their
   * locks expired, at the next stalled-job check of a worker, which runs this often too.
   * @default 30000
   */
  lockDuration?: number;
}

/** BullMQ's own limit on stalls is set out of the way: the task's `retries` decides (see the file's overview). */
const UNLIMITED_STALLS = 1_000_000;
/** The same connection error is logged at most this often. */
const LOG_REPEAT_MS = 30_000;

/**
 * Serves a {@link DistributedExecutor}'s queue: takes its tasks from Redis and runs them here, in
 * a pool of child processes (or threads, with `kind: 'threads'`), until SIGTERM, SIGINT or
 * `signal` stops it. Stopping is graceful: running tasks finish and report, no new one is taken,
 * then the promise resolves. A second SIGTERM or SIGINT during that ends the process at once.
 *
 * Tasks come signed with the shared secret; anything else is refused (failed with a reason that
 * says why, logged once) and the worker goes on. `npx threadkit worker` runs this from a shell.
 *
 * @example
 * // THREADKIT_SECRET is set in the environment, as for the executors.
 * await runWorker({ connection: 'redis://queue-host:6379', concurrency: 4 });
 *
 * @throws TypeError (the promise rejects) when there is no secret (the message says how to set
 *   one), for a bad URL, queue name or option; ValueError for a `concurrency` or `lockDuration`
 *   below 1.
 */
export async function runWorker(options?: RunWorkerOptions): Promise<void> {
  const opts = optionsObject(options);
  const secret = secretOption(opts.secret, 'runWorker');
  const queue = queueOption(opts.queue);
  const { url, connection } = connectionOption(opts.connection);
  const concurrency = positiveInteger(opts.concurrency, 'concurrency', os.availableParallelism());
  const lockDuration = positiveInteger(opts.lockDuration, 'lockDuration', 30_000);
  const kind = opts.kind ?? 'processes';
  if (kind !== 'threads' && kind !== 'processes') {
    throw new TypeError(`Expected \`kind\` to be 'threads' or 'processes', got ${describe(kind)}`);
  }
  const signal = opts.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
  }
  if (signal?.aborted) return;

  const log = logger();
  // The process slots' channels are JSON: tasks from Redis are small, and JSON costs a fraction of
  // structured clone's per-message price (internal/child/channel.ts).
  const slots = new Slots(kind === 'threads' ? () => new ThreadPoolExecutor({ maxWorkers: 1 }) : () => new ProcessPoolExecutor({ maxWorkers: 1, [kJsonChannel]: true } as ProcessPoolExecutorOptions));
  let refusals = 0;
  const processor = async (job: Job): Promise<JobResult> => {
    const jobId = job.id ?? '';
    let task: WireTask | undefined;
    try {
      task = unpackTask(secret, queue, jobId, job.data);
    } catch {
      task = undefined; // signed, but not a task this version can read
    }
    if (task === undefined) {
      if (refusals++ === 0) {
        log.error(`refused job ${jobId} (${job.name}) of queue '${queue}': it is not a task signed with this worker's secret. ` +
          `Set the same ${ENV_SECRET} for the executors and the workers. Further refusals are not logged.`);
      }
      throw new UnrecoverableError(`${REFUSED}it is not signed with the secret of the worker on ${os.hostname()} (is ${ENV_SECRET} the same for the executor and the workers?)`);
    }
    if (job.stalledCounter > task.retries) {
      throw new UnrecoverableError(`${DIED}the workers running the task died ${job.stalledCounter} times (retries: ${task.retries})`);
    }
    const slot = slots.acquire();
    let future: Future<EncodedOutcome> | undefined;
    let outcome: EncodedOutcome;
    try {
      future = slot[kSubmitEncoded](task.target, task.args, task.chunk);
      outcome = await future.result(task.timeout);
      slots.release(slot);
    } catch (error) {
      let failure = error;
      if (error instanceof TimeoutError && future !== undefined && !future.done()) {
        // A thread or process cannot be stopped mid-task: it finishes in the background, in a slot
        // that is retired, and a new one serves the next job.
        slots.retire(slot);
        failure = new TimeoutError(`the task did not finish within ${task.timeout} ms on the worker on ${os.hostname()}`);
      } else if (error instanceof BrokenExecutorError) {
        // The task's thread or process died (the caller gets the Broken error, as from a local
        // pool). A fresh slot serves the next job, whether or not this one could go on.
        slots.retire(slot);
      } else {
        // A result the local pool could not take back, and the like: the slot is fine.
        slots.release(slot);
      }
      outcome = { ok: false, error: encodeError(failure) };
    }
    return packResult(secret, queue, jobId, outcome, (error) => ({ ok: false, error: encodeError(error) }));
  };

  const worker = new Worker<unknown, JobResult>(queue, processor, {
    connection: { ...connection },
    concurrency,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: UNLIMITED_STALLS,
    removeOnComplete: { ...KEEP_COMPLETED },
    removeOnFail: { ...KEEP_FAILED },
    autorun: false,
  });
  worker.on('error', (error) => log.trouble(`Redis at ${url}: ${error.message} (retrying)`));
  worker.on('ioredis:close', () => log.trouble(`lost the connection to Redis at ${url} (reconnecting)`));

  let stopRequested!: () => void;
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    if (signals++ > 0) {
      // A second signal: the default action (end now), as if we had never listened.
      removeSignalHandlers();
      process.kill(process.pid, name);
      return;
    }
    log.info(`${name}: stopping after the running tasks (${name} again to end at once)`);
    stopRequested();
  };
  const removeSignalHandlers = (): void => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const onAbort = (): void => stopRequested();
  signal?.addEventListener('abort', onAbort, { once: true });
  let finishedResolve!: () => void;
  const finished = new Promise<void>((resolve) => (finishedResolve = resolve));
  // A worker left running keeps the process alive: the leak check names it (and stops it).
  const untrack = track({
    kind: 'connection',
    label: `runWorker (queue ${queue})`,
    idle: false,
    kill: () => {
      stopRequested();
      return finished;
    },
  });

  let fatal: { error: unknown } | undefined;
  let ready = false;
  try {
    worker.run().catch((error: unknown) => {
      // BullMQ's loop gave up: stop, and say why through the returned promise.
      fatal = { error };
      stopRequested();
    });
    ready = await Promise.race([worker.waitUntilReady().then(() => true), stopped.then(() => false)]);
    if (ready) {
      log.info(`serving queue '${queue}' of ${url} with ${concurrency} ${kind} (pid ${process.pid})`);
    }
    await stopped;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Never connected, so no task of ours runs: do not wait for a Redis that may never answer.
    await worker.close(!ready);
    await slots.shutdown();
    removeSignalHandlers();
    untrack();
    finishedResolve();
  }
  if (fatal !== undefined) throw fatal.error;
}

/** One-worker executors, one per job in progress (see the file's overview). */
class Slots {
  readonly #make: () => Executor;
  readonly #idle: Executor[] = [];
  /** Slots in use or idle; retired ones have left. */
  readonly #live = new Set<Executor>();

  constructor(make: () => Executor) {
    this.#make = make;
  }

  /** An idle slot (BullMQ runs at most `concurrency` jobs at once, so at most that many are made, retired ones aside). */
  acquire(): Executor {
    const slot = this.#idle.pop();
    if (slot !== undefined) return slot;
    const made = this.#make();
    this.#live.add(made);
    return made;
  }

  release(slot: Executor): void {
    this.#idle.push(slot);
  }

  /** Retires a slot whose task runs on: it ends once that task has. */
  retire(slot: Executor): void {
    this.#live.delete(slot);
    slot.shutdown({ wait: false }).catch(() => {});
  }

  /** Ends every slot; retired slots are not waited for (their tasks may never end). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.#live].map((slot) => slot.shutdown({ wait: true })));
  }
}

/** The worker's messages, on stderr; connection trouble at most once per LOG_REPEAT_MS per message. */
function logger(): { info(text: string): void; error(text: string): void; trouble(text: string): void } {
  const lastLogged = new Map<string, number>();
  const write = (text: string): void => {
    process.stderr.write(`threadkit worker: ${text}\n`);
  };
  return {
    info: write,
    error: write,
    trouble(text) {
      const now = Date.now();
      if (now - (lastLogged.get(text) ?? -Infinity) < LOG_REPEAT_MS) return;
      lastLogged.set(text, now);
      write(text);
    },
  };
}
