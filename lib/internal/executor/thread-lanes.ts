/**
 * ThreadPoolExecutor's workers for the scheduling core (`scheduler.ts`): a piscina pool of threads
 * running `internal/worker/pool-thread`, and one lane per batch slot (`batch-slot.ts`). Protocol:
 * `internal/worker/pool-thread-protocol.ts`.
 *
 * A lane is a slot, not a thread: piscina runs one batch per thread and starts threads lazily up to
 * `maxWorkers`, so `maxWorkers` slots keep every thread busy, and a slot outlives a thread that dies
 * (piscina replaces the thread; the slot takes the next batch). What the slot says decides the
 * account of a batch when its thread dies:
 * - the results in its arena are reported (they survive the death);
 * - the item claimed and not reported was running: it fails;
 * - the items never claimed go back to the queue;
 * - a thread that died before it stored READY never started: the pool is broken. So is a pool that
 *   was destroyed from outside (the test suite's leak check), whose batches would otherwise fail
 *   and be retried forever.
 *
 * Stealing: when the queue is empty and a slot is free, the free slot takes the unstarted half of
 * the busy batch with the most items waiting (see batch-slot.ts), so no task waits behind a blocked
 * one while a thread is idle, as with Python's one-task-per-thread queue. A batch's first item is
 * never taken before its thread starts (a lone task would otherwise hop to a second, new thread
 * while the first boots). Termination: each steal moves items to a batch that completes and steals
 * again, until no batch has an item waiting behind another.
 */
import Piscina from 'piscina';
import type { ResourceLimits } from 'node:worker_threads';
import { decodeError, workerEntry, type EncodedTarget } from '../transport';
import { track } from '../tracking';
import { packBatch, type Job, type WireBatch } from './batch';
import {
  allocateSlots, claimRange, COUNT, isReady, MAX_SLOT_ITEMS, readResults, resetSlot, slotViews, stealable, stealTail,
  type ReadCursor, type SlotViews,
} from './batch-slot';
import type { WireInitializer } from './run-item';
import type { Lane, LaneEvents, LaneState, WorkerKind } from './scheduler';
import type { PoolThreadData, PoolThreadReply, PoolThreadTask } from '../worker/pool-thread-protocol';

/** Items per batch, at most: enough that the per-message cost is almost negligible, few enough to balance. */
const MAX_BATCH = Math.min(1024, MAX_SLOT_ITEMS);
/**
 * How long the main thread spins for a lone short job's result (SlotLane.awaitLone): a woken
 * thread takes 5–30 µs here to start, and a short job runs for at most 10 µs (measured against
 * 15, 25 and 60 µs: 40 did best; a miss costs the spin and nothing else, the reply still comes).
 */
const WAIT_MS = 0.04;
/** After a wait that missed, lone jobs go without waiting for twice as many as the last time, up to this many. */
const MAX_WAIT_SKIP = 64;

export interface ThreadLanesOptions {
  readonly maxWorkers: number;
  readonly initializer: WireInitializer | undefined;
  /** Prefix of the threads' names (`<prefix>_<n>`); also names the pool in leak reports. */
  readonly namePrefix: string;
  readonly resourceLimits: ResourceLimits | undefined;
  /** Whether the executor has work out (leak reports: a busy pool is not idle). */
  readonly busy: () => boolean;
}

export class ThreadLanes<J extends Job> implements WorkerKind<J> {
  readonly names = { worker: 'thread', pool: 'thread pool' };
  readonly maxBatch = MAX_BATCH;
  readonly depth = MAX_BATCH;
  readonly pipelined = false;
  readonly #options: ThreadLanesOptions;
  readonly #counter = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  /** Created with the first lane. */
  #pool: Piscina<PoolThreadTask, PoolThreadReply> | undefined;
  #slots: SharedArrayBuffer | undefined;
  readonly #lanes: SlotLane<J>[] = [];
  #untrack: (() => void) | undefined;
  /** Set when the pool was destroyed from outside (the leak check's kill). */
  #killed = false;
  /** Each distinct target's number on the wire, and how many times it was sent whole (see the protocol). */
  readonly #numbers = new WeakMap<EncodedTarget, { readonly number: number; whole: number }>();
  #nextNumber = 0;
  /** Lone jobs still to send without waiting, and how many the last miss set (see waited()). */
  #skipWaits = 0;
  #missPenalty = 0;

  constructor(options: ThreadLanesOptions) {
    this.#options = options;
  }

  open(events: LaneEvents<J>): Lane<J> {
    const slots = (this.#slots ??= allocateSlots(this.#options.maxWorkers));
    const index = this.#lanes.length;
    const lane = new SlotLane<J>(this, slotViews(slots, index), index, events);
    this.#lanes.push(lane);
    return lane;
  }

  steal(lanes: ReadonlySet<Lane<J>>): J[] {
    let victim: SlotLane<J> | undefined;
    let most = 0;
    for (const lane of lanes) {
      const unstarted = (lane as SlotLane<J>).stealable();
      if (unstarted > most) {
        most = unstarted;
        victim = lane as SlotLane<J>;
      }
    }
    return victim?.stealTail() ?? [];
  }

  async close(): Promise<void> {
    // A lane whose results were all collected may still wait for its thread's reply (it comes at
    // once: the thread has nothing left to run); the threads end after it, with nothing in flight.
    await Promise.allSettled(this.#lanes.map((lane) => lane.replied));
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) await pool.destroy();
    this.#untrack?.();
    this.#untrack = undefined;
  }

  /** Whether a lone job's result may be waited for now (not while recent waits missed: a busy machine). */
  mayWait(): boolean {
    if (this.#skipWaits === 0) return true;
    this.#skipWaits--;
    return false;
  }

  /** How the last wait went: a miss doubles the number of lone jobs sent without waiting next. */
  waited(hit: boolean): void {
    this.#missPenalty = hit ? 0 : Math.min(MAX_WAIT_SKIP, this.#missPenalty * 2 || 1);
    this.#skipWaits = this.#missPenalty;
  }

  /** True once the pool was destroyed from outside: every batch fails, so the executor must break. */
  get killed(): boolean {
    return this.#killed;
  }

  /**
   * The wire form of a batch's targets: `[number, target]` pairs, the target whole only for its
   * first `maxWorkers` sends (each thread likely got it by then) or when `whole` is asked, else null.
   */
  wireTargets(targets: readonly EncodedTarget[], whole: boolean): Array<number | EncodedTarget | null> {
    const pairs: Array<number | EncodedTarget | null> = new Array(targets.length * 2);
    for (let i = 0; i < targets.length; i++) {
      let info = this.#numbers.get(targets[i]);
      if (info === undefined) {
        info = { number: this.#nextNumber++, whole: 0 };
        this.#numbers.set(targets[i], info);
      }
      const send = whole || info.whole < this.#options.maxWorkers;
      if (send) info.whole++;
      pairs[2 * i] = info.number;
      pairs[2 * i + 1] = send ? targets[i] : null;
    }
    return pairs;
  }

  /** Runs a batch on some pool thread; the promise settles with the reply, or rejects when the thread died. */
  run(task: PoolThreadTask): Promise<PoolThreadReply> {
    return this.#ensurePool().run(task);
  }

  #ensurePool(): Piscina<PoolThreadTask, PoolThreadReply> {
    if (this.#pool !== undefined) return this.#pool;
    const { filename, execArgv } = workerEntry('pool-thread');
    const { maxWorkers, initializer, namePrefix, resourceLimits, busy } = this.#options;
    const workerData: PoolThreadData = { slots: this.#slots!, initializer, namePrefix, counter: this.#counter };
    const pool = new Piscina<PoolThreadTask, PoolThreadReply>({
      filename,
      execArgv,
      minThreads: 0,
      maxThreads: maxWorkers,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      resourceLimits,
      workerData,
    });
    // A thread that dies with no task is no one's error; with a task, run() rejects and the lane reports it.
    pool.on('error', () => {});
    this.#pool = pool;
    this.#untrack = track({
      kind: 'pool-thread',
      label: namePrefix,
      get idle() {
        return !busy();
      },
      kill: () => {
        this.#killed = true;
        return pool.destroy();
      },
    });
    return pool;
  }
}

/** One batch slot: at most one batch in flight. */
class SlotLane<J extends Job> implements Lane<J> {
  readonly label = 'worker thread';
  readonly slowInFlight = 0;
  readonly #kind: ThreadLanes<J>;
  readonly #views: SlotViews;
  readonly #index: number;
  readonly #events: LaneEvents<J>;
  /** The batch in flight; item i is item i of the slot. Empty when the slot is free. */
  #jobs: J[] = [];
  /** Its wire form, kept to send it again to a thread that did not know a target. */
  #wire: WireBatch | undefined;
  /** Items `[0, end)` belong to this batch as far as this side knows (lowered by steals). */
  #end = 0;
  #assigned = 0;
  /** Settles once the batch in flight, if any, is over (its reply or its thread's death handled). */
  #replied: Promise<void> = Promise.resolve();
  /** Results of the batch reported so far (see {@link SlotLane.awaitLone}). */
  readonly #read: ReadCursor = { count: 0, offset: 0 };

  constructor(kind: ThreadLanes<J>, views: SlotViews, index: number, events: LaneEvents<J>) {
    this.#kind = kind;
    this.#views = views;
    this.#index = index;
    this.#events = events;
  }

  get state(): LaneState {
    return 'ready';
  }

  get inFlight(): number {
    return this.#end;
  }

  get assigned(): number {
    return this.#assigned;
  }

  send(jobs: J[]): void {
    this.#jobs = jobs;
    this.#end = jobs.length;
    this.#assigned += jobs.length;
    this.#wire = packBatch(jobs);
    this.#run(false);
  }

  /** Sends the batch in flight (again, with every target whole, after a `missing` reply). */
  #run(whole: boolean): void {
    const [targets, items] = this.#wire!;
    // Items stolen meanwhile (beyond #end) stay with the lane that took them.
    resetSlot(this.#views, this.#end);
    this.#read.count = 0;
    this.#read.offset = 0;
    let reply: Promise<PoolThreadReply>;
    try {
      reply = this.#kind.run([this.#index, this.#kind.wireTargets(targets, whole), items]);
    } catch (error) {
      // piscina refused the task outright (a pool that cannot start threads): as a death before ready.
      reply = Promise.reject(error);
    }
    this.#replied = reply.then(
      (value) => this.#finish(value, undefined),
      (error: unknown) => this.#finish(undefined, error ?? new Error('the worker thread failed')),
    );
  }

  /**
   * The lane was just sent a lone short job (scheduler.ts, "Lone jobs"): spins for its result for
   * at most WAIT_MS and reports it if it came. Why it pays on this machine's kind of VM: a thread
   * that goes idle in the event loop is woken by the worker's reply through the hypervisor, which
   * costs about 20 µs, longer than a short task runs; spinning keeps this thread awake, and the
   * result is in the slot's arena before the reply is even posted. The lane stays in flight until
   * the reply (the thread is piscina's until then), and `#finish` reads only what is left.
   */
  awaitLone(): boolean {
    if (this.#end !== 1 || this.#read.count !== 0 || !this.#kind.mayWait()) return false;
    const header = this.#views.header;
    if (Atomics.load(header, COUNT) === 0) {
      const until = performance.now() + WAIT_MS;
      while (Atomics.load(header, COUNT) === 0) {
        if (performance.now() > until) {
          this.#kind.waited(false);
          return false;
        }
      }
    }
    this.#kind.waited(true);
    const jobs = this.#jobs;
    readResults(this.#views, this.#read, (outcome, ms, i) => this.#events.finished(this, jobs[i], outcome, ms));
    return true;
  }

  /** Settles once the batch in flight, if any, is over (what close() waits for). */
  get replied(): Promise<void> {
    return this.#replied;
  }

  /** Items a steal may take from this batch. */
  stealable(): number {
    if (this.#end === 0) return 0;
    return stealable(claimRange(this.#views.header).next, this.#end);
  }

  /** Takes the unstarted tail of this batch back (it now belongs to the stealer). */
  stealTail(): J[] {
    const range = stealTail(this.#views.header);
    if (range === undefined) return [];
    this.#end = range.from;
    return this.#jobs.slice(range.from, range.to);
  }

  retire(): void {
    // The threads belong to the pool, which ThreadLanes.close() ends.
  }

  abandon(): J[] {
    // Only asked of a lane whose thread will run nothing more (its initializer failed): the batch is over.
    const jobs = this.#jobs.slice(this.#read.count, this.#end);
    this.#free();
    return jobs;
  }

  keepAlive(): void {
    // piscina refs a thread while it runs a task and unrefs it when idle.
  }

  /** Reports every item of a finished (or dead) batch, then frees the slot. */
  #finish(reply: PoolThreadReply, death: unknown): void {
    if (this.#end === 0 && this.#jobs.length === 0) return; // abandoned meanwhile
    const jobs = this.#jobs;
    const end = this.#end;
    if (reply !== undefined && 'missing' in reply) {
      this.#run(true); // nothing ran: the thread did not know a target
      return;
    }
    if (reply !== undefined && 'initError' in reply) {
      let cause: unknown;
      try {
        cause = decodeError(reply.initError);
      } catch (error) {
        cause = error;
      }
      this.#events.initFailed(this, cause);
      return;
    }
    // Arena results first (they survive a death), then the reply's tail, both in item order.
    let settled = readResults(this.#views, this.#read, (outcome, ms, i) => this.#events.finished(this, jobs[i], outcome, ms));
    if (reply !== undefined) this.#events.finished(this, jobs[settled++], reply.tail, reply.ms);
    const { next } = claimRange(this.#views.header);
    const ready = isReady(this.#views.header);
    this.#free();
    // Claimed-but-unreported cannot happen on success; on a death it is the one item that was running.
    const ran = death !== undefined && next > settled ? jobs.slice(settled, settled + 1) : [];
    const unstarted = jobs.slice(Math.max(settled + ran.length, next), end);
    if (death !== undefined) {
      this.#events.died(this, { ran, unstarted, how: deathDetail(death), cause: death, beforeReady: !ready || this.#kind.killed });
    } else {
      this.#events.returned(this, unstarted);
    }
    this.#events.idle(this);
  }

  #free(): void {
    this.#wire = undefined;
    this.#jobs = [];
    this.#end = 0;
    Atomics.store(this.#views.header, COUNT, 0);
  }
}

/** "exit code 3", or the error that killed the thread. */
function deathDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const exit = /exited with code:?\s*(-?\d+)/.exec(message);
  if (exit !== null) return `exit code ${exit[1]}`;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
