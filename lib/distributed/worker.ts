/**
 * runWorker: serves a DistributedExecutor's queue on this machine.
 *
 * A BullMQ Worker takes jobs from the queue, at most `concurrency` at a time; each job's task is
 * checked here (signature, deaths so far), then run in BullMQ's own sandbox — a child process, or
 * a worker thread with `kind: 'threads'`, per job slot, kept for the next jobs — by
 * `sandbox-task.ts`, and its outcome, signed here, becomes the job's return value. This process's
 * main thread never runs task code, and the processes and threads that do never hold the secret.
 * BullMQ's sandbox, rather than a local executor, because it is the hop a BullMQ user already pays
 * for running jobs off the main thread, and the least: one message each way, no scheduler of its own.
 *
 * Failures, and who handles them:
 * - a task that throws: its error is the outcome (the job completes; the caller's future fails);
 * - a task that ends its process or thread (an exit, an uncaught error): the outcome is
 *   BrokenProcessPoolError (BrokenThreadPoolError), as from a local pool; the sandbox starts a new
 *   one for the next job;
 * - a task that outlasts its `timeout`: the outcome is TimeoutError; its process or thread runs on
 *   in the background (it cannot be interrupted) and serves again once it is done, while the next
 *   job gets another;
 * - this whole process dying (SIGKILL, a lost machine): its jobs' locks expire after
 *   `lockDuration` and BullMQ's stalled-job check (run by every worker) puts them back in the
 *   queue; the worker that takes one again checks how many times that happened (BullMQ counts it
 *   in the job) against the task's `retries`, and fails the job once there were more; its task
 *   processes end with it;
 * - a job that is not a task signed with this worker's secret: failed with a clear reason (logged
 *   once), and the worker goes on.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildPool, ParentCommand, UnrecoverableError, Worker, type Child, type Job } from 'bullmq';
import { BrokenProcessPoolError, BrokenThreadPoolError, TimeoutError } from '../errors';
import { encodeError, type EncodedOutcome } from '../internal/transport';
import { describe, optionsObject, positiveInteger } from '../internal/validate';
import { track } from '../internal/tracking';
import { checkTask, connectionOption, DIED, ENV_SECRET, KEEP_COMPLETED, KEEP_FAILED, packOutcome, queueOption, REFUSED, secretOption, signResult, type JobResult } from './protocol';

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

/** BullMQ's sandbox entry files (beside its Worker), for child processes and for worker threads. */
const BULLMQ_DIR = path.dirname(require.resolve('bullmq/dist/cjs/classes/worker'));
/** BullMQ's sandboxed processor (what its Worker runs for a processor file), which its index does not export. */
const bullmqSandbox = (require('bullmq/dist/cjs/classes/sandbox') as { default: typeof import('bullmq/dist/esm/classes/sandbox').default }).default;
/**
 * The processor the sandbox loads: `sandbox-task.js` when built; from the sources, a plain
 * JavaScript file that loads `sandbox-task.ts` through tsx (the sandbox cannot import TypeScript).
 */
const PROCESSOR = path.join(__dirname, __filename.endsWith('.ts') ? 'sandbox-task.cjs' : 'sandbox-task.js');

const encodeFailure = (error: unknown): EncodedOutcome => ({ ok: false, error: encodeError(error) });

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
  const children = new TaskChildren({ mainFile: path.join(BULLMQ_DIR, kind === 'threads' ? 'main-worker.js' : 'main.js'), useWorkerThreads: kind === 'threads' });
  const runInSandbox = bullmqSandbox<unknown, string, string>(PROCESSOR, children);
  const ranBy = kind === 'threads' ? 'thread' : 'process';
  let refusals = 0;
  const processor = async (job: Job, token?: string): Promise<JobResult> => {
    const jobId = job.id ?? '';
    let call;
    try {
      call = checkTask(secret, queue, jobId, job.data);
    } catch {
      call = undefined; // signed, but not a task this version can read
    }
    if (call === undefined) {
      if (refusals++ === 0) {
        log.error(`refused job ${jobId} (${job.name}) of queue '${queue}': it is not a task signed with this worker's secret. ` +
          `Set the same ${ENV_SECRET} for the executors and the workers. Further refusals are not logged.`);
      }
      throw new UnrecoverableError(`${REFUSED}it is not signed with the secret of the worker on ${os.hostname()} (is ${ENV_SECRET} the same for the executor and the workers?)`);
    }
    if (job.stalledCounter > call.retries) {
      throw new UnrecoverableError(`${DIED}the workers running the task died ${job.stalledCounter} times (retries: ${call.retries})`);
    }
    const running = runInSandbox(job as Job<unknown, string, string>, token);
    let text: string;
    try {
      const ran = call.timeout === undefined ? await running : await withTimeout(running, call.timeout);
      text = ran !== TIMED_OUT ? ran : packOutcome(encodeFailure(new TimeoutError(`the task did not finish within ${call.timeout} ms on the worker on ${os.hostname()}`)), encodeFailure);
    } catch (error) {
      // The sandbox rejects only when the task's process or thread ended (an exit, an uncaught
      // error, a failed start): the task itself never throws there, its error is its outcome.
      const Broken = kind === 'threads' ? BrokenThreadPoolError : BrokenProcessPoolError;
      const why = error instanceof Error ? error.message : String(error);
      const broken = new Broken(`the ${ranBy} running the task on the worker on ${os.hostname()} ended abruptly: ${why}`, { cause: error });
      text = packOutcome(encodeFailure(broken), encodeFailure);
    }
    return signResult(secret, queue, jobId, text);
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
    await endChildren(children);
    removeSignalHandlers();
    untrack();
    finishedResolve();
  }
  if (fatal !== undefined) throw fatal.error;
}

/**
 * BullMQ's pool of sandbox processes or threads, except that one which reported a crash is never
 * handed out again. A crash (an uncaught error in a task's callback) is reported with a message,
 * and the process exits right after; BullMQ's sandbox settles the job on the message and gives the
 * child back to the pool before the exit, so the next job could be given a process about to end.
 * Every report of the kind is a crash: the processor itself never fails (a task's error is its outcome).
 */
class TaskChildren extends ChildPool {
  readonly #watched = new WeakSet<Child>();
  readonly #crashed = new WeakSet<Child>();

  override async retain(processFile: string): Promise<Child> {
    const child = await super.retain(processFile);
    if (!this.#watched.has(child)) {
      this.#watched.add(child);
      // Listening before the sandbox does (it listens per job, after retain): the mark is set when it settles the job.
      child.on('message', (message: { cmd?: unknown } | null) => {
        if (message?.cmd === ParentCommand.Failed || message?.cmd === ParentCommand.Error) this.#crashed.add(child);
      });
    }
    return child;
  }

  override release(child: Child): void {
    if (this.#crashed.has(child)) void this.kill(child, 'SIGKILL');
    else super.release(child);
  }
}

const TIMED_OUT = Symbol('timed out');

/** `running`'s value, or TIMED_OUT after `ms` (the task then runs on: its value or error is dropped). */
function withTimeout<T>(running: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)));
  return Promise.race([running, timeout])
    .then((value) => {
      if (value === TIMED_OUT) running.catch(() => {});
      return value;
    })
    .finally(() => clearTimeout(timer));
}

/**
 * Ends the sandbox's processes and threads: once the BullMQ worker has closed, only idle ones and
 * those still running a task that timed out are left, and neither is waited for.
 */
async function endChildren(children: ChildPool): Promise<void> {
  const all = [...Object.values(children.retained), ...children.getAllFree()];
  await Promise.all(all.map((child) => children.kill(child, 'SIGKILL')));
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
