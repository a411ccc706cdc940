/**
 * The scheduling core (lib/internal/executor/scheduler.ts) against a fake worker kind whose lanes
 * only record what they are sent and report what the test tells them to: the fast/slow rule, batch
 * sizes and the fair deal, deaths, initializer failures, breakage, retirement, stealing, shutdown
 * and terminate — each decided once here for both real kinds (thread slots and child processes).
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import type { EncodedTarget } from '../../../lib/internal/transport';
import { JobQueue } from '../../../lib/internal/executor/job-queue';
import { Scheduler, type Death, type Lane, type LaneEvents, type LaneState, type WorkerKind } from '../../../lib/internal/executor/scheduler';
import { capturingConsoleError } from '../../helpers/console';

interface TestJob {
  readonly name: string;
  readonly target: EncodedTarget;
  readonly args: unknown[];
  readonly chunk: false;
  outcome?: { ok: boolean; value: unknown };
}

class BrokenTestError extends Error {}

const FAST_TARGET: EncodedTarget = Object.freeze({ kind: 'source', source: '(x) => x', name: 'fast' });
const SLOW_TARGET: EncodedTarget = Object.freeze({ kind: 'source', source: '(x) => slow(x)', name: 'slow' });

class FakeLane implements Lane<TestJob> {
  state: LaneState;
  readonly jobs: TestJob[] = [];
  readonly batches: Array<{ names: string[]; fast: boolean[] }> = [];
  assigned = 0;
  busy: boolean | undefined;
  readonly label: string;
  readonly #events: LaneEvents<TestJob>;

  constructor(number: number, state: LaneState, events: LaneEvents<TestJob>) {
    this.label = `fake worker ${number}`;
    this.state = state;
    this.#events = events;
  }

  get inFlight(): number {
    return this.jobs.length;
  }

  get slowInFlight(): number {
    return 0;
  }

  send(jobs: TestJob[], fast: readonly boolean[]): void {
    this.jobs.push(...jobs);
    this.assigned += jobs.length;
    this.batches.push({ names: jobs.map((job) => job.name), fast: [...fast] });
  }

  retire(): void {
    if (this.state !== 'dead') this.state = 'retiring';
  }

  abandon(): TestJob[] {
    this.state = 'dead';
    // A job reported on the spot (awaitLone) is not the lane's to give back, as with a real lane.
    return this.jobs.splice(0).filter((job) => job !== this.#reported);
  }

  keepAlive(busy: boolean): void {
    this.busy = busy;
  }

  /** Set by a test: how this lane answers the scheduler's wait for a lone job ('hit' reports it on the spot). */
  lone: 'hit' | 'miss' | undefined;
  /** The jobs it was asked to wait for. */
  readonly waitedFor: string[] = [];

  awaitLone(): boolean {
    this.waitedFor.push(this.jobs[0].name);
    if (this.lone !== 'hit') return false;
    // Reported now; the lane holds it until its worker's message says it is free (release()).
    this.#reported = this.jobs[0];
    this.#events.finished(this, this.jobs[0], { ok: true, value: this.jobs[0].name }, 0.001);
    return true;
  }

  #reported: TestJob | undefined;

  /** The worker's message after a hit: the lane is free. */
  release(): void {
    this.jobs.splice(0, 1);
    this.#reported = undefined;
    this.#events.idle(this);
  }

  // ── what the test makes the worker report ──

  ready(): void {
    this.state = 'ready';
    this.#events.ready(this);
  }

  /** The first `n` jobs finished, each in `ms`. */
  finish(n: number, ms: number): void {
    for (const job of this.jobs.splice(0, n)) this.#events.finished(this, job, { ok: true, value: job.name }, ms);
    this.#events.idle(this);
  }

  /** The worker died: its first `ran` jobs may have run, the others never started. */
  die(ran: number, how: string, beforeReady = false): void {
    this.state = 'dead';
    const lost = this.jobs.splice(0);
    const death: Death<TestJob> = { ran: lost.slice(0, ran), unstarted: lost.slice(ran), how, beforeReady };
    this.#events.died(this, death);
  }

  initFailed(cause: unknown): void {
    this.#events.initFailed(this, cause);
  }

  unsendable(index: number, error: unknown): void {
    const [job] = this.jobs.splice(index, 1);
    this.#events.unsendable(this, job, error);
  }
}

class FakeKind implements WorkerKind<TestJob> {
  readonly names = { worker: 'fake', pool: 'fake pool' };
  readonly lanes: FakeLane[] = [];
  closed = 0;
  stolen: TestJob[] | undefined;

  constructor(
    readonly maxBatch: number,
    readonly depth: number,
    readonly pipelined: boolean,
    readonly startAs: LaneState,
  ) {}

  open(events: LaneEvents<TestJob>): Lane<TestJob> {
    const lane = new FakeLane(this.lanes.length + 1, this.startAs, events);
    this.lanes.push(lane);
    return lane;
  }

  steal?: (lanes: ReadonlySet<Lane<TestJob>>) => TestJob[] = () => {
    const jobs = this.stolen ?? [];
    this.stolen = undefined;
    // Taken from the lane that held them, as a real steal lowers that batch's end.
    for (const lane of this.lanes) lane.jobs.splice(0, lane.jobs.length, ...lane.jobs.filter((job) => !jobs.includes(job)));
    return jobs;
  };

  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

interface Setup {
  maxWorkers?: number;
  maxTasksPerWorker?: number;
  maxBatch?: number;
  depth?: number;
  pipelined?: boolean;
  startAs?: LaneState;
}

/** Every setup of the current test, ended after it (see afterEach). */
const setups: Array<{ queue: JobQueue<TestJob>; scheduler: Scheduler<TestJob> }> = [];

// A test's jobs still out with its fake workers would count as other work going for the next
// test's (the count of jobs out is per process: see "Lone jobs" in the scheduling core).
afterEach(() => {
  const ended = new Error('test over');
  for (const { queue, scheduler } of setups.splice(0)) {
    queue.failQueued(ended);
    scheduler.terminate(ended);
  }
});

function setup(options: Setup = {}) {
  const kind = new FakeKind(options.maxBatch ?? 8, options.depth ?? 8, options.pipelined ?? false, options.startAs ?? 'ready');
  let scheduler!: Scheduler<TestJob>;
  let stops = 0;
  const queue = new JobQueue<TestJob>({
    start: () => true,
    cancelled: () => false,
    settle: (job, ok, value) => {
      if (job.outcome !== undefined) throw new Error(`${job.name} settled twice`);
      job.outcome = { ok, value };
    },
    onWork: () => scheduler.dispatch(),
    stopWorkers: () => {
      stops++;
      return scheduler.shutdown();
    },
    brokenError: (message, cause) => new BrokenTestError(message, cause === undefined ? undefined : { cause }),
  });
  scheduler = new Scheduler(kind, queue, { maxWorkers: options.maxWorkers ?? 2, maxTasksPerWorker: options.maxTasksPerWorker });
  const submit = (count: number, target = FAST_TARGET, prefix = 'j'): TestJob[] => {
    const jobs = Array.from({ length: count }, (_, i): TestJob => ({ name: `${prefix}${i}`, target, args: [i], chunk: false }));
    queue.pushAll(jobs);
    scheduler.dispatch();
    return jobs;
  };
  setups.push({ queue, scheduler });
  return { kind, queue, scheduler, submit, stops: () => stops };
}

/** Makes the latest result fast (and short: at most SHORT_MS): one job, finished in no time. */
function warmUp(s: ReturnType<typeof setup>): void {
  s.submit(1, FAST_TARGET, 'warm');
  s.kind.lanes[0].finish(1, 0.01);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const sizes = (lane: FakeLane): number[] => lane.batches.map((b) => b.names.length);

describe('scheduling core: one job at a time while the work is slow or unmeasured', () => {
  test('lanes open up to maxWorkers, each gets one job, the rest stays queued (cancellable)', () => {
    const s = setup({ maxWorkers: 3 });
    s.submit(10);
    expect(s.kind.lanes.map(sizes)).toEqual([[1], [1], [1]]);
    expect(s.queue.size).toBe(7);
    expect(s.scheduler.batching).toBe(false);
  });

  test('a free lane is reused before another one opens', () => {
    const s = setup({ maxWorkers: 3 });
    s.submit(1);
    s.kind.lanes[0].finish(1, 5);
    s.submit(1);
    expect(s.kind.lanes).toHaveLength(1);
    expect(sizes(s.kind.lanes[0])).toEqual([1, 1]);
  });

  test('a lane that is still starting takes its first job at once, and no more until it is ready', () => {
    const s = setup({ maxWorkers: 2, startAs: 'starting' });
    s.submit(6);
    expect(s.kind.lanes.map(sizes)).toEqual([[1], [1]]);
    s.kind.lanes[0].ready();
    expect(s.kind.lanes.map(sizes)).toEqual([[1], [1]]); // it still holds its first job
    s.kind.lanes[0].finish(1, 5);
    expect(s.kind.lanes.map(sizes)).toEqual([[1, 1], [1]]);
  });

  test('a slow result turns batching off again', () => {
    const s = setup({ maxWorkers: 1 });
    warmUp(s);
    expect(s.scheduler.batching).toBe(true);
    s.submit(3);
    s.kind.lanes[0].finish(3, 50);
    expect(s.scheduler.batching).toBe(false);
    s.submit(3);
    expect(sizes(s.kind.lanes[0]).slice(-1)).toEqual([1]);
  });
});

describe('scheduling core: batches once the work runs fast', () => {
  test('each lane takes a slice of its share of the queue: ceil(ceil(queued / maxWorkers) / 4)', () => {
    const s = setup({ maxWorkers: 2, maxBatch: 64, depth: 64 });
    warmUp(s);
    s.submit(80);
    // share 40 each, slice 10; a lane that is not pipelined holds one batch at a time.
    expect(s.kind.lanes.map(sizes)).toEqual([[1, 10], [10]]);
    expect(s.queue.size).toBe(60);
  });

  test('a pipelined lane is dealt slices in turn with the others, up to its depth, in messages of at most maxBatch', () => {
    const s = setup({ maxWorkers: 2, maxBatch: 8, depth: 30, pipelined: true });
    warmUp(s);
    s.submit(80);
    // share 40, slice 10 → messages of 8 (maxBatch) until the depth of 30: 8, 8, 8, 6.
    expect(sizes(s.kind.lanes[0]).slice(1)).toEqual([8, 8, 8, 6]);
    expect(sizes(s.kind.lanes[1])).toEqual([8, 8, 8, 6]);
    // Dealt in turn: the second lane's first message went out before the first lane's second.
    expect(s.kind.lanes[1].batches[0].names[0]).toBe('j8');
  });

  test('a burst of a known-fast function is shared among the lanes, not handed to the first one', () => {
    const s = setup({ maxWorkers: 2, maxBatch: 64, depth: 128, pipelined: true });
    warmUp(s);
    s.submit(8);
    expect(sizes(s.kind.lanes[0]).slice(1).reduce((a, b) => a + b, 0)).toBe(4);
    expect(sizes(s.kind.lanes[1]).reduce((a, b) => a + b, 0)).toBe(4);
  });

  test('jobs are marked fast by their own target, not by the pool', () => {
    const s = setup({ maxWorkers: 1, maxBatch: 8, depth: 8 });
    warmUp(s);
    s.submit(1, SLOW_TARGET, 's');
    expect(s.kind.lanes[0].batches.at(-1)?.fast).toEqual([false]);
    s.kind.lanes[0].finish(1, 0.01);
    s.submit(1, SLOW_TARGET, 's');
    expect(s.kind.lanes[0].batches.at(-1)?.fast).toEqual([true]);
  });
});

describe('scheduling core: deaths', () => {
  test('the jobs a dead worker may have run fail naming it and how it ended; the others go back to the front and run on a new lane', () => {
    const s = setup({ maxWorkers: 1, maxBatch: 8, depth: 8 });
    warmUp(s);
    const jobs = s.submit(6);
    const [first] = s.kind.lanes;
    expect(sizes(first).slice(1)).toEqual([2]); // share 6, slice 2
    first.die(1, 'exit code 3');
    expect(jobs[0].outcome?.ok).toBe(false);
    expect(jobs[0].outcome?.value).toBeInstanceOf(BrokenTestError);
    expect((jobs[0].outcome?.value as Error).message).toBe('the fake worker 1 running the task died (exit code 3)');
    // Its target counts as slow now: the replacement gets one job, the one that never started, first.
    const second = s.kind.lanes[1];
    expect(second.batches).toEqual([{ names: ['j1'], fast: [false] }]);
    expect(s.scheduler.batching).toBe(false);
    second.finish(1, 5);
    expect(second.batches.at(-1)?.names).toEqual(['j2']);
  });

  test('a worker that dies before it was ready breaks the pool: every job fails, new ones are refused', () => {
    const s = setup({ maxWorkers: 2, startAs: 'starting' });
    const jobs = s.submit(5);
    s.kind.lanes[0].die(0, 'exit code 9', true);
    const message = 'a fake worker 1 exited before it was ready (exit code 9); the fake pool is not usable anymore';
    for (const job of jobs) {
      expect(job.outcome?.ok).toBe(false);
      expect((job.outcome?.value as Error).message).toBe(message);
    }
    expect(s.kind.lanes[1].state).toBe('dead'); // the other starting lane was ended
    expect(s.queue.brokenError()?.message).toBe(message);
  });

  test('a worker whose initializer throws: its jobs and the queue fail with the cause, printed once for the pool', async () => {
    const s = setup({ maxWorkers: 2 });
    const jobs = s.submit(5);
    const cause = new RangeError('bad setup');
    const { printed } = await capturingConsoleError(async () => {
      s.kind.lanes[0].initFailed(cause);
      s.kind.lanes[1].initFailed(new RangeError('bad setup again'));
    });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^Exception in initializer: RangeError: bad setup/);
    const message = 'a fake initializer failed, the fake pool is not usable anymore (RangeError: bad setup)';
    expect((jobs[0].outcome?.value as Error).message).toBe(message);
    for (const job of jobs.slice(2)) {
      expect((job.outcome?.value as Error).message).toBe(message);
      expect((job.outcome?.value as Error).cause).toBe(cause);
    }
    expect(s.queue.brokenError()?.cause).toBe(cause);
  });

  test('a job whose arguments could not be sent fails with a TypeError naming the worker; the lane lives on', () => {
    const s = setup({ maxWorkers: 1 });
    const [job] = s.submit(1);
    s.kind.lanes[0].unsendable(0, new Error('could not be cloned'));
    expect(job.outcome?.value).toBeInstanceOf(TypeError);
    expect((job.outcome?.value as Error).message).toBe('an argument of the task cannot be sent to a fake: could not be cloned');
  });
});

describe('scheduling core: lanes over their lifetime', () => {
  test('a worker that ran maxTasksPerWorker jobs is retired and replaced', () => {
    const s = setup({ maxWorkers: 1, maxTasksPerWorker: 2 });
    s.submit(5);
    const [first] = s.kind.lanes;
    first.finish(1, 5);
    first.finish(1, 5);
    expect(first.state).toBe('retiring');
    expect(first.assigned).toBe(2);
    expect(s.kind.lanes).toHaveLength(2);
    expect(sizes(s.kind.lanes[1])).toEqual([1]);
  });

  test('when the queue is empty, an idle lane gets what the kind steals from a busy one', () => {
    const s = setup({ maxWorkers: 2 });
    s.submit(2);
    const [a, b] = s.kind.lanes;
    s.kind.stolen = [a.jobs[0]]; // a's job, not started yet
    b.finish(1, 5);
    expect(b.batches.at(-1)?.names).toEqual(['j0']);
  });

  test('a lane keeps the process alive while it has work or work is queued', () => {
    const s = setup({ maxWorkers: 1 });
    s.submit(2);
    const [lane] = s.kind.lanes;
    expect(lane.busy).toBe(true);
    lane.finish(1, 5);
    lane.finish(1, 5);
    expect(lane.busy).toBe(false);
  });

  test('shutdown retires the idle lanes and closes the kind once', async () => {
    const s = setup({ maxWorkers: 2 });
    s.submit(2);
    for (const lane of s.kind.lanes) lane.finish(1, 5);
    await s.queue.close();
    expect(s.stops()).toBe(1);
    expect(s.kind.lanes.map((lane) => lane.state)).toEqual(['retiring', 'retiring']);
    expect(s.kind.closed).toBe(1);
  });

  test('terminate takes every job back from the lanes and fails it with the reason', () => {
    const s = setup({ maxWorkers: 2 });
    const jobs = s.submit(4);
    const reason = new Error('terminated');
    s.queue.failQueued(reason);
    s.scheduler.terminate(reason);
    expect(jobs.map((job) => job.outcome?.value)).toEqual([reason, reason, reason, reason]);
    expect(s.kind.lanes.map((lane) => lane.state)).toEqual(['dead', 'dead']);
  });
});

describe('scheduling core: lone jobs', () => {
  /**
   * Two lanes, short work; lane a answers the wait for a lone job as `answer`; then `first` goes out
   * alone (to a), and `then` more jobs are submitted right after.
   */
  function loneThenMore(answer: 'hit' | 'miss', then: number) {
    const s = setup({ maxWorkers: 2 });
    warmUp(s); // ran 0.01 ms: short
    const [a] = s.kind.lanes;
    a.lone = answer;
    const [first] = s.submit(1, FAST_TARGET, 'first');
    const more = s.submit(then, FAST_TARGET, 'next');
    /** What the second lane was sent, if it was opened. */
    const second = (): string[][] => s.kind.lanes[1]?.batches.map((b) => b.names) ?? [];
    return { s, a, first, more, second };
  }

  test('a lone job of a short target is waited for on the spot; not one that ran longer than SHORT_MS, nor one of several', () => {
    const s = setup({ maxWorkers: 2 });
    warmUp(s);
    const [lane] = s.kind.lanes;
    s.submit(1, FAST_TARGET, 'lone');
    expect(lane.waitedFor).toEqual(['lone0']);
    lane.finish(1, 0.5); // fast, but not short
    s.submit(1, FAST_TARGET, 'after-fast');
    expect(lane.waitedFor).toEqual(['lone0']);
    lane.finish(1, 0.005);
    s.submit(2, FAST_TARGET, 'pair'); // two jobs in one dispatch: nobody waits
    expect(s.kind.lanes.flatMap((l) => l.waitedFor)).toEqual(['lone0']);
  });

  test('a lone job is not waited for while a job of another pool of this process is out', () => {
    const other = setup({ maxWorkers: 1 });
    warmUp(other);
    other.kind.lanes[0].lone = 'miss';
    other.submit(1, FAST_TARGET, 'elsewhere'); // stays out in the other pool
    const s = setup({ maxWorkers: 1 });
    warmUp(s);
    const [lane] = s.kind.lanes;
    s.submit(1, FAST_TARGET, 'lone');
    expect(lane.waitedFor).toEqual([]);
    other.kind.lanes[0].finish(1, 0.005);
    lane.finish(1, 0.005);
    s.submit(1, FAST_TARGET, 'alone');
    expect(lane.waitedFor).toEqual(['alone0']);
  });

  test('one job sent while others stay queued is not waited for', () => {
    const s = setup({ maxWorkers: 1 });
    warmUp(s); // FAST_TARGET is short
    s.submit(1, SLOW_TARGET, 'slow');
    s.kind.lanes[0].finish(1, 50); // the latest result is slow: one job per lane again
    s.submit(2, FAST_TARGET, 'two');
    expect(s.kind.lanes[0].batches.at(-1)?.names).toEqual(['two0']);
    expect(s.queue.size).toBe(1);
    expect(s.kind.lanes[0].waitedFor).toEqual([]);
  });

  test('a lone job of a target never measured is not waited for', () => {
    const s = setup({ maxWorkers: 1 });
    warmUp(s);
    s.submit(1, SLOW_TARGET, 'new');
    expect(s.kind.lanes[0].waitedFor).toEqual([]);
  });

  test('after a miss, nothing waits: the next lone job goes to a free lane at once, and is not waited for while the first is out', () => {
    const { s, a, second } = loneThenMore('miss', 1);
    expect(a.waitedFor).toEqual(['first0']);
    expect(second()).toEqual([['next0']]);
    expect(s.kind.lanes[1].waitedFor).toEqual([]); // the program has other work going
  });

  test('after a hit, the next lone job waits for that warm lane instead of waking another worker, and goes to it once it is free', () => {
    const { s, a, first, more } = loneThenMore('hit', 1);
    expect(first.outcome).toEqual({ ok: true, value: 'first0' }); // reported on the spot
    expect(s.kind.lanes).toHaveLength(1); // no second lane opened for the next one
    expect(s.queue.size).toBe(1);
    a.release();
    expect(a.batches.at(-1)?.names).toEqual(['next0']);
    expect(more[0].outcome).toEqual({ ok: true, value: 'next0' });
  });

  test('more than one job does not wait for the warm lane', () => {
    const { s, second } = loneThenMore('hit', 2);
    expect(s.kind.lanes).toHaveLength(2); // a second lane opened for them (its share: one each)
    expect(second()).toEqual([['next0']]);
  });

  test('a warm lane that does not free up within a millisecond (its task left the thread busy) loses the lone job to another lane', async () => {
    const { s, a, second } = loneThenMore('hit', 1);
    expect(s.queue.size).toBe(1);
    const deadline = Date.now() + 5000;
    while (s.queue.size > 0 && Date.now() < deadline) await sleep(5);
    expect(second()).toEqual([['next0']]);
    a.release(); // the late message changes nothing
    expect(a.batches.map((b) => b.names)).toEqual([['warm0'], ['first0']]);
  });

  test('a warm lane that dies instead frees the lone job for another lane at once', () => {
    const { a, second } = loneThenMore('hit', 1);
    a.jobs.splice(0); // its one job was reported already
    a.die(0, 'exit code 1');
    expect(second()).toEqual([['next0']]);
  });
});
