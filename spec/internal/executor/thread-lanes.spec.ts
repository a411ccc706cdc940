/**
 * ThreadPoolExecutor's lanes (lib/internal/executor/thread-lanes.ts) on real piscina threads: a lone
 * job's result read from the batch slot before the thread's reply (the scheduler's "Lone jobs"), the
 * lane held until that reply, and close() waiting for it.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { ThreadLanes } from '../../../lib/internal/executor/thread-lanes';
import { TargetCache } from '../../../lib/internal/executor/encoding';
import type { Job } from '../../../lib/internal/executor/batch';
import type { Lane, LaneEvents } from '../../../lib/internal/executor/scheduler';
import { encodeArgs, type EncodedOutcome } from '../../../lib/internal/transport';

/** Blocks this thread (its event loop too) until `ready()` or the deadline. */
function spinUntil(ready: () => boolean, ms: number): void {
  const deadline = Date.now() + ms;
  while (!ready()) if (Date.now() > deadline) throw new Error(`not ready within ${ms} ms`);
}

/** Blocks this thread for `ms` without letting its event loop run. */
function spinFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

interface Recorded {
  finished: Array<{ job: Job; outcome: EncodedOutcome }>;
  idle: number;
  died: number;
}

function recorder(): { events: LaneEvents<Job>; seen: Recorded; idle: Promise<void>[] } {
  const seen: Recorded = { finished: [], idle: 0, died: 0 };
  const waiters: Array<() => void> = [];
  const idle = Array.from({ length: 8 }, () => new Promise<void>((resolve) => waiters.push(resolve)));
  const unexpected = (what: string) => () => {
    throw new Error(`unexpected ${what}`);
  };
  const events: LaneEvents<Job> = {
    ready: unexpected('ready'),
    finished: (_lane, job, outcome) => void seen.finished.push({ job, outcome }),
    returned: (_lane, jobs) => {
      if (jobs.length > 0) throw new Error(`unexpected return of ${jobs.length} job(s)`);
    },
    unsendable: unexpected('unsendable'),
    initFailed: unexpected('initFailed'),
    died: () => void seen.died++,
    ended: unexpected('ended'),
    idle: () => waiters[seen.idle++]?.(),
  };
  return { events, seen, idle };
}

const targets = new TargetCache();
/** Marks `flag` when it runs, then returns its argument plus one. */
const marked = targets.encode((flag: Int32Array, x: number) => {
  Atomics.store(flag, 0, 1);
  return x + 1;
});

describe('thread lanes: a lone job read on the spot', () => {
  let kind: ThreadLanes<Job> | undefined;
  afterEach(async () => {
    await kind?.close();
    kind = undefined;
  });

  /** A lane whose thread has started and knows the target (its first job, run the usual way, is `seen.finished[0]`). */
  async function open(): Promise<{ lane: Lane<Job>; seen: Recorded; idle: Promise<void>[] }> {
    kind = new ThreadLanes<Job>({ maxWorkers: 1, initializer: undefined, namePrefix: 'lanes-spec', resourceLimits: undefined, busy: () => false });
    const { events, seen, idle } = recorder();
    const lane = kind.open(events);
    lane.send([{ target: marked, args: encodeArgs([new Int32Array(new SharedArrayBuffer(4)), 0]), chunk: false }], [true]);
    await idle[0];
    return { lane, seen, idle };
  }

  /**
   * Sends a job that marks its flag, and blocks until it ran and had ample time to store its
   * result. This thread's event loop does not run meanwhile, so the reply cannot have been handled.
   */
  function sendAndLetRun(lane: Lane<Job>, x: number): Job {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const job: Job = { target: marked, args: encodeArgs([flag, x]), chunk: false };
    lane.send([job], [true]);
    spinUntil(() => Atomics.load(flag, 0) === 1, 20_000);
    spinFor(200); // the result is stored right after the call returns
    return job;
  }

  test('the result is reported from shared memory while the lane stays in flight; the reply then frees it and reports nothing twice', async () => {
    const { lane, seen, idle } = await open();
    const job = sendAndLetRun(lane, 41);
    expect(lane.awaitLone?.()).toBe(true);
    expect(seen.finished.slice(1)).toEqual([{ job, outcome: { ok: true, value: 42 } }]);
    expect(lane.inFlight).toBe(1); // the thread is piscina's until its reply
    expect(seen.idle).toBe(1);
    await idle[1];
    expect(lane.inFlight).toBe(0);
    expect(seen.finished).toHaveLength(2);
    expect(seen.died).toBe(0);
    // The slot serves the next batch as usual.
    const next = sendAndLetRun(lane, 1);
    await idle[2];
    expect(seen.finished.slice(1).map((f) => [f.job, f.outcome])).toEqual([
      [job, { ok: true, value: 42 }],
      [next, { ok: true, value: 2 }],
    ]);
  });

  test('close() right after a result read on the spot waits for the reply: the thread ends with nothing in flight, not as a death', async () => {
    const { lane, seen } = await open();
    sendAndLetRun(lane, 1);
    expect(lane.awaitLone?.()).toBe(true);
    const closing = kind!.close();
    kind = undefined;
    await closing;
    expect(seen.idle).toBe(2);
    expect(seen.died).toBe(0);
  });

  test('awaitLone reports nothing when the result is not there within its wait, and the reply brings it as usual', async () => {
    const { lane, seen, idle } = await open();
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const blocked = targets.encode((g: Int32Array) => {
      Atomics.wait(g, 0, 0, 20_000);
      return 'late';
    });
    lane.send([{ target: blocked, args: encodeArgs([gate]), chunk: false }], [true]);
    expect(lane.awaitLone?.()).toBe(false);
    expect(seen.finished).toHaveLength(1);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await idle[1];
    expect(seen.finished.map((f) => f.outcome)).toEqual([{ ok: true, value: 1 }, { ok: true, value: 'late' }]);
  });
});

describe('thread lanes: waits that miss back off', () => {
  test('after a miss, the next lone job goes without waiting; each further miss doubles that, up to 64; a hit ends it', () => {
    const kind = new ThreadLanes<Job>({ maxWorkers: 1, initializer: undefined, namePrefix: 'lanes-spec', resourceLimits: undefined, busy: () => false });
    const asks = (n: number): boolean[] => Array.from({ length: n }, () => kind.mayWait());
    expect(asks(3)).toEqual([true, true, true]); // no miss yet
    kind.waited(false);
    expect(asks(2)).toEqual([false, true]);
    kind.waited(false);
    expect(asks(3)).toEqual([false, false, true]);
    kind.waited(false);
    expect(asks(5)).toEqual([false, false, false, false, true]);
    for (let i = 0; i < 10; i++) kind.waited(false);
    expect(asks(65).filter((may) => !may)).toHaveLength(64);
    kind.waited(true);
    expect(asks(2)).toEqual([true, true]);
  });
});
