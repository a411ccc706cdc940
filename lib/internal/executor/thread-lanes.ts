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
  allocateSlots, awaitResult, claimRange, closeClaims, COUNT, isReady, MAX_SLOT_ITEMS, readResults, release, resetSlot, slotViews,
  stealable, stealTail, type SlotViews,
} from './batch-slot';
import type { WireInitializer } from './run-item';
import type { Lane, LaneEvents, LaneState, WorkerKind } from './scheduler';
import type { PoolThreadData, PoolThreadReply, PoolThreadTask } from '../worker/pool-thread-protocol';

/** Items per batch, at most: enough that the per-message cost is almost negligible, few enough to balance. */
const MAX_BATCH = Math.min(1024, MAX_SLOT_ITEMS);
/** Losses in a row after which a {@link Shortcut} is not taken for a while. */
const MAX_LOSSES = 4;
/** Chances a {@link Shortcut} skips after MAX_LOSSES losses, before it is tried again. */
const SKIPS = 64;

/**
 * A shortcut that pays only when the timing is on its side — sending a lone job early, waiting for
 * its result on the spot: taken while it pays; after MAX_LOSSES losses in a row, not taken for the
 * next SKIPS chances, then tried once more (as park.ts bounds its spin).
 */
class Shortcut {
  #losses = 0;
  #skips = 0;

  /** Whether to take it this time. */
  take(): boolean {
    if (this.#skips === 0) return true;
    this.#skips--;
    return false;
  }

  /** How it went when taken. */
  record(paid: boolean): void {
    if (paid) this.#losses = 0;
    else if (++this.#losses >= MAX_LOSSES) {
      this.#losses = 0;
      this.#skips = SKIPS;
    }
  }
}

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
  #opened = 0;
  #untrack: (() => void) | undefined;
  /** Set when the pool was destroyed from outside (the leak check's kill). */
  #killed = false;
  /** Sending a lone job early, held (see `holds`). */
  readonly #earlySend = new Shortcut();
  /** Waiting on the spot for the result of a job released to an awake thread (see `pollsResult`). */
  readonly #resultPoll = new Shortcut();
  /** Each distinct target's number on the wire, and how many times it was sent whole (see the protocol). */
  readonly #numbers = new WeakMap<EncodedTarget, { readonly number: number; whole: number }>();
  #nextNumber = 0;

  constructor(options: ThreadLanesOptions) {
    this.#options = options;
  }

  open(events: LaneEvents<J>): Lane<J> {
    const slots = (this.#slots ??= allocateSlots(this.#options.maxWorkers));
    return new SlotLane<J>(this, slotViews(slots, this.#opened), this.#opened++, events);
  }

  /**
   * Whether to send a lone job early, held (see the scheduling core). It pays when the thread,
   * woken at once, is still polling when the caller's stretch ends; when the thread went to sleep
   * first — a busy machine that delays the caller, or a long stretch — the release must wake it
   * again, which costs more than the head start gained: a loss (see {@link Shortcut}).
   */
  holds(): boolean {
    return this.#earlySend.take();
  }

  /** A held batch was released: `won` unless its thread had gone to sleep waiting. */
  heldReleased(won: boolean): void {
    this.#earlySend.record(won);
  }

  /**
   * Whether to wait on the spot for the result of a lone job just released (`awaitResult` in
   * batch-slot.ts): when the event loop goes to sleep instead, the thread's reply must wake it,
   * which costs more here than the whole task; so for short tasks the poll pays, and a task that
   * is not done within it is a loss (see {@link Shortcut}): long tasks soon stop being waited for.
   */
  pollsResult(): boolean {
    return this.#resultPoll.take();
  }

  /** A result poll ended: `won` when the result came. */
  resultPolled(won: boolean): void {
    this.#resultPoll.record(won);
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
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) await pool.destroy();
    this.#untrack?.();
    this.#untrack = undefined;
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
  /** True from sending a batch until its thread's reply (or death) is in. */
  #outstanding = false;
  /** Results of the batch reported before its reply came (see `release`). */
  #reported = 0;
  #assigned = 0;

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
    // A held batch taken back (cancelled) counts as one until its thread replies: the slot is not free before.
    return this.#outstanding ? Math.max(this.#end, 1) : 0;
  }

  get assigned(): number {
    return this.#assigned;
  }

  send(jobs: J[], _fast: readonly boolean[], held = false): void {
    this.#jobs = jobs;
    this.#end = jobs.length;
    this.#assigned += jobs.length;
    this.#wire = packBatch(jobs);
    this.#run(false, held);
  }

  release(begin: (job: J) => boolean): void {
    const { header } = this.#views;
    if (!begin(this.#jobs[0])) {
      // Cancelled: take it back before the thread may claim it; the thread then replies at once.
      closeClaims(header);
      this.#jobs = [];
      this.#end = 0;
      this.#kind.heldReleased(release(header));
      return;
    }
    this.#kind.heldReleased(release(header));
    // A short task's result is moments away: reported as soon as it is in the slot, it spares the
    // event loop a sleep and the reply's wake-up (see `ThreadLanes.pollsResult`).
    if (this.#kind.pollsResult()) {
      const came = awaitResult(header);
      this.#kind.resultPolled(came);
      if (came) {
        const jobs = this.#jobs;
        this.#reported = readResults(this.#views, (outcome, ms, i) => this.#events.finished(this, jobs[i], outcome, ms));
      }
    }
  }

  /** Sends the batch in flight (again, with every target whole, after a `missing` reply). */
  #run(whole: boolean, held = false): void {
    const [targets, items] = this.#wire!;
    this.#outstanding = true;
    // Items stolen meanwhile (beyond #end) stay with the lane that took them.
    resetSlot(this.#views, this.#end, held);
    let reply: Promise<PoolThreadReply>;
    try {
      reply = this.#kind.run([this.#index, this.#kind.wireTargets(targets, whole), items]);
    } catch (error) {
      // piscina refused the task outright (a pool that cannot start threads): as a death before ready.
      reply = Promise.reject(error);
    }
    reply.then(
      (value) => this.#finish(value, undefined),
      (error: unknown) => this.#finish(undefined, error ?? new Error('the worker thread failed')),
    );
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
    const jobs = this.#jobs.slice(0, this.#end);
    this.#free();
    return jobs;
  }

  keepAlive(): void {
    // piscina refs a thread while it runs a task and unrefs it when idle.
  }

  /** Reports every item of a finished (or dead) batch, then frees the slot. */
  #finish(reply: PoolThreadReply, death: unknown): void {
    this.#outstanding = false;
    if (this.#jobs.length === 0) {
      // A held batch taken back: nothing ran, nothing to report (a failed initializer or a thread
      // that cannot start is reported with the next batch, which meets it again).
      this.#free();
      queueMicrotask(this.#reportIdle);
      return;
    }
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
    const reported = this.#reported;
    let settled = readResults(this.#views, (outcome, ms, i) => {
      if (i >= reported) this.#events.finished(this, jobs[i], outcome, ms);
    });
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
    queueMicrotask(this.#reportIdle);
  }

  /**
   * Tells the scheduler the slot is free, in a microtask: after the awaiters of the results just
   * settled, whose next lone task then goes to this slot at once (early send), and the dispatch,
   * which rarely finds anything to do then, runs while that task's thread wakes up instead of
   * before the awaiter resumes.
   */
  readonly #reportIdle = (): void => this.#events.idle(this);

  #free(): void {
    this.#wire = undefined;
    this.#jobs = [];
    this.#end = 0;
    this.#reported = 0;
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
