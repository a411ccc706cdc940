/**
 * The queue every pool shares (lib/internal/executor/job-queue.ts): what `take` hands out, what a
 * requeue and a break do, when the workers are stopped, and that a burst of pushes is one dispatch.
 * The owner here is a plain object recording what the queue asks of it.
 */
import { describe, expect, test } from '@jest/globals';
import { JobQueue } from '../../../lib/internal/executor/job-queue';

interface TestJob {
  readonly name: string;
  cancelled?: boolean;
  started?: number;
  outcome?: { ok: boolean; value: unknown };
}

class BrokenTestError extends Error {}

function makeQueue() {
  const log = { onWork: 0, stopped: 0 };
  let stopResolve!: () => void;
  const queue = new JobQueue<TestJob>({
    start: (job) => {
      if (job.cancelled) return false;
      job.started = (job.started ?? 0) + 1;
      return true;
    },
    cancelled: (job) => job.cancelled === true,
    settle: (job, ok, value) => {
      if (job.outcome !== undefined) throw new Error(`${job.name} settled twice`);
      job.outcome = { ok, value };
    },
    onWork: () => {
      log.onWork++;
    },
    stopWorkers: () => {
      log.stopped++;
      return new Promise<void>((resolve) => (stopResolve = resolve));
    },
    brokenError: (message, cause) => new BrokenTestError(message, cause === undefined ? undefined : { cause }),
  });
  return { queue, log, stop: () => stopResolve() };
}

const jobs = (...names: string[]): TestJob[] => names.map((name) => ({ name }));
const names = (list: readonly TestJob[]): string[] => list.map((job) => job.name);
const microtask = (): Promise<void> => new Promise((resolve) => queueMicrotask(resolve));

describe('JobQueue', () => {
  test('a burst of pushes asks for one dispatch, in the next microtask', async () => {
    const { queue, log } = makeQueue();
    for (const job of jobs('a', 'b', 'c')) queue.push(job);
    queue.pushAll(jobs('d', 'e'));
    expect(log.onWork).toBe(0);
    await microtask();
    expect(log.onWork).toBe(1);
  });

  test('take hands out jobs in order, skips cancelled ones without counting them, and counts what is out', () => {
    const { queue } = makeQueue();
    const [a, b, c, d] = jobs('a', 'b', 'c', 'd');
    b.cancelled = true;
    queue.pushAll([a, b, c, d]);
    expect(names(queue.take(2))).toEqual(['a', 'c']);
    expect(b.started).toBeUndefined();
    expect(queue.inFlight).toBe(2);
    expect(queue.size).toBe(1);
    expect(names(queue.take(5))).toEqual(['d']);
    expect(queue.take(1)).toEqual([]);
  });

  test('requeued jobs go back to the front, in order, and are taken again', () => {
    const { queue } = makeQueue();
    queue.pushAll(jobs('a', 'b', 'c', 'd'));
    const taken = queue.take(3);
    queue.complete(taken[0], { ok: true, value: 1 });
    queue.requeue(taken.slice(1));
    expect(queue.inFlight).toBe(0);
    expect(names(queue.take(10))).toEqual(['b', 'c', 'd']);
  });

  test('complete decodes the outcome in this realm; a value that cannot be decoded fails the job', () => {
    const { queue } = makeQueue();
    const [a, b] = jobs('a', 'b');
    queue.pushAll([a, b]);
    queue.take(2);
    queue.complete(a, { ok: true, value: { x: [1] } });
    queue.complete(b, { ok: false, error: { kind: 'error', type: 'RangeError', name: 'RangeError', message: 'far' } });
    expect(a.outcome).toEqual({ ok: true, value: { x: [1] } });
    expect(b.outcome?.ok).toBe(false);
    expect(b.outcome?.value).toBeInstanceOf(RangeError);
  });

  test('break fails every queued job with the Broken error and its cause, and so every later requeue; take gives nothing', () => {
    const { queue } = makeQueue();
    const all = jobs('a', 'b', 'c');
    queue.pushAll(all);
    const [a] = queue.take(1);
    const cause = new TypeError('setup failed');
    queue.break('the pool is broken', cause);
    for (const job of all.slice(1)) {
      expect(job.outcome?.ok).toBe(false);
      expect(job.outcome?.value).toBeInstanceOf(BrokenTestError);
      expect((job.outcome?.value as Error).cause).toBe(cause);
    }
    expect(queue.brokenError()).toBeInstanceOf(BrokenTestError);
    expect(queue.brokenError()?.cause).toBe(cause);
    queue.push({ name: 'late' });
    expect(queue.take(1)).toEqual([]);
    queue.requeue([a]);
    expect((a.outcome?.value as Error).cause).toBe(cause);
  });

  test('after close, the workers are stopped once, when nothing is out and only cancelled jobs are queued', async () => {
    const { queue, log, stop } = makeQueue();
    const [a, b, c] = jobs('a', 'b', 'c');
    queue.pushAll([a, b, c]);
    queue.take(1);
    c.cancelled = true;
    let stopped = false;
    const closed = queue.close().then(() => (stopped = true));
    await microtask();
    expect(log.stopped).toBe(0); // a is out, b must still run
    expect(names(queue.take(5))).toEqual(['b']);
    queue.complete(a, { ok: true, value: 1 });
    queue.fail(b, new Error('no'));
    await microtask();
    expect(log.stopped).toBe(1);
    expect(stopped).toBe(false); // stopping the workers takes its time
    stop();
    await closed;
    expect(stopped).toBe(true);
    expect(c.outcome).toBeUndefined(); // a cancelled job is dropped, never settled
    queue.close();
    await microtask();
    expect(log.stopped).toBe(1);
  });

  test('cancelQueued removes what the owner cancels and keeps the rest in order', () => {
    const { queue } = makeQueue();
    const all = jobs('a', 'b', 'c', 'd');
    queue.pushAll(all);
    queue.cancelQueued((job) => job.name === 'b' || job.name === 'd');
    expect(names(queue.take(10))).toEqual(['a', 'c']);
  });

  test('failQueued fails every queued job with the given error', () => {
    const { queue } = makeQueue();
    const all = jobs('a', 'b');
    queue.pushAll(all);
    const reason = new Error('terminated');
    queue.failQueued(reason);
    expect(all.map((job) => job.outcome)).toEqual([{ ok: false, value: reason }, { ok: false, value: reason }]);
    expect(queue.size).toBe(0);
  });
});
