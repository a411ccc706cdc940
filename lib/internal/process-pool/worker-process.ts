/**
 * One child process of a process pool, seen from the parent: forks it, speaks the protocol of
 * `internal/worker/process-pool-protocol.ts`, keeps the ordered list of tasks it was sent and has not
 * reported, and reports its death exactly once. The scheduling decisions (what to send, what a death
 * means for each task) belong to the scheduling core (`internal/executor/scheduler.ts`), through
 * `process-lanes.ts`.
 */
import type { EncodedOutcome } from '../transport';
import { Child, childConfig } from '../child/child';
import type { ChannelKind } from '../child/channel';
import { Deque } from '../deque';
import { packBatch, type Job } from '../executor/batch';
import type { ChildMessage, InitMessage, ResultRecord, TasksMessage } from '../worker/process-pool-protocol';

/** A task sent to the child, with what the parent needs to settle it. */
export interface InFlight<J> {
  readonly id: number;
  readonly job: J;
  readonly fast: boolean;
}

/** What the pool hears from one child. */
export interface WorkerEvents<J extends Job> {
  ready(worker: WorkerProcess<J>): void;
  initFailed(worker: WorkerProcess<J>, outcome: EncodedOutcome): void;
  results(worker: WorkerProcess<J>, results: ResultRecord[]): void;
  /** The child is gone (exit, crash, signal, failed spawn); called once. */
  exited(worker: WorkerProcess<J>, code: number | null, signal: NodeJS.Signals | null): void;
}

/** How a pool's children are started. */
export interface ChildSettings {
  /** Extra node flags for the children (e.g. `--max-old-space-size=64`). */
  readonly execArgv: readonly string[];
  /** Names the owner in leak reports and the children's names ("ProcessPoolExecutor", "Pool"). */
  readonly label: string;
  /** Their IPC channel's serialization (internal/child/channel.ts). @default 'advanced' */
  readonly channel?: ChannelKind;
}

/** `starting` until its initializer ran; `retiring` once asked to end; `dead` once reaped. */
export type WorkerState = 'starting' | 'ready' | 'retiring' | 'dead';

/**
 * A forked child of a process pool: a daemon child (internal/child) with a lifeline. It exits when
 * its IPC channel closes: when the pool retires it, and also when the parent dies, however it dies.
 * Death is reported once, after the child has been reaped and every message it sent has been delivered.
 */
export class WorkerProcess<J extends Job> {
  readonly #child: Child;
  readonly #events: WorkerEvents<J>;
  #state: WorkerState = 'starting';
  #nextId = 0;
  #endedByPool = false;
  #slowInFlight = 0;
  #flushedAtExit = false;
  /** Sent and not yet reported, in the order sent (which is the order the child runs them). */
  readonly inFlight = new Deque<InFlight<J>>();
  /** Tasks ever sent to this child (for maxTasksPerChild). */
  assigned = 0;

  constructor(init: InitMessage, settings: ChildSettings, events: WorkerEvents<J>) {
    this.#events = events;
    const { execArgv, label, channel } = settings;
    this.#child = new Child({
      entry: 'process-entry',
      config: childConfig(`${label}Worker`, { daemon: true, channel }),
      execArgv,
      label: `${label} child`,
      // A daemon: terminated when the parent exits while it runs (Python's atexit for daemonic children).
      signalAtExit: 'SIGTERM',
      onMessage: (message) => this.#onMessage(message as ChildMessage),
      onGone: (status) => {
        this.#state = 'dead';
        this.#events.exited(this, status?.code ?? null, status?.signal ?? null);
      },
    });
    this.#send(init);
  }

  #onMessage(message: ChildMessage): void {
    switch (message.type) {
      case 'ready':
        if (this.#state === 'starting') this.#state = 'ready';
        this.#events.ready(this);
        break;
      case 'init-failed':
        this.#events.initFailed(this, message.outcome);
        break;
      case 'results':
        this.#events.results(this, message.results);
        break;
      case 'exiting':
        this.#flushedAtExit = true;
        break;
    }
  }

  get state(): WorkerState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True when the child said, while exiting, that it had sent every finished result (process-pool-protocol.ts). */
  get flushedAtExit(): boolean {
    return this.#flushedAtExit;
  }

  /** True once the pool asked the child to end (retire or kill): its exit is no surprise. */
  get endedByPool(): boolean {
    return this.#endedByPool;
  }

  /**
   * Sends jobs as one `tasks` message; `fast[i]` marks job i fast (process-pool-protocol.ts). Returns the jobs
   * that could not be serialized (they were not sent), with the error.
   */
  sendTasks(jobs: readonly J[], fast: readonly boolean[]): { job: J; error: unknown }[] {
    try {
      this.#sendBatch(jobs, fast);
      return [];
    } catch {
      // An argument the encoder let through but v8 cannot serialize: find it, send the others.
      const failed: { job: J; error: unknown }[] = [];
      jobs.forEach((job, i) => {
        try {
          this.#sendBatch([job], [fast[i]]);
        } catch (error) {
          failed.push({ job, error });
        }
      });
      return failed;
    }
  }

  /** Removes the oldest in-flight task (its result arrived). */
  shiftInFlight(): InFlight<J> | undefined {
    const sent = this.inFlight.shift();
    if (sent !== undefined && !sent.fast) this.#slowInFlight--;
    return sent;
  }

  /** In-flight tasks not marked fast. */
  get slowInFlight(): number {
    return this.#slowInFlight;
  }

  #sendBatch(jobs: readonly J[], fast: readonly boolean[]): void {
    const slow: number[] = [];
    for (let i = 0; i < fast.length; i++) if (!fast[i]) slow.push(i);
    // Throws before anything is recorded when a value cannot be serialized.
    this.#send({ type: 'tasks', first: this.#nextId, batch: packBatch(jobs), slow } satisfies TasksMessage);
    for (let i = 0; i < jobs.length; i++) this.inFlight.push({ id: this.#nextId++, job: jobs[i], fast: fast[i] });
    this.#slowInFlight += slow.length;
    this.assigned += jobs.length;
  }

  /**
   * Whether this child keeps the parent alive. An idle pool must not: a program that forgets
   * shutdown() still exits, and its children follow on 'disconnect'.
   */
  setReferenced(referenced: boolean): void {
    this.#child.idle = !referenced;
    if (this.#state !== 'dead') this.#child.keepAlive(referenced);
  }

  /** Ends the child once it has finished what it was sent: it exits on 'disconnect'. */
  retire(): void {
    if (this.#state === 'dead' || this.#state === 'retiring') return;
    this.#state = 'retiring';
    this.#endedByPool = true;
    // Keep the parent alive until the child has really exited, so it is reaped before we return.
    this.setReferenced(true);
    this.#child.idle = true;
    this.#child.disconnect();
  }

  /** Ends the child at once (SIGKILL) and resolves when it has been reaped. */
  kill(): Promise<void> {
    if (this.#state !== 'dead') {
      this.#state = 'retiring';
      this.#endedByPool = true;
    }
    return this.#child.kill().then(() => undefined);
  }

  #send(message: unknown): void {
    // A send racing the child's death emits 'error' (ignored by the core); 'exit' then reports the death.
    this.#child.send(message);
  }
}
