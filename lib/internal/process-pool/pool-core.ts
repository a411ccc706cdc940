/**
 * The machinery shared by `ProcessPoolExecutor` and `multiprocessing.Pool`: a set of forked children
 * it owns and the scheduling of its owner's jobs onto them. The owner keeps the queue (so that a job
 * stays cancellable until a child takes it) and hears back each job's outcome.
 *
 * Scheduling. Children start lazily: queued work that finds no idle child starts one, up to
 * `maxWorkers`; children stay warm until shutdown. While tasks are slow (or not yet measured) a child
 * is given one at a time, so no task waits behind another while a child is idle. Once the latest
 * tasks ran fast (at most FAST_TASK_MS), a child is sent batches and kept up to PIPELINE_DEPTH tasks
 * ahead, so that it never waits for a round trip and one message carries many tasks and results.
 * A single task on an idle pool is sent at once (at the end of the current synchronous stretch, so a
 * burst of submits still goes out as one batch).
 *
 * Deaths. When a child dies, its unreported jobs are split by the rule of protocol.ts: the first,
 * and, after a fast first job, the run of fast jobs behind it (which may have run while results
 * were held), fail with
 * BrokenProcessPoolError naming the exit code or signal; the rest never started and go back to the
 * front of the owner's queue. The child is replaced if work remains. A child that dies before it was
 * ready, or whose initializer throws, breaks the pool instead (as Python's BrokenProcessPool), rather
 * than respawning forever a child that cannot start.
 */
import { BrokenProcessPoolError } from '../../errors';
import { decodeError, type EncodedOutcome, type EncodedTarget } from '../transport';
import type { WireInitializer } from '../executor/run-item';
import { reportInitializerFailure } from '../executor/init-failure';
import type { WireSource } from '../executor/work-item';
import { FAST_TASK_MS, type InitMessage, type ResultRecord } from './protocol';
import { WorkerProcess, type WorkerEvents } from './worker-process';

/** What the core needs of a job: the executors' wire source (a WorkItem, or a Pool task). */
export type PoolJob = WireSource;

/** The owner of the queue and of the jobs' outcomes (an Executor or a Pool). */
export interface PoolOwner<J extends PoolJob> {
  /** Jobs waiting. */
  pendingCount(): number;
  /** Removes up to `max` (≥ 1) jobs from the front of the queue; they can no longer be cancelled. */
  take(max: number): J[];
  /** Jobs a dead child never started: back to the front of the queue, in order. */
  requeue(jobs: J[]): void;
  /** A job's outcome as the child encoded it. */
  complete(job: J, outcome: EncodedOutcome): void;
  /** A job failed on this side (its child died, its arguments could not be sent). */
  fail(job: J, error: unknown): void;
  /** The pool broke; every job the core held has been failed with `error` already. */
  broken(error: BrokenProcessPoolError): void;
}

export interface PoolCoreOptions {
  readonly maxWorkers: number;
  readonly initializer: WireInitializer | undefined;
  readonly maxTasksPerChild?: number;
  /** Extra node flags for the children (e.g. `--max-old-space-size=64`). */
  readonly execArgv?: readonly string[];
  /** Names the owner in leak reports ("ProcessPoolExecutor", "Pool"). */
  readonly label: string;
}

/** Tasks sent to one child ahead of its results, at most (fast tasks only). */
const PIPELINE_DEPTH = 128;
/** Tasks in one `tasks` message, at most. */
const MAX_BATCH = 64;
/** A child's share of the queue goes out in this many messages, dealt in turn with the other children's. */
const FEED_ROUNDS = 4;

export class PoolCore<J extends PoolJob> {
  readonly #options: PoolCoreOptions;
  readonly #owner: PoolOwner<J>;
  readonly #init: InitMessage;
  /** Every child not yet reaped. */
  readonly #workers = new Set<WorkerProcess<J>>();
  readonly #events: WorkerEvents<J>;
  /** Target identity → whether its last run was fast. Unknown targets count as slow. */
  readonly #fast = new Map<string, boolean>();
  /** Whether the most recent result was fast: decides between one-at-a-time and batches. */
  #recentFast = false;
  readonly #everReady = new WeakSet<WorkerProcess<J>>();
  #broken: BrokenProcessPoolError | null = null;
  /** No more work comes: children are retired as soon as the queue is empty and they are idle. */
  #closing = false;
  #terminated = false;
  #pumpScheduled = false;
  #allExited: Promise<void> | undefined;
  #resolveAllExited: (() => void) | undefined;

  constructor(options: PoolCoreOptions, owner: PoolOwner<J>) {
    this.#options = options;
    this.#owner = owner;
    this.#init = { type: 'init', initializer: options.initializer ?? null };
    this.#events = {
      ready: (worker) => {
        this.#everReady.add(worker);
        this.#pump();
      },
      initFailed: (_worker, outcome) => {
        // Every child runs the initializer: report the first failure only.
        if (this.#broken !== null) return;
        const cause = outcome.ok ? undefined : decodeError(outcome.error);
        const what = reportInitializerFailure(cause);
        this.#break(new BrokenProcessPoolError(`an initializer failed in a child process; the process pool is not usable anymore (${what})`, { cause }));
      },
      results: (worker, results) => this.#onResults(worker, results),
      exited: (worker, code, signal) => this.#onExit(worker, code, signal),
    };
  }

  /** The error that broke the pool, or null. */
  get broken(): BrokenProcessPoolError | null {
    return this.#broken;
  }

  /** Tasks sent to children and not yet reported. */
  get running(): number {
    let n = 0;
    for (const worker of this.#workers) n += worker.inFlight.length;
    return n;
  }

  /** The owner has queued work: dispatch it now. */
  dispatch(): void {
    this.#pump();
  }

  /** The owner has queued work: dispatch it at the end of the current synchronous stretch. */
  schedule(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /**
   * Runs what is queued and running, then ends the children (they exit on 'disconnect');
   * resolves once every one of them has exited and been reaped.
   */
  shutdown(): Promise<void> {
    this.#closing = true;
    this.#pump();
    return this.#whenAllExited();
  }

  /**
   * Kills every child at once (SIGKILL) and fails every running job with `reason` (the owner
   * deals with its queue); resolves once all children are reaped.
   */
  terminate(reason: Error): Promise<void> {
    this.#closing = true;
    if (!this.#terminated) {
      this.#terminated = true;
      this.#killAll(reason);
    }
    return this.#whenAllExited();
  }

  #whenAllExited(): Promise<void> {
    this.#allExited ??= new Promise((resolve) => (this.#resolveAllExited = resolve));
    this.#checkAllExited();
    return this.#allExited;
  }

  #checkAllExited(): void {
    if (this.#resolveAllExited === undefined || this.#workers.size > 0) return;
    if (this.#owner.pendingCount() > 0 && this.#broken === null && !this.#terminated) return;
    this.#resolveAllExited();
    this.#resolveAllExited = undefined;
  }

  #key(target: EncodedTarget): string {
    return target.kind === 'source' ? target.source : `${target.href}#${target.exportName}`;
  }

  /** Sends queued jobs to children with room, starts children for the rest, retires idle ones when closing. */
  #pump(): void {
    if (this.#broken !== null || this.#terminated) return;
    const max = this.#options.maxTasksPerChild;
    let ready = 0;
    let starting = 0;
    for (const worker of this.#workers) {
      if (worker.state === 'ready') ready++;
      else if (worker.state === 'starting') starting++;
    }
    const feedable: WorkerProcess<J>[] = [];
    for (const worker of this.#workers) {
      if (worker.state === 'starting') {
        if (worker.inFlight.length === 0 && this.#owner.pendingCount() > 0) this.#reserve(worker, max);
        else if (worker.inFlight.length === 0 && this.#closing) worker.retire();
        if (this.#broken !== null) return;
      } else if (worker.state === 'ready') {
        feedable.push(worker);
      }
    }
    if (feedable.length > 0 && this.#owner.pendingCount() > 0) this.#feed(feedable, max);
    if (this.#broken !== null) return;
    for (const worker of feedable) {
      if (worker.inFlight.length === 0) {
        if (max !== undefined && worker.assigned >= max) worker.retire();
        else if (this.#closing && this.#owner.pendingCount() === 0) worker.retire();
      }
    }
    // Start children for the jobs still waiting; each takes its first job at once (see #reserve).
    for (let live = ready + starting; this.#owner.pendingCount() > 0 && live < this.#options.maxWorkers; live++) {
      const worker = new WorkerProcess<J>(this.#init, this.#options.execArgv ?? [], this.#options.label, this.#events);
      this.#workers.add(worker);
      this.#reserve(worker, max);
      if (this.#broken !== null) return;
    }
    const pending = this.#owner.pendingCount();
    for (const worker of this.#workers) {
      if (worker.state === 'ready' || worker.state === 'starting') worker.setReferenced(pending > 0 || worker.inFlight.length > 0);
    }
    this.#checkAllExited();
  }

  /**
   * Gives a starting child its first job right away (the child runs it once its initializer is
   * done): as Python's call queue, work that a child is being started for is RUNNING, so
   * `shutdown({ cancelFutures: true })` right after the submits cancels only the rest.
   */
  #reserve(worker: WorkerProcess<J>, max: number | undefined): void {
    if (max !== undefined && worker.assigned >= max) return;
    this.#send(worker, this.#owner.take(1));
  }

  /** Sends jobs to a child; a job whose arguments cannot be sent fails on its own. */
  #send(worker: WorkerProcess<J>, jobs: J[]): void {
    if (jobs.length === 0) return;
    const failed = worker.sendTasks(jobs, jobs.map((job) => this.#fast.get(this.#key(job.target)) === true));
    for (const { job, error } of failed) {
      const message = error instanceof Error ? error.message : String(error);
      this.#owner.fail(job, new TypeError(`an argument of the task cannot be sent to a child process: ${message}`));
    }
  }

  /**
   * Deals the queue out to the ready children, one message per child per round, until each has
   * its share or no more room. Each child's share is fixed at entry: re-computing it from what is
   * left after each message would hand one child the whole burst (a known-fast function that
   * turns slow on new input would then run on one core while the other children idle). Dealing in
   * rounds of FEED_ROUNDS slices, rather than a child's whole share at once, keeps every child on
   * the front of the queue: `map` yields in input order, and while the first child worked through
   * a whole share the consumer waited on it with the others' results ready and the others idle.
   */
  #feed(workers: readonly WorkerProcess<J>[], max: number | undefined): void {
    const share = Math.ceil(this.#owner.pendingCount() / workers.length);
    const slice = Math.max(1, Math.ceil(share / FEED_ROUNDS));
    const given = new Array<number>(workers.length).fill(0);
    for (let dealt = true; dealt && this.#owner.pendingCount() > 0; ) {
      dealt = false;
      for (let i = 0; i < workers.length && this.#owner.pendingCount() > 0; i++) {
        const worker = workers[i];
        if (given[i] >= share || (max !== undefined && worker.assigned >= max)) continue;
        const inFlight = worker.inFlight.length;
        // Slow (or unmeasured) work goes only to an idle child; fast work queues up behind fast work.
        if (inFlight > 0 && !(this.#recentFast && worker.slowInFlight === 0 && inFlight < PIPELINE_DEPTH)) continue;
        let limit = this.#recentFast ? Math.min(MAX_BATCH, PIPELINE_DEPTH - inFlight, slice, share - given[i]) : 1;
        if (max !== undefined) limit = Math.min(limit, max - worker.assigned);
        const jobs = this.#takeUpTo(limit);
        if (jobs.length === 0) return; // only cancelled jobs were left
        given[i] += jobs.length;
        dealt = true;
        this.#send(worker, jobs);
        if (this.#broken !== null) return;
      }
    }
  }

  /** Up to `limit` jobs for one message (the owner may hand them out in smaller takes). */
  #takeUpTo(limit: number): J[] {
    const jobs = this.#owner.take(limit);
    while (jobs.length > 0 && jobs.length < limit && this.#owner.pendingCount() > 0) {
      const more = this.#owner.take(limit - jobs.length);
      if (more.length === 0) break;
      for (const job of more) jobs.push(job);
    }
    return jobs;
  }

  #onResults(worker: WorkerProcess<J>, results: ResultRecord[]): void {
    for (const [id, outcome, ms] of results) {
      const sent = worker.inFlight.peek();
      if (sent === undefined || sent.id !== id) {
        // Cannot happen with a well-behaved child; never settle the wrong job. Its death fails the rest.
        void worker.kill();
        return;
      }
      worker.shiftInFlight();
      const fast = ms <= FAST_TASK_MS;
      this.#fast.set(this.#key(sent.job.target), fast);
      this.#recentFast = fast;
      this.#owner.complete(sent.job, outcome);
    }
    this.#pump();
  }

  #onExit(worker: WorkerProcess<J>, code: number | null, signal: NodeJS.Signals | null): void {
    this.#workers.delete(worker);
    const lost = worker.inFlight.drain();
    const how = signal !== null ? `signal ${signal}` : `exit code ${code}`;
    if (this.#terminated || this.#broken !== null) {
      // Their jobs were failed when the pool was terminated or broke.
    } else if (!this.#everReady.has(worker) && !worker.endedByPool) {
      // A child that cannot even start would be respawned forever: the pool is broken instead.
      // Its reserved job never started; #break fails the queue and the other children's jobs.
      const error = new BrokenProcessPoolError(`a child process (pid ${worker.pid}) exited before it was ready (${how}); the process pool is not usable anymore`);
      for (const sent of lost) this.#owner.fail(sent.job, error);
      this.#break(error);
    } else if (lost.length > 0) {
      // protocol.ts: lost[0] was running; unless the child flushed while exiting, when lost[0] is
      // fast, the fast jobs right after it may have run with results held, so they are failed too.
      let failed = 1;
      if (!worker.flushedAtExit && lost[0].fast) while (failed < lost.length && lost[failed].fast) failed++;
      this.#owner.requeue(lost.slice(failed).map((sent) => sent.job));
      const error = new BrokenProcessPoolError(`a child process (pid ${worker.pid}) terminated abruptly while running the task (${how})`);
      for (let i = 0; i < failed; i++) {
        this.#fast.set(this.#key(lost[i].job.target), false);
        this.#owner.fail(lost[i].job, error);
      }
      this.#recentFast = false;
    }
    this.#pump();
    this.#checkAllExited();
  }

  #break(error: BrokenProcessPoolError): void {
    if (this.#broken !== null) return;
    this.#broken = error;
    this.#killAll(error);
    this.#owner.broken(error);
    this.#checkAllExited();
  }

  /** Fails every job sent to a child with `error` and kills every child. */
  #killAll(error: Error): void {
    for (const worker of this.#workers) {
      for (const sent of worker.inFlight.drain()) this.#owner.fail(sent.job, error);
      void worker.kill();
    }
  }
}
