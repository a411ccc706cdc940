/**
 * The queue of a pool's jobs, and the bookkeeping around it: which jobs wait, how many are out with
 * workers, whether the pool is broken, and when its workers may stop. One class serves every pool
 * (the executors' base, so also ThreadPoolExecutor, ProcessPoolExecutor and any other Executor, and
 * multiprocessing.Pool), so they queue, break and stop the same way.
 *
 * Why the owner, not the worker pool underneath, keeps the queue: Python's `cancel()` succeeds only
 * while a task is pending, so a job must stay here, cancellable, until a worker is free to take it.
 *
 * Life of a job:
 *
 *     push ──▶ queued ──take()──▶ out (counted in `inFlight`) ──complete()/fail()──▶ settled
 *                ▲  │                 │
 *                │  └─ cancelled ─────┼──▶ dropped by take() / at stop (the owner's `start` says so)
 *                └──── requeue() ─────┘    (a dead worker's jobs that never started: back to the front)
 *
 * - `take(n)` hands out up to `n` live jobs, asking the owner's `start(job)` for each (an executor
 *   marks its future RUNNING there, or learns it was cancelled and the job is dropped).
 * - Every taken job is reported exactly once: `complete(job, outcome)` (a worker's encoded outcome,
 *   decoded here in this realm), `fail(job, error)`, or `requeue([job])`.
 * - `break(message, cause)`: an initializer failed, or a worker could not start. Every queued job
 *   fails with the owner's Broken error (with `cause`), later pushes throw it, and jobs requeued
 *   afterwards fail too. Jobs out with workers are still reported by the scheduler.
 * - `close()`: no more jobs come. Once nothing is out and nothing runnable is queued (after a close
 *   or a break), the owner's `stopWorkers()` is called, exactly once; `whenStopped` settles after it.
 *
 * Work notification: `push` calls the owner's `onWork()` once, in the next microtask: a burst of
 * submits becomes one dispatch (and one batch), and a job submitted on its own is still cancellable
 * until the end of the caller's synchronous stretch (as in Python, where a worker thread has to wake
 * up before it can take it).
 */
import { Deque } from '../deque';
import { decodeOutcome } from './encoding';
import { withCallSite, type CallSite } from '../transport/call-site';
import type { EncodedOutcome } from '../transport';

/** What the owner of a queue decides. */
export interface JobQueueOwner<J> {
  /** A job leaves the queue for a worker: true to run it, false to drop it (cancelled meanwhile). */
  start(job: J): boolean;
  /** True for a queued job that will be dropped when reached (so stopping need not wait for it). */
  cancelled(job: J): boolean;
  /** A job's outcome: its value (`ok`), or the error it failed with. Called once per job. */
  settle(job: J, ok: boolean, value: unknown): void;
  /** Work is waiting and the pool is not broken: hand it out (`take`). */
  onWork(): void;
  /** Called once, after close or break, when nothing is out: end every worker. */
  stopWorkers(): Promise<void>;
  /** The pool's Broken error (BrokenThreadPoolError, BrokenProcessPoolError). */
  brokenError(message: string, cause: unknown): Error;
}

/** Jobs out with workers in this process, over every queue (see {@link jobsOutInProcess}). */
let outInProcess = 0;

/**
 * Jobs taken and not yet reported, over every pool of this process: whether the program has other
 * work going than the job it just sent (the scheduling core's "Lone jobs").
 */
export function jobsOutInProcess(): number {
  return outInProcess;
}

export class JobQueue<J> {
  readonly #owner: JobQueueOwner<J>;
  readonly #queued = new Deque<J>();
  /** Jobs taken and not yet reported. Invariant: ≥ 0. */
  #inFlight = 0;
  #scheduled = false;
  #closed = false;
  #broken: { readonly message: string; readonly cause: unknown } | undefined;
  #stopping = false;
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;
  #rejectStopped!: (error: unknown) => void;

  constructor(owner: JobQueueOwner<J>) {
    this.#owner = owner;
    this.#stopped = new Promise<void>((resolve, reject) => {
      this.#resolveStopped = resolve;
      this.#rejectStopped = reject;
    });
    // A caller that does not wait for the stop (shutdown without wait) must not see an unhandled rejection.
    this.#stopped.catch(() => {});
  }

  /** Queued jobs, cancelled ones included until they are dropped. */
  get size(): number {
    return this.#queued.length;
  }

  /** Jobs taken and not yet reported. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The Broken error a new job would fail with, or undefined while the pool is usable. */
  brokenError(): Error | undefined {
    return this.#broken === undefined ? undefined : this.#owner.brokenError(this.#broken.message, this.#broken.cause);
  }

  /** The owner's Broken error class with `message` (and `cause`, when there is one). */
  brokenErrorFor(message: string, cause: unknown): Error {
    return this.#owner.brokenError(message, cause);
  }

  /** Settles once the workers were stopped (after close or break). */
  get whenStopped(): Promise<void> {
    return this.#stopped;
  }

  /** Queues a job (the caller checked the pool is open). */
  push(job: J): void {
    this.#queued.push(job);
    this.#schedule();
  }

  /** Queues jobs that go out together (one dispatch). */
  pushAll(jobs: readonly J[]): void {
    for (const job of jobs) this.#queued.push(job);
    if (jobs.length > 0) this.#schedule();
  }

  /** Runs a dispatch now if work is waiting (e.g. before cancelling what is still queued). */
  flush(): void {
    if (this.#broken === undefined && this.#queued.length > 0) this.#owner.onWork();
  }

  /** Removes up to `max` jobs from the front for a worker; cancelled jobs met on the way are dropped and do not count. */
  take(max: number): J[] {
    const out: J[] = [];
    if (this.#broken !== undefined) return out;
    while (out.length < max && this.#queued.length > 0) {
      const job = this.#queued.shift() as J;
      if (this.#owner.start(job)) out.push(job);
    }
    this.#inFlight += out.length;
    outInProcess += out.length;
    if (out.length === 0) this.#maybeStop();
    return out;
  }

  /**
   * A taken job's outcome as the worker encoded it: decoded here (one that cannot be decoded is a
   * failure), or settled as the record itself for a job that asks for it (`encodedOutcome`).
   */
  complete(job: J, outcome: EncodedOutcome): void {
    if ((job as { readonly encodedOutcome?: boolean }).encodedOutcome === true) {
      this.#settle(job, true, outcome);
      return;
    }
    const { ok, value } = decodeOutcome(outcome);
    // A failure carries where its job was submitted (jobs of executors and Pool record it).
    this.#settle(job, ok, ok ? value : withCallSite(value, (job as { readonly site?: CallSite }).site));
  }

  /** A taken job failed on this side (its worker died, its arguments could not be sent, …). */
  fail(job: J, error: unknown): void {
    this.#settle(job, false, error);
  }

  /** Taken jobs that never started go back to the front of the queue, in order. */
  requeue(jobs: readonly J[]): void {
    if (jobs.length === 0) return;
    this.#inFlight -= jobs.length;
    outInProcess -= jobs.length;
    if (this.#broken !== undefined) {
      for (const job of jobs) this.#owner.settle(job, false, this.brokenError());
      this.#maybeStop();
      return;
    }
    this.#queued.unshiftAll(jobs);
    this.#schedule();
  }

  /** The pool is broken: every queued job fails with the Broken error, now and from now on. First call wins. */
  break(message: string, cause: unknown): void {
    if (this.#broken !== undefined) return;
    this.#broken = { message, cause };
    for (const job of this.#queued.drain()) this.#owner.settle(job, false, this.brokenError());
    this.#maybeStop();
  }

  /**
   * Removes every queued job for which `cancel(job)` returns true (it cancelled the job), keeping
   * the others in order — jobs a dead worker put back are running and cannot be cancelled.
   */
  cancelQueued(cancel: (job: J) => boolean): void {
    const keep = this.#queued.drain().filter((job) => !cancel(job));
    this.#queued.unshiftAll(keep);
    this.#maybeStop();
  }

  /** Fails every queued job with `error` (multiprocessing.Pool's terminate). */
  failQueued(error: unknown): void {
    for (const job of this.#queued.drain()) this.#owner.settle(job, false, error);
    this.#maybeStop();
  }

  /** No more jobs come: the workers stop once the queue has run dry. */
  close(): Promise<void> {
    this.#closed = true;
    this.#maybeStop();
    return this.#stopped;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#broken === undefined && this.#queued.length > 0) this.#owner.onWork();
    });
  }

  #settle(job: J, ok: boolean, value: unknown): void {
    this.#inFlight--;
    outInProcess--;
    this.#owner.settle(job, ok, value);
    if (this.#inFlight === 0) this.#maybeStop();
  }

  /** After close or break: stops the workers once nothing is out and nothing runnable is queued. */
  #maybeStop(): void {
    if (this.#stopping || (!this.#closed && this.#broken === undefined) || this.#inFlight !== 0) return;
    for (const job of this.#queued) if (!this.#owner.cancelled(job)) return;
    this.#stopping = true;
    this.#queued.drain();
    Promise.resolve()
      .then(() => this.#owner.stopWorkers())
      .then(this.#resolveStopped, this.#rejectStopped);
  }
}
