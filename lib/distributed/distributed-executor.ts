/**
 * DistributedExecutor: an {@link Executor} whose workers run on other machines, over BullMQ on
 * Redis (Python's analogue is dask's `Client`, which is a `concurrent.futures.Executor` too).
 *
 * Life of a task, and of its Future:
 *
 * ```
 *   submit()  ── packed and signed at once (a bad argument is a TypeError here) ─▶ QUEUED
 *   QUEUED    ── added to Redis with the others of this turn of the event loop ──▶ ADDING ─▶ WAITING
 *   WAITING   ── a worker takes the job (BullMQ 'active' event) ─────────────────▶ RUNNING  (future RUNNING)
 *   RUNNING   ── 'completed' (the signed outcome) or 'failed' event ─────────────▶ settled  (future FINISHED)
 *   QUEUED / ADDING / WAITING ── cancel() ──▶ future CANCELLED; the job is dropped or removed from Redis
 * ```
 *
 * The queue is Redis: while a job waits there its future is PENDING and `cancel()` succeeds,
 * removing the job. A worker takes a job inside Redis, and the executor hears of it a moment later
 * (the 'active' event): a `cancel()` within that moment still returns true, the task runs anyway,
 * and its outcome is dropped. Only a worker's own state can close that gap, and Redis is the only
 * party that knows it.
 *
 * Results come back as BullMQ's queue events (a Redis stream, read by one QueueEvents connection).
 * The stream is trimmed to a bounded length (EVENTS_MAX_LEN), so a reader held up long enough (a
 * busy event loop, a slow link) can miss events: the events are the fast path, not the only one.
 * A task not heard of for a while is looked up in Redis (the workers keep a finished job, with its
 * return value, for a few minutes: KEEP_COMPLETED), at once for every task when the stream's
 * oldest event is newer than the last one read; this also catches a job that vanished (a Redis
 * that restarted without persistence, a flushed queue): its future fails instead of waiting forever.
 *
 * Workers that die mid-task are BullMQ's stalled jobs: the job goes back to the queue and another
 * worker runs it, at most `retries` more times (the worker counts them); the future settles once,
 * from the one run that completed.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { Queue, QueueEvents } from 'bullmq';
import { BrokenExecutorError, RuntimeError, ValueError } from '../errors';
import { Executor, type MapOptions, type ShutdownOptions } from '../futures/executor';
import { Future } from '../futures/future';
import type { Target } from '../target';
import { encodeArgs, type EncodedTarget } from '../internal/transport';
import { decodeOutcome, TargetCache } from '../internal/executor/encoding';
import { MAP_AFTER_SHUTDOWN_HINT, MapIterator } from '../internal/executor/map';
import { booleanOption, checkTimeout, describe, optionsObject, positiveInteger } from '../internal/validate';
import { track } from '../internal/tracking';
import {
  connectionOption,
  DIED,
  ENV_SECRET,
  packTask,
  queueOption,
  REFUSED,
  secretOption,
  unpackResult,
  type JobData,
  type RedisConnection,
} from './protocol';

/** Options of {@link DistributedExecutor}. */
export interface DistributedExecutorOptions {
  /**
   * Redis URL: `redis://[user:password@]host[:port][/db]`, `rediss://` for TLS.
   * @default process.env.THREADKIT_REDIS ?? 'redis://127.0.0.1:6379'
   */
  connection?: string;
  /** Name of the BullMQ queue the workers serve. @default 'threadkit' */
  queue?: string;
  /**
   * Key that signs every task (HMAC-SHA256); the workers must have the same one. Required.
   * @default process.env.THREADKIT_SECRET
   */
  secret?: string;
  /**
   * Milliseconds a worker waits for one task (or one `map` chunk) before failing it with
   * TimeoutError. The thread or process running it cannot be interrupted: it finishes in the
   * background and its result is dropped.
   * @default undefined (no limit)
   */
  timeout?: number;
  /**
   * Extra runs of a task after the worker running it died (a crash, SIGKILL, a lost machine),
   * each on whichever worker takes it next. A task that throws is never re-run: its error is the result.
   * @default 2
   */
  retries?: number;
}

/**
 * Length the queue's event stream is trimmed to (BullMQ's default: 10 000, about 2 500 tasks, which
 * a reader held up for a second at full speed can fall behind). Set on the queue by each executor.
 */
const EVENTS_MAX_LEN = 50_000;
/** A task waits this long for a first connection to Redis before it fails. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Jobs per `addBulk` call: one Redis transaction each, short enough not to hold Redis up. */
const ADD_BATCH = 1000;
/** A task not heard of for this long is looked up in Redis; then at doubling intervals up to CHECK_MAX_MS. */
const CHECK_AFTER_MS = 5000;
const CHECK_MAX_MS = 30_000;
/** How often the lookups above are considered, and how many run at once at most. */
const CHECK_TICK_MS = 1000;
const CHECK_BATCH = 500;

const QUEUED = 0;
const ADDING = 1;
const WAITING = 2;
const RUNNING = 3;
type TaskState = typeof QUEUED | typeof ADDING | typeof WAITING | typeof RUNNING;

/** One submitted task whose future is not settled yet. */
interface Task {
  readonly id: string;
  readonly name: string;
  readonly future: Future<any>;
  /** The signed job data; dropped once the job is in Redis. */
  data: JobData | undefined;
  state: TaskState;
  /** cancel() came while the job was being added: remove it once it is there. */
  removeWhenAdded: boolean;
  /** When to look the job up in Redis if nothing is heard before, and the interval after that. */
  checkAt: number;
  checkEvery: number;
  checking: boolean;
}

/**
 * Runs tasks on workers on other machines (or other processes of this one) through a BullMQ queue
 * in Redis, and returns a {@link Future} for each.
 *
 * Start workers with `npx threadkit worker` (or {@link runWorker}) wherever the tasks should run,
 * with the same Redis URL, queue name and secret; then submit and map as with the local
 * executors. Tasks are functions (sent by source, so self-contained) or `fromModule` references,
 * whose package name or relative path is resolved on the worker that runs them. Arguments and
 * results are structured-cloneable values; shared objects (locks, Value, queues) cannot cross
 * machines (TypeError at submit). Errors arrive with their class, message, stack, own properties
 * and cause. Every task is signed with the shared secret; workers refuse anything else.
 *
 * A task can be cancelled while it waits in Redis; a task whose worker dies is run again by
 * another worker, up to `retries` times. The executor keeps two Redis connections open until
 * `shutdown()` (or the end of an `await using` block), so a program must shut it down to exit.
 *
 * @example
 * // THREADKIT_SECRET is set, and `npx threadkit worker --redis redis://queue-host:6379` runs elsewhere.
 * await using executor = new DistributedExecutor({ connection: 'redis://queue-host:6379' });
 * console.log(await executor.submit((n: number) => require('node:os').hostname() + ': ' + n * n, 12));
 * for await (const r of executor.map((x: number) => x * 2, [1, 2, 3], { chunksize: 2 })) console.log(r);
 *
 * @throws TypeError when there is no secret (the message says how to set one), for a bad URL,
 *   queue name or option; ValueError (a RangeError) for a negative `timeout` or `retries`.
 *   `submit`/`map` throw TypeError for a target or argument that cannot be sent (shared objects
 *   included) and RuntimeError after shutdown.
 */
export class DistributedExecutor extends Executor {
  readonly #queueName: string;
  readonly #url: string;
  readonly #secret: string;
  readonly #timeout: number | undefined;
  readonly #retries: number;
  /**
   * Prefix of this executor's job ids: 96 random bits, so its jobs never collide with another's
   * (short: a job id travels in every command and event of its job).
   */
  readonly #id = randomBytes(12).toString('base64url');
  #seq = 0;
  readonly #queue: Queue;
  readonly #connection: RedisConnection;
  /** The events reader, made by `#start`. */
  #events: QueueEvents | undefined;
  /** Resolves once the events reader starts where the stream ends now (before the first add). */
  readonly #ready: Promise<void>;
  #isReady = false;
  readonly #targets = new TargetCache();
  /** Tasks whose futures are not settled (cancelled ones leave at once), by job id, in submit order. */
  readonly #tasks = new Map<string, Task>();
  /** Tasks submitted this turn, added to Redis together. */
  #toAdd: Task[] = [];
  #flushScheduled = false;
  /** Redis calls in flight (adds, removals): the connections close only after them. */
  readonly #ops = new Set<Promise<unknown>>();
  #checkTimer: NodeJS.Timeout | undefined;
  /** Id of the newest event read (a stream id, `<ms>-<seq>`), to notice events trimmed before they were read. */
  #lastEventId = '0-0';
  #checkingTrim = false;
  #shutdown = false;
  /** The last connection error, for the message of a task that could not be added. */
  #connectionError: unknown;
  #closing: Promise<void> | undefined;
  readonly #closed: Promise<void>;
  readonly #untrack: () => void;
  #resolveClosed!: () => void;

  constructor(options?: DistributedExecutorOptions) {
    const opts = optionsObject(options);
    // The base's pool options do not apply: the workers' own concurrency decides how much runs.
    super({ maxWorkers: 1, defaultMaxWorkers: 1, crossProcess: true, BrokenError: BrokenExecutorError });
    this.#secret = secretOption(opts.secret, 'DistributedExecutor');
    this.#queueName = queueOption(opts.queue);
    const { url, connection } = connectionOption(opts.connection);
    this.#url = url;
    this.#connection = connection;
    checkTimeout(opts.timeout);
    this.#timeout = opts.timeout;
    this.#retries = retriesOption(opts.retries);
    this.#closed = new Promise<void>((resolve) => (this.#resolveClosed = resolve));
    this.#queue = new Queue(this.#queueName, {
      connection: { ...connection },
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
    });
    // Connection trouble is retried underneath; what it costs a task shows in that task's future.
    this.#queue.on('error', (error) => (this.#connectionError = error));
    this.#ready = this.#start();
    this.#ready.then(() => (this.#isReady = true), noop);
    // Open connections keep the process alive: an executor never shut down is a leak.
    this.#untrack = track({
      kind: 'connection',
      label: `DistributedExecutor (queue ${this.#queueName})`,
      idle: false,
      kill: () => this.#closeNow(),
    });
  }

  /**
   * Schedules `fn(...args)` on a worker.
   * @returns a Future for its result
   * @throws TypeError when `fn` is not a target or an argument cannot be sent to another machine
   *   (nothing is queued); RuntimeError after `shutdown`.
   */
  submit<A extends unknown[], R>(fn: Target<A, R>, ...args: A): Future<Awaited<R>> {
    this.#checkOpen('');
    const target = this.#targets.encode(fn);
    return this.#enqueue(target, encodeArgs(args, { crossMachine: true }), false);
  }

  /**
   * Runs `fn` over every item of `iterable` on the workers and yields the results in input order;
   * each chunk of `chunksize` items is one task. As the local executors' `map`: read lazily with a
   * bounded read-ahead, the first task error thrown by the iterator, and leaving the loop early
   * cancels the chunks still waiting in Redis.
   * @throws (synchronously) TypeError for a bad target or iterable; ValueError for `chunksize < 1`;
   *   RangeError for a bad timeout; RuntimeError after shutdown. The iterator throws TimeoutError
   *   when a result is not ready `timeout` ms after the call.
   */
  map<T, R>(fn: Target<[T], R>, iterable: Iterable<T> | AsyncIterable<T>, options?: MapOptions): AsyncIterable<Awaited<R>> {
    const { timeout, chunksize: rawChunksize } = optionsObject(options);
    checkTimeout(timeout);
    const chunksize = positiveInteger(rawChunksize, 'chunksize', 1);
    this.#checkOpen('');
    const target = this.#targets.encode(fn);
    return new MapIterator<T, Awaited<R>>({
      iterable,
      timeout,
      chunksize,
      maxWorkers: 1,
      submitChunk: (values) => {
        this.#checkOpen(MAP_AFTER_SHUTDOWN_HINT);
        return this.#enqueue(target, encodeArgs(values, { crossMachine: true }), chunksize > 1);
      },
    });
  }

  /**
   * Refuses new tasks, waits for the submitted ones and closes the Redis connections. Safe to call
   * more than once. The workers keep running: they serve the queue, not this executor.
   * @param options.wait resolve only when every task has settled and the connections are closed
   * @param options.cancelFutures cancel the tasks still waiting in Redis
   */
  async shutdown(options?: ShutdownOptions): Promise<void> {
    const opts = optionsObject(options);
    const wait = booleanOption(opts.wait, 'wait', true);
    const cancelFutures = booleanOption(opts.cancelFutures, 'cancelFutures', false);
    if (cancelFutures) for (const task of [...this.#tasks.values()]) task.future.cancel();
    this.#shutdown = true;
    this.#maybeClose();
    if (wait) await this.#closed;
  }

  [inspect.custom](): string {
    let running = 0;
    for (const task of this.#tasks.values()) if (task.state === RUNNING) running++;
    const state = this.#shutdown ? ' shutdown' : '';
    return `<DistributedExecutor${state} queue=${this.#queueName} redis=${this.#url} pending=${this.#tasks.size - running} running=${running}>`;
  }

  /** Not used: this executor's queue is in Redis, and its workers are not its own. */
  protected _onWork(): void {}

  /** Not used (see `_onWork`). */
  protected _stopWorkers(): Promise<void> {
    return Promise.resolve();
  }

  // ───────────────────────────── internals ─────────────────────────────

  /** Positions the events reader at the end of the stream, so no event of our jobs is missed. */
  async #start(): Promise<void> {
    // The client is ioredis (made from connection options), whose commands BullMQ's client type leaves out.
    const client = (await this.#queue.getBackend().client) as unknown as StreamCommands;
    const last = await client.xrevrange(this.#queue.keys.events, '+', '-', 'COUNT', 1);
    if (this.#closing !== undefined) throw new RuntimeError('the executor was shut down');
    this.#lastEventId = last.length > 0 ? last[0][0] : '0-0';
    const events = new QueueEvents(this.#queueName, { connection: { ...this.#connection }, lastEventId: this.#lastEventId });
    events.on('error', noop);
    // 'waiting' (one per job added) only moves the read position forward, for the trim check.
    events.on('waiting', (_, id) => (this.#lastEventId = id));
    events.on('active', ({ jobId }, id) => {
      this.#lastEventId = id;
      this.#onActive(jobId);
    });
    events.on('completed', ({ jobId, returnvalue }, id) => {
      this.#lastEventId = id;
      this.#onCompleted(jobId, returnvalue);
    });
    events.on('failed', ({ jobId, failedReason }, id) => {
      this.#lastEventId = id;
      this.#onFailed(jobId, failedReason);
    });
    this.#events = events;
  }

  #checkOpen(hint: string): void {
    if (this.#shutdown) throw new RuntimeError(`cannot schedule new futures after shutdown${hint}`);
  }

  #enqueue(target: EncodedTarget, args: unknown[], chunk: boolean): Future<any> {
    const id = `${this.#id}-${++this.#seq}`;
    const data = packTask(this.#secret, this.#queueName, id, target, { args, chunk, timeout: this.#timeout, retries: this.#retries });
    const future = new Future<any>();
    const task: Task = {
      id,
      name: jobName(target),
      future,
      data,
      state: QUEUED,
      removeWhenAdded: false,
      checkAt: 0,
      checkEvery: CHECK_AFTER_MS,
      checking: false,
    };
    future.addDoneCallback(() => {
      if (future.cancelled()) this.#cancelled(task);
    });
    this.#tasks.set(id, task);
    this.#toAdd.push(task);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // After the microtasks of this turn: a burst of submits is one add, and a cancel() right
      // after submit (a map's timeout, shutdown with cancelFutures) drops the task before it is sent.
      setImmediate(() => this.#flush());
    }
    return future;
  }

  /** The future was cancelled while its task was queued, being added, or waiting in Redis. */
  #cancelled(task: Task): void {
    // The executor owns the queue, so it sees the cancellation at once (Python's CANCELLED_AND_NOTIFIED):
    // wait() and asCompleted() count the future as completed without a worker having to reach it.
    task.future.setRunningOrNotifyCancel();
    this.#tasks.delete(task.id);
    if (task.state === ADDING) task.removeWhenAdded = true;
    else if (task.state === WAITING) this.#removeJob(task.id);
    this.#maybeClose();
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#toAdd.filter((task) => !task.future.cancelled());
    this.#toAdd = [];
    for (let i = 0; i < batch.length; i += ADD_BATCH) this.#track(this.#add(batch.slice(i, i + ADD_BATCH)));
  }

  async #add(tasks: Task[]): Promise<void> {
    for (const task of tasks) task.state = ADDING;
    try {
      if (!this.#isReady) await this.#connected();
      // One job is one script call; several are one transaction (addBulk).
      if (tasks.length === 1) await this.#queue.add(tasks[0].name, tasks[0].data, { jobId: tasks[0].id });
      else await this.#queue.addBulk(tasks.map((task) => ({ name: task.name, data: task.data, opts: { jobId: task.id } })));
    } catch (error) {
      const failure = new RuntimeError(`the task could not be added to the queue in Redis at ${this.#url}: ${messageOf(error)}`, { cause: error });
      for (const task of tasks) if (this.#tasks.get(task.id) === task) this.#settle(task, false, failure);
      return;
    }
    const now = Date.now();
    for (const task of tasks) {
      task.data = undefined;
      if (task.state === ADDING) task.state = WAITING;
      task.checkAt = now + CHECK_AFTER_MS;
      if (task.removeWhenAdded) this.#removeJob(task.id);
    }
    this.#startChecks();
  }

  /** Resolves once the executor can add jobs; rejects when Redis could not be reached within CONNECT_TIMEOUT_MS. */
  #connected(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const why = this.#connectionError === undefined ? 'no answer' : messageOf(this.#connectionError);
        reject(new Error(`cannot connect within ${CONNECT_TIMEOUT_MS / 1000} s (${why})`));
      }, CONNECT_TIMEOUT_MS);
    });
    return Promise.race([this.#ready, timeout]).finally(() => clearTimeout(timer));
  }

  /** Removes a cancelled task's job from Redis; a no-op when a worker already took it (see the file's overview). */
  #removeJob(id: string): void {
    this.#track(this.#queue.remove(id).catch(noop));
  }

  #track(op: Promise<unknown>): void {
    this.#ops.add(op);
    op.finally(() => {
      this.#ops.delete(op);
      this.#maybeClose();
    });
  }

  #onActive(jobId: string): void {
    const task = this.#tasks.get(jobId);
    if (task === undefined) return;
    task.state = RUNNING;
    this.#heard(task);
    if (!task.future.running() && !task.future.done()) task.future.setRunningOrNotifyCancel();
  }

  #onCompleted(jobId: string, returnvalue: unknown): void {
    const task = this.#tasks.get(jobId);
    if (task === undefined) return;
    const outcome = unpackResult(this.#secret, this.#queueName, jobId, returnvalue);
    if (outcome === undefined) {
      this.#settle(task, false, new RuntimeError(
        `the result of the task is not signed with this executor's secret: a worker with another ${ENV_SECRET}, or something else than a threadkit worker, completed job ${jobId}`,
      ));
      return;
    }
    const { ok, value } = decodeOutcome(outcome);
    this.#settle(task, ok, value);
  }

  #onFailed(jobId: string, reason: unknown): void {
    const task = this.#tasks.get(jobId);
    if (task === undefined) return;
    this.#settle(task, false, failureOf(String(reason)));
  }

  #settle(task: Task, ok: boolean, value: unknown): void {
    this.#tasks.delete(task.id);
    const future = task.future;
    if (!future.done()) {
      if (!future.running()) future.setRunningOrNotifyCancel();
      if (ok) future.setResult(value);
      else future.setException(value);
    }
    this.#maybeClose();
  }

  /** News of a task: its next lookup in Redis is pushed back. */
  #heard(task: Task): void {
    task.checkEvery = CHECK_AFTER_MS;
    task.checkAt = Date.now() + CHECK_AFTER_MS;
  }

  #startChecks(): void {
    if (this.#checkTimer !== undefined) return;
    this.#checkTimer = setInterval(() => this.#checkTasks(), CHECK_TICK_MS);
    // The Redis connections keep the process alive while tasks are out; this timer need not.
    this.#checkTimer.unref();
  }

  /** Looks up in Redis the tasks not heard of for a while (see the file's overview). */
  #checkTasks(): void {
    const now = Date.now();
    let started = 0;
    let waiting = 0;
    for (const task of this.#tasks.values()) {
      if (task.state === QUEUED || task.state === ADDING) continue;
      waiting++;
      if (task.checking || task.checkAt > now) continue;
      if (started++ === CHECK_BATCH) break;
      task.checking = true;
      this.#track(this.#checkTask(task).finally(() => (task.checking = false)));
    }
    if (waiting === 0 && this.#checkTimer !== undefined) {
      clearInterval(this.#checkTimer);
      this.#checkTimer = undefined;
    }
    if (waiting > 0 && !this.#checkingTrim) {
      this.#checkingTrim = true;
      this.#track(this.#checkTrim().finally(() => (this.#checkingTrim = false)));
    }
  }

  /** When events were trimmed before they were read, every task waiting is looked up in Redis now. */
  async #checkTrim(): Promise<void> {
    let oldest: Array<[string, string[]]>;
    try {
      const client = (await this.#queue.getBackend().client) as unknown as StreamCommands;
      oldest = await client.xrange(this.#queue.keys.events, '-', '+', 'COUNT', 1);
    } catch {
      return; // Redis unreachable: the next tick tries again.
    }
    if (oldest.length === 0 || compareIds(oldest[0][0], this.#lastEventId) <= 0) return;
    for (const task of this.#tasks.values()) if (task.state === WAITING || task.state === RUNNING) task.checkAt = 0;
  }

  async #checkTask(task: Task): Promise<void> {
    let job;
    try {
      job = await this.#queue.getJob(task.id);
    } catch {
      return; // Redis unreachable: the next tick tries again.
    }
    if (this.#tasks.get(task.id) !== task) return; // settled by an event meanwhile
    if (job === undefined) {
      this.#settle(task, false, new RuntimeError(
        `the task's job ${task.id} is no longer in Redis at ${this.#url}: the queue was emptied, or Redis lost its data (restarted without persistence?)`,
      ));
      return;
    }
    if (job.finishedOn) {
      if (job.failedReason) this.#onFailed(task.id, job.failedReason);
      else this.#onCompleted(task.id, job.returnvalue);
      return;
    }
    if (job.processedOn && task.state !== RUNNING) this.#onActive(task.id);
    task.checkEvery = Math.min(2 * task.checkEvery, CHECK_MAX_MS);
    task.checkAt = Date.now() + task.checkEvery;
  }

  /** After shutdown, once every task has settled and every Redis call has returned, closes the connections. */
  #maybeClose(): void {
    if (!this.#shutdown || this.#closing !== undefined || this.#tasks.size > 0) return;
    // Redis calls in flight go first (a cancelled task's removal must reach Redis), unless Redis
    // was never reached: then nothing of ours is there, and they would only wait to time out.
    if (this.#ops.size > 0 && this.#isReady) return;
    this.#closing = this.#close().then(this.#resolveClosed, this.#resolveClosed);
  }

  /** Closes at once, tasks or not (the leak check's kill): what is still out is left to Redis. */
  #closeNow(): Promise<void> {
    this.#shutdown = true;
    this.#closing ??= this.#close().then(this.#resolveClosed, this.#resolveClosed);
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#checkTimer !== undefined) clearInterval(this.#checkTimer);
    this.#checkTimer = undefined;
    // Closing the queue's connection also ends a start-up still connecting (its client promise
    // rejects); a start-up past its last await sees #closing and makes no events reader.
    await Promise.allSettled([this.#events?.close(), this.#queue.close()]);
    await this.#ready.catch(noop);
    await this.#events?.close();
    this.#untrack();
  }
}

/** The ioredis commands of the stream checks. */
interface StreamCommands {
  xrevrange(key: string, end: '+', start: '-', count: 'COUNT', n: number): Promise<Array<[id: string, fields: string[]]>>;
  xrange(key: string, start: '-', end: '+', count: 'COUNT', n: number): Promise<Array<[id: string, fields: string[]]>>;
}

/** Orders two stream ids (`<ms>-<seq>`). */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

function noop(): void {}

/** `retries`: a whole number from 0 up. */
function retriesOption(value: unknown): number {
  if (value === undefined) return 2;
  if (typeof value !== 'number') throw new TypeError(`Expected \`retries\` to be a whole number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < 0) throw new ValueError(`Expected \`retries\` to be a whole number from 0 up, got ${value}`);
  return value;
}

/** What a BullMQ dashboard shows for a task: the function's name, or module#export. */
function jobName(target: EncodedTarget): string {
  if (target.kind === 'source') return target.name || 'anonymous';
  const file = target.href.startsWith('file:') ? path.basename(new URL(target.href).pathname) : target.href;
  return `${file}#${target.exportName}`;
}

/** The error a caller gets for a job that BullMQ moved to its failed set. */
function failureOf(reason: string): Error {
  if (reason.startsWith(REFUSED)) return new RuntimeError(`the worker refused the task: ${reason.slice(REFUSED.length)}`);
  if (reason.startsWith(DIED)) return new BrokenExecutorError(reason.slice(DIED.length));
  if (/stalled/.test(reason)) return new BrokenExecutorError(`the workers running the task died too many times (${reason})`);
  return new RuntimeError(`the task failed in the queue: ${reason}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
