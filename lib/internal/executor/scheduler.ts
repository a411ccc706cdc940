/**
 * The scheduling core of every worker pool — ThreadPoolExecutor, ProcessPoolExecutor and
 * multiprocessing.Pool: which worker gets which jobs and how many at a time, what a worker's death
 * or failed initializer means for each job, when the pool is broken, and how it ends. The jobs wait
 * in the owner's {@link JobQueue}; the workers are a {@link WorkerKind}'s lanes (a thread pool's
 * batch slots, or child processes), which only carry out what this file decides.
 *
 * Lanes. A lane is one worker's share of the work in flight: a child process, or one batch slot of
 * the thread pool (piscina runs one batch per thread, so `maxWorkers` slots keep every thread busy).
 * Lanes open lazily — queued work that finds no lane with room opens one, up to `maxWorkers` — and
 * stay warm until shutdown. A lane is `starting` while its worker boots (a child runs its initializer
 * before it says it is ready), `ready`, `retiring` once asked to end, `dead` once gone.
 *
 * Batches: one fast/slow rule. A job is fast when it ran for at most FAST_MS in its worker; the
 * scheduler remembers whether the latest result was fast, and per target whether its latest run was.
 * - While the work is slow, or not measured yet, a lane is given one job, and only when it holds
 *   none: every other job stays cancellable in the queue, and no job waits behind a slow one while
 *   a worker is idle. (A starting lane takes its first job at once, so that work a worker is being
 *   started for is RUNNING, as with Python's call queue.)
 * - Once the latest job ran fast, lanes are sent batches: one message carries many jobs and brings
 *   back many results. Each lane's share of the queue is fixed when a dispatch begins —
 *   `ceil(queued / maxWorkers)` — and dealt in FEED_ROUNDS slices, in turn with the other lanes, so
 *   that every lane works on the front of the queue (`map` yields in input order) and a
 *   known-fast function that turns slow on new input does not land on one lane. A message holds at
 *   most the kind's `maxBatch` jobs; a pipelined kind (child processes) keeps up to `depth` jobs
 *   in flight per lane, all marked fast, so a child never waits for a round trip.
 * - When the queue is empty and a lane is idle, the kind may hand it jobs another lane holds but has
 *   not started (the thread pool's steal), so no job waits behind a blocked one while a worker is free.
 *
 * Lone jobs. A job is short when it ran for at most SHORT_MS. When a dispatch sent exactly one job,
 * of a short target, nothing else waits, and no other job of any pool of this process runs, the
 * program is most likely waiting for that one result (a program with other work out — a server, a
 * queue's worker with several slots — has other things to do meanwhile): the lane may wait for it on the spot, for a few µs, instead of letting its thread go
 * idle until the worker's message wakes it (a kind whose results land in shared memory; the thread
 * pool does, see thread-lanes.ts for why it pays). Such a lane is warm: its worker is awake and
 * frees itself within µs. Until it does (WARM_WAIT_MS at most), a lone job waits in the queue for
 * it rather than waking another worker (which would start late, while three threads share two
 * CPUs).
 *
 * Deaths: one accounting rule. When a lane's worker dies, the kind says, by its own evidence (the
 * batch slot's claim word, or the child's progress reports), which of the lane's jobs may have been
 * running and which never started. Those that may have run fail with the Broken error naming the
 * worker and how it ended (exit code or signal), and their targets count as slow from then on; those
 * that never started go back to the front of the queue; the lane is replaced if work remains. A
 * worker that dies before it was ready could not even start: respawning it would loop forever, so the
 * pool breaks instead (Python's BrokenProcessPool), with the same message for both kinds.
 *
 * Initializers: one failure path. A worker whose initializer throws runs none of its jobs: they fail
 * with the Broken error whose cause is the initializer's error, the error is printed once per pool
 * ("Exception in initializer:", as Python logs it), and the pool breaks.
 *
 * Broken: the queue fails every queued job and refuses new ones; lanes still starting are ended and
 * their jobs failed; jobs already running on ready workers finish and are reported.
 */
import type { EncodedOutcome, EncodedTarget } from '../transport';
import type { Job } from './batch';
import { jobsOutInProcess, type JobQueue } from './job-queue';

/** A job that ran at most this many milliseconds in its worker is fast (see the header). */
export const FAST_MS = 1;
/** A job that ran at most this many milliseconds is short: worth waiting for on the spot when alone (see the header). */
export const SHORT_MS = 0.01;
/**
 * A lone job waits at most this long for the warm lane (see the header): its worker has finished
 * and only has to say so, in µs, unless the task left the thread busy after it returned.
 */
const WARM_WAIT_MS = 1;
/** A lane's share of the queue goes out in this many slices, dealt in turn with the other lanes. */
const FEED_ROUNDS = 4;

export type LaneState = 'starting' | 'ready' | 'retiring' | 'dead';

/** One worker's share of the work in flight (see the header); made by a {@link WorkerKind}. */
export interface Lane<J extends Job> {
  readonly state: LaneState;
  /** Jobs sent and not yet reported. */
  readonly inFlight: number;
  /** Of those, the ones not marked fast. */
  readonly slowInFlight: number;
  /** Jobs ever sent (`maxTasksPerWorker`). */
  readonly assigned: number;
  /** The worker as messages name it: `worker thread`, `child process (pid 123)`. */
  readonly label: string;
  /** Sends jobs as one message; `fast[i]` marks job i fast. */
  send(jobs: J[], fast: readonly boolean[]): void;
  /** Ends the worker once it has finished what it was sent. */
  retire(): void;
  /** Takes back every job sent and not reported (none of them will be reported) and ends the worker if it may still run them. */
  abandon(): J[];
  /** Whether the worker may keep the process alive: while it has work, or work is queued. */
  keepAlive(busy: boolean): void;
  /**
   * The lane was just sent one short job and no other job waits or runs: waits on the spot, briefly
   * (the kind knows how long pays), for its result, and reports it if it came (a kind whose
   * results are in shared memory; see "Lone jobs" in the header). Returns true when it did: the
   * lane then reports idle as soon as its worker's message comes.
   */
  awaitLone?(): boolean;
}

/** What a lane tells the scheduler. */
export interface LaneEvents<J extends Job> {
  /** The worker finished starting (its initializer returned): it may be sent batches. */
  ready(lane: Lane<J>): void;
  /** A job finished in `ms` milliseconds of running in the worker. */
  finished(lane: Lane<J>, job: J, outcome: EncodedOutcome, ms: number): void;
  /** Jobs the lane never started and gives back (it ended a batch early). */
  returned(lane: Lane<J>, jobs: J[]): void;
  /** A job whose arguments could not be sent; the lane lives on. */
  unsendable(lane: Lane<J>, job: J, error: unknown): void;
  /** The worker's initializer threw `cause` (decoded); the lane's jobs never ran. */
  initFailed(lane: Lane<J>, cause: unknown): void;
  /** The worker died: see {@link Death}. */
  died(lane: Lane<J>, death: Death<J>): void;
  /** The lane's worker is gone without a loss (retired or killed by the pool). */
  ended(lane: Lane<J>): void;
  /** The lane reported what it had to: it may take more work. */
  idle(lane: Lane<J>): void;
}

/** A lane's account of its worker's death. */
export interface Death<J> {
  /** Jobs that may have been running (or may have run with their results unsent). */
  readonly ran: J[];
  /** Jobs that never started. */
  readonly unstarted: J[];
  /** "exit code 3", "signal SIGKILL", or the error that ended a worker thread. */
  readonly how: string;
  /** The error behind it, when the kind knows one (a worker thread's out-of-memory error). */
  readonly cause?: unknown;
  /** True when the worker never became ready (or can no longer be started at all). */
  readonly beforeReady: boolean;
}

/** How a kind's workers and pool are called in messages. */
export interface KindNames {
  /** `thread` / `process`, as in "a thread initializer failed". */
  readonly worker: string;
  /** `thread pool` / `process pool`. */
  readonly pool: string;
}

/** The workers of one kind: how lanes are opened and ended. */
export interface WorkerKind<J extends Job> {
  readonly names: KindNames;
  /** Jobs in one message, at most. */
  readonly maxBatch: number;
  /** Jobs in flight per lane, at most. */
  readonly depth: number;
  /** Whether a lane may take another message before the last one is done (fast jobs only). */
  readonly pipelined: boolean;
  /** Opens a lane (starts a worker, or readies a slot for one). */
  open(events: LaneEvents<J>): Lane<J>;
  /** The queue is empty and a lane idle: jobs another lane holds but has not started, taken from it; or []. */
  steal?(lanes: ReadonlySet<Lane<J>>): J[];
  /** Every lane is idle or retiring: ends every worker; resolves once no thread, process or handle is left. */
  close(): Promise<void>;
}

/** The one job a dispatch sent, and its lane. */
interface LoneSend<J extends Job> {
  readonly lane: Lane<J>;
  readonly job: J;
}

export interface SchedulerOptions {
  readonly maxWorkers: number;
  /** Jobs a worker runs before it is replaced (a kind whose lanes are workers). */
  readonly maxTasksPerWorker?: number;
}

/** How long a target's latest run was: short (≤ SHORT_MS), fast (≤ FAST_MS) or slow. */
const SHORT = 2;
const FAST = 1;
const SLOW = 0;

/** Whether jobs run fast: the latest result, and per target its latest run. */
class FastTracker {
  #recent = false;
  readonly #byTarget = new WeakMap<EncodedTarget, number>();

  /** Whether the latest job that finished ran fast (unknown work counts as slow). */
  get recent(): boolean {
    return this.#recent;
  }

  isFast(target: EncodedTarget): boolean {
    return (this.#byTarget.get(target) ?? SLOW) >= FAST;
  }

  isShort(target: EncodedTarget): boolean {
    return this.#byTarget.get(target) === SHORT;
  }

  record(target: EncodedTarget, ms: number): void {
    const speed = ms <= SHORT_MS ? SHORT : ms <= FAST_MS ? FAST : SLOW;
    this.#recent = speed !== SLOW;
    if (this.#byTarget.get(target) !== speed) this.#byTarget.set(target, speed);
  }

  /** A job of `target` was running when its worker died: treat that work as slow from now on. */
  slow(target: EncodedTarget): void {
    this.#recent = false;
    this.#byTarget.set(target, SLOW);
  }
}

/** Python logs "Exception in initializer:" with the traceback; so do we, on stderr, once per pool. */
export function reportInitializerFailure(cause: unknown): void {
  console.error('Exception in initializer:', cause);
}

/** The error's summary for a Broken error's message: "ValueError: error in initializer". */
function summary(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

export class Scheduler<J extends Job> {
  readonly #kind: WorkerKind<J>;
  readonly #jobs: JobQueue<J>;
  readonly #maxWorkers: number;
  readonly #maxTasks: number;
  readonly #lanes = new Set<Lane<J>>();
  readonly #events: LaneEvents<J>;
  readonly #fast = new FastTracker();
  #broken = false;
  #closing = false;
  #terminated = false;
  /** The lane whose lone job was reported on the spot, until it reports idle (see "Lone jobs"), and since when. */
  #warm: Lane<J> | undefined;
  #warmSince = 0;
  /** Dispatches again once a lone job has waited WARM_WAIT_MS for the warm lane; armed at most once at a time. */
  #warmTimer: NodeJS.Timeout | undefined;
  #warmTimerArmed = false;
  /** What the current dispatch sent: nothing, one job (and to which lane), or more (null). */
  #lone: LoneSend<J> | null | undefined;

  constructor(kind: WorkerKind<J>, jobs: JobQueue<J>, options: SchedulerOptions) {
    this.#kind = kind;
    this.#jobs = jobs;
    this.#maxWorkers = options.maxWorkers;
    this.#maxTasks = options.maxTasksPerWorker ?? Infinity;
    this.#events = {
      ready: () => this.dispatch(),
      finished: (_lane, job, outcome, ms) => {
        this.#fast.record(job.target, ms);
        this.#jobs.complete(job, outcome);
      },
      returned: (_lane, jobs) => this.#jobs.requeue(jobs),
      unsendable: (_lane, job, error) => {
        const reason = error instanceof Error ? error.message : String(error);
        this.#jobs.fail(job, new TypeError(`an argument of the task cannot be sent to a ${this.#kind.names.worker}: ${reason}`));
      },
      initFailed: (lane, cause) => {
        this.#cool(lane);
        this.#initFailed(lane, cause);
      },
      died: (lane, death) => {
        this.#cool(lane);
        this.#died(lane, death);
      },
      ended: (lane) => {
        this.#cool(lane);
        this.#lanes.delete(lane);
        this.dispatch();
      },
      idle: (lane) => {
        this.#cool(lane);
        this.dispatch();
      },
    };
  }

  /** True while the latest job ran fast, so lanes are sent batches (see the header). */
  get batching(): boolean {
    return this.#fast.recent;
  }

  /** Hands queued jobs to lanes with room, opens lanes for the rest, retires the ones done with (see the header). */
  dispatch(): void {
    if (this.#broken || this.#terminated) return;
    // A lone job waits for the warm lane (see "Lone jobs"), which dispatches again when it is idle.
    if (this.#warm !== undefined && this.#jobs.size === 1) {
      if (performance.now() - this.#warmSince < WARM_WAIT_MS) {
        this.#armWarmTimer();
        return;
      }
      this.#warm = undefined;
    }
    this.#lone = undefined;
    // A worker that ran its quota is replaced: retire it first, so that it does not count as live.
    for (const lane of this.#lanes) if (lane.inFlight === 0 && lane.assigned >= this.#maxTasks) lane.retire();
    // Each lane's share of the queue is fixed now, for the whole dispatch.
    const share = Math.ceil(this.#jobs.size / this.#maxWorkers);
    const ready: Lane<J>[] = [];
    let room = 0;
    for (const lane of this.#lanes) {
      if (lane.state === 'starting') {
        if (lane.inFlight === 0 && this.#jobs.size > 0 && lane.assigned < this.#maxTasks) this.#send(lane, 1);
      } else if (lane.state === 'ready') {
        ready.push(lane);
        room += this.#room(lane, share);
      }
      if (this.#broken) return;
    }
    // Open lanes for what the ready ones cannot take, up to maxWorkers; a starting one takes its first job at once.
    while (this.#jobs.size > room && this.#live() < this.#maxWorkers) {
      const lane = this.#kind.open(this.#events);
      this.#lanes.add(lane);
      if (lane.state === 'starting') this.#send(lane, 1);
      else {
        ready.push(lane);
        room += this.#room(lane, share);
      }
      if (this.#broken) return;
    }
    this.#deal(ready, share);
    if (this.#broken) return;
    if (this.#closing && this.#jobs.size === 0) for (const lane of this.#lanes) if (lane.inFlight === 0) lane.retire();
    if (this.#jobs.size === 0 && this.#kind.steal !== undefined) {
      for (const lane of ready) {
        if (lane.state !== 'ready' || lane.inFlight > 0) continue;
        const jobs = this.#kind.steal(this.#lanes);
        if (jobs.length === 0) break;
        this.#sendJobs(lane, jobs);
      }
    }
    const queued = this.#jobs.size > 0;
    for (const lane of this.#lanes) lane.keepAlive(queued || lane.inFlight > 0);
    // Last, with the dispatch done (reporting settles futures, whose callbacks may dispatch again).
    // (TypeScript keeps the field narrowed to its reset value across the calls above.)
    const lone = this.#lone as LoneSend<J> | null | undefined;
    if (lone && !queued && jobsOutInProcess() === 1 && this.#fast.isShort(lone.job.target) && lone.lane.awaitLone?.() === true) {
      this.#warm = lone.lane;
      this.#warmSince = performance.now();
    }
  }

  #cool(lane: Lane<J>): void {
    if (this.#warm === lane) this.#warm = undefined;
  }

  /** Makes sure a dispatch comes within WARM_WAIT_MS (a lone job waits for the warm lane). */
  #armWarmTimer(): void {
    if (this.#warmTimerArmed) return;
    this.#warmTimerArmed = true;
    // Made once and re-armed: a program that submits one task at a time waits like this for each.
    if (this.#warmTimer !== undefined) {
      this.#warmTimer.refresh();
      return;
    }
    this.#warmTimer = setTimeout(() => {
      this.#warmTimerArmed = false;
      this.dispatch();
    }, WARM_WAIT_MS).unref();
  }

  /**
   * No more work comes and none is out: retires every lane and ends the workers. Resolves once no
   * thread, process or handle is left.
   */
  shutdown(): Promise<void> {
    this.#closing = true;
    for (const lane of this.#lanes) if (lane.inFlight === 0) lane.retire();
    return this.#kind.close();
  }

  /**
   * Ends every worker at once and fails every job they hold with `reason` (the owner fails its
   * queue). The workers are gone once `shutdown()` resolves.
   */
  terminate(reason: Error): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#closing = true;
    for (const lane of this.#lanes) for (const job of lane.abandon()) this.#jobs.fail(job, reason);
  }

  /** Lanes whose worker is starting or ready. */
  #live(): number {
    let n = 0;
    for (const lane of this.#lanes) if (lane.state === 'starting' || lane.state === 'ready') n++;
    return n;
  }

  /** Deals the queue out to `lanes` in turn, a slice per lane per round, until each has its share or no room (see the header). */
  #deal(lanes: readonly Lane<J>[], share: number): void {
    if (lanes.length === 0 || this.#jobs.size === 0) return;
    const slice = Math.max(1, Math.ceil(share / FEED_ROUNDS));
    const given = new Array<number>(lanes.length).fill(0);
    for (let dealt = true; dealt && this.#jobs.size > 0; ) {
      dealt = false;
      for (let i = 0; i < lanes.length && this.#jobs.size > 0; i++) {
        const n = Math.min(slice, this.#room(lanes[i], share - given[i]));
        if (n <= 0) continue;
        const sent = this.#send(lanes[i], n);
        if (sent === 0) return; // only cancelled jobs were left
        given[i] += sent;
        dealt = true;
        if (this.#broken) return;
      }
    }
  }

  /**
   * Jobs `lane` may take now, at most `shareLeft`: while work is slow, one when it holds none; while
   * fast, up to a message's worth, and more behind jobs in flight only on a pipelined kind.
   */
  #room(lane: Lane<J>, shareLeft: number): number {
    const quota = this.#maxTasks - lane.assigned;
    if (!this.#fast.recent) return lane.inFlight === 0 ? Math.min(1, quota) : 0;
    if (lane.inFlight > 0 && !(this.#kind.pipelined && lane.slowInFlight === 0)) return 0;
    return Math.max(0, Math.min(this.#kind.maxBatch, this.#kind.depth - lane.inFlight, shareLeft, quota));
  }

  /** Takes up to `n` jobs from the queue and sends them to `lane`; returns how many. */
  #send(lane: Lane<J>, n: number): number {
    const jobs = this.#jobs.take(n);
    if (jobs.length > 0) this.#sendJobs(lane, jobs);
    return jobs.length;
  }

  #sendJobs(lane: Lane<J>, jobs: J[]): void {
    this.#lone = this.#lone === undefined && jobs.length === 1 ? { lane, job: jobs[0] } : null;
    lane.send(jobs, jobs.map((job) => this.#fast.isFast(job.target)));
  }

  #died(lane: Lane<J>, death: Death<J>): void {
    if (lane.state === 'dead') this.#lanes.delete(lane);
    const { names } = this.#kind;
    if (death.beforeReady && !this.#broken && !this.#terminated) {
      const message = `a ${lane.label} exited before it was ready (${death.how}); the ${names.pool} is not usable anymore`;
      const error = this.#jobs.brokenErrorFor(message, death.cause);
      for (const job of [...death.ran, ...death.unstarted]) this.#jobs.fail(job, error);
      this.#break(message, death.cause);
      return;
    }
    const error = this.#jobs.brokenErrorFor(`the ${lane.label} running the task died (${death.how})`, death.cause);
    for (const job of death.ran) {
      this.#fast.slow(job.target);
      this.#jobs.fail(job, error);
    }
    this.#jobs.requeue(death.unstarted);
    this.dispatch();
  }

  #initFailed(lane: Lane<J>, cause: unknown): void {
    // Every worker runs the initializer: print the first failure only.
    if (!this.#broken) reportInitializerFailure(cause);
    const message = `a ${this.#kind.names.worker} initializer failed, the ${this.#kind.names.pool} is not usable anymore (${summary(cause)})`;
    const error = this.#jobs.brokenErrorFor(message, cause);
    for (const job of lane.abandon()) this.#jobs.fail(job, error);
    this.#break(message, cause);
  }

  /** The pool is broken (see the header). */
  #break(message: string, cause: unknown): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#jobs.break(message, cause);
    const error = this.#jobs.brokenErrorFor(message, cause);
    for (const lane of this.#lanes) {
      if (lane.state === 'starting') for (const job of lane.abandon()) this.#jobs.fail(job, error);
    }
  }
}
