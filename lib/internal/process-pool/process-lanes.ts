/**
 * The process pools' workers for the scheduling core (`internal/executor/scheduler.ts`), shared by
 * ProcessPoolExecutor and multiprocessing.Pool: one lane per forked child (`worker-process.ts`),
 * speaking the protocol of `internal/worker/process-pool-protocol.ts`.
 *
 * A child is `starting` until its initializer has run and it said `ready`; its first job is sent at
 * once (it runs it when ready). Lanes pipeline: a child that runs fast jobs is kept up to PIPELINE_DEPTH
 * jobs ahead, in messages of at most MAX_BATCH, so it never waits for a round trip.
 *
 * A child's death is accounted by the protocol's rule: of its unreported jobs in order, the first
 * was running; after a fast first job, the run of fast jobs right behind it may have run with their
 * results held, so they count as having run too — unless the child said, while exiting, that it had
 * flushed every result (`exiting`); every other job never started.
 */
import { decodeError } from '../transport';
import type { Job } from '../executor/batch';
import type { WireInitializer } from '../executor/run-item';
import type { Lane, LaneEvents, LaneState, WorkerKind } from '../executor/scheduler';
import type { InitMessage, ResultRecord } from '../worker/process-pool-protocol';
import { WorkerProcess, type ChildSettings } from './worker-process';

/** Jobs sent to one child ahead of its results, at most (fast jobs only). */
const PIPELINE_DEPTH = 128;
/** Jobs in one `tasks` message, at most. */
const MAX_BATCH = 64;

export interface ProcessLanesOptions extends ChildSettings {
  readonly initializer: WireInitializer | undefined;
}

export class ProcessLanes<J extends Job> implements WorkerKind<J> {
  readonly names = { worker: 'process', pool: 'process pool' };
  readonly maxBatch = MAX_BATCH;
  readonly depth = PIPELINE_DEPTH;
  readonly pipelined = true;
  readonly #options: ProcessLanesOptions;
  readonly #init: InitMessage;
  /** Every child not yet reaped. */
  readonly #children = new Set<WorkerProcess<J>>();
  #closed: Promise<void> | undefined;
  #allExited: (() => void) | undefined;

  constructor(options: ProcessLanesOptions) {
    this.#options = options;
    this.#init = { type: 'init', initializer: options.initializer ?? null };
  }

  open(events: LaneEvents<J>): Lane<J> {
    const lane = new ChildLane<J>(events, () => this.#exited(lane.child));
    lane.start(this.#init, this.#options);
    this.#children.add(lane.child);
    return lane;
  }

  /** Resolves once every child has exited and been reaped (the scheduler has retired or killed them all). */
  close(): Promise<void> {
    this.#closed ??= this.#children.size === 0 ? Promise.resolve() : new Promise((resolve) => (this.#allExited = resolve));
    return this.#closed;
  }

  #exited(child: WorkerProcess<J>): void {
    this.#children.delete(child);
    if (this.#children.size === 0) this.#allExited?.();
  }
}

/** One child process of the pool. */
class ChildLane<J extends Job> implements Lane<J> {
  readonly #events: LaneEvents<J>;
  readonly #gone: () => void;
  #child!: WorkerProcess<J>;
  #everReady = false;

  constructor(events: LaneEvents<J>, gone: () => void) {
    this.#events = events;
    this.#gone = gone;
  }

  start(init: InitMessage, settings: ChildSettings): void {
    this.#child = new WorkerProcess<J>(init, settings, {
      ready: () => {
        this.#everReady = true;
        this.#events.ready(this);
      },
      initFailed: (_child, outcome) => {
        let cause: unknown;
        try {
          cause = outcome.ok ? undefined : decodeError(outcome.error);
        } catch (error) {
          cause = error;
        }
        this.#events.initFailed(this, cause);
      },
      results: (_child, results) => this.#results(results),
      exited: (_child, code, signal) => this.#exited(code, signal),
    });
  }

  get child(): WorkerProcess<J> {
    return this.#child;
  }

  get state(): LaneState {
    return this.#child.state;
  }

  get inFlight(): number {
    return this.#child.inFlight.length;
  }

  get slowInFlight(): number {
    return this.#child.slowInFlight;
  }

  get assigned(): number {
    return this.#child.assigned;
  }

  get label(): string {
    return `child process (pid ${this.#child.pid})`;
  }

  send(jobs: J[], fast: readonly boolean[]): void {
    for (const { job, error } of this.#child.sendTasks(jobs, fast)) this.#events.unsendable(this, job, error);
  }

  retire(): void {
    this.#child.retire();
  }

  abandon(): J[] {
    const jobs = this.#child.inFlight.drain().map((sent) => sent.job);
    void this.#child.kill();
    return jobs;
  }

  keepAlive(busy: boolean): void {
    if (this.#child.state === 'ready' || this.#child.state === 'starting') this.#child.setReferenced(busy);
  }

  #results(results: ResultRecord[]): void {
    for (const [id, outcome, ms] of results) {
      const sent = this.#child.inFlight.peek();
      if (sent === undefined || sent.id !== id) {
        // Cannot happen with a well-behaved child; never settle the wrong job. Its death fails the rest.
        void this.#child.kill();
        return;
      }
      this.#child.shiftInFlight();
      this.#events.finished(this, sent.job, outcome, ms);
    }
    this.#events.idle(this);
  }

  #exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.#gone();
    const lost = this.#child.inFlight.drain();
    if (lost.length === 0 && this.#child.endedByPool) {
      this.#events.ended(this);
      return;
    }
    // The protocol's rule (see the header).
    let ran = lost.length > 0 ? 1 : 0;
    if (ran === 1 && !this.#child.flushedAtExit && lost[0].fast) while (ran < lost.length && lost[ran].fast) ran++;
    this.#events.died(this, {
      ran: lost.slice(0, ran).map((sent) => sent.job),
      unstarted: lost.slice(ran).map((sent) => sent.job),
      how: signal !== null ? `signal ${signal}` : `exit code ${code}`,
      beforeReady: !this.#everReady && !this.#child.endedByPool,
    });
  }
}
