import { afterEach, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { threadId } from 'node:worker_threads';
import { Barrier } from 'threadkit/threading';
import { BrokenBarrierError } from 'threadkit/errors';
import { counters, spawn, stopAll, until } from '../fixtures/shm-threads';

afterEach(stopAll);

/** Waits on `b` in a worker; returns the index, or the name of the error. */
const waitInWorker = (b: Barrier, timeout?: number) =>
  spawn((b: Barrier, timeout: number | null) => {
    try {
      return b.waitSync(timeout ?? 20_000);
    } catch (e) {
      return (e as Error).name;
    }
  }, b, timeout ?? null);

/** An action that appends one line, the threadId of the thread it runs in, to `file`; a function made here so the path is in its source. */
function appendingAction(file: string): () => void {
  return new Function(
    `require('node:fs').appendFileSync(${JSON.stringify(file)}, require('node:worker_threads').threadId + '\\n');`,
  ) as () => void;
}

/** Waits on `b` in a worker; returns [index, threadId of the worker]. */
const waitReporting = (b: Barrier) =>
  spawn((b: Barrier) => [b.waitSync(20_000), require('node:worker_threads').threadId], b) as Promise<[number, number]>;

describe('Barrier on one thread', () => {
  test('a barrier of one party lets every wait through with index 0', async () => {
    const b = new Barrier(1);
    expect(b.waitSync()).toBe(0);
    expect(await b.wait()).toBe(0);
    expect(b.waitSync(0)).toBe(0);
    expect(b.parties).toBe(1);
    expect(b.broken).toBe(false);
  });

  test('bad parties, timeouts and actions are rejected', async () => {
    expect(() => new Barrier(0)).toThrow(RangeError);
    expect(() => new Barrier(-2)).toThrow(RangeError);
    expect(() => new Barrier(1.5)).toThrow(TypeError);
    expect(() => new Barrier('3' as never)).toThrow(TypeError);
    expect(() => new Barrier(2, { timeout: -1 })).toThrow(RangeError);
    expect(() => new Barrier(2, { timeout: NaN })).toThrow(RangeError);
    expect(() => new Barrier(2, { action: 42 as never })).toThrow(TypeError);
    expect(() => new Barrier(2, { action: Math.max })).toThrow(TypeError);
    const b = new Barrier(2);
    expect(() => b.waitSync(-1)).toThrow(RangeError);
    await expect(b.wait(NaN)).rejects.toThrow(RangeError);
    expect(b.nWaiting).toBe(0);
    expect(b.broken).toBe(false);
  });

  test('async parties on the main thread meet, and the barrier prints its waiters', async () => {
    const b = new Barrier(3);
    expect(inspect(b)).toBe('<Barrier waiters=0/3>');
    const first = [b.wait(20_000), b.wait(20_000)];
    await until(() => b.nWaiting === 2, 'two parties wait');
    expect(inspect(b)).toBe('<Barrier waiters=2/3>');
    const last = await b.wait();
    expect([...(await Promise.all(first)), last].sort()).toEqual([0, 1, 2]);
    expect(b.nWaiting).toBe(0);
  });

  test('a wait that times out breaks the barrier for every party', async () => {
    const b = new Barrier(3);
    const other = b.wait(20_000);
    await until(() => b.nWaiting === 1, 'one party waits');
    const t0 = performance.now();
    expect(() => b.waitSync(30)).toThrow(BrokenBarrierError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    await expect(other).rejects.toThrow(BrokenBarrierError);
    expect(b.broken).toBe(true);
    expect(inspect(b)).toBe('<Barrier broken waiters=0/3>');
    await expect(b.wait()).rejects.toThrow('barrier is broken');
  });

  test('the default timeout applies to waits that pass none', async () => {
    const b = new Barrier(2, { timeout: 30 });
    await expect(b.wait()).rejects.toThrow(BrokenBarrierError);
    b.reset();
    expect(() => b.waitSync()).toThrow(BrokenBarrierError);
  });
});

describe('Barrier across threads', () => {
  test('3 parties (two threads and main) pass 5 rounds together, with each index once per round', async () => {
    const N = 3;
    const ROUNDS = 5;
    const b = new Barrier(N);
    const ARRIVED = 0;
    const VIOLATIONS = 1;
    const SEEN = 2; // SEEN + round * N + index
    const c = counters(2 + ROUNDS * N);
    const party = (b: Barrier, c: Int32Array, n: number, rounds: number) => {
      const ARRIVED = 0, VIOLATIONS = 1, SEEN = 2;
      for (let r = 0; r < rounds; r++) {
        Atomics.add(c, ARRIVED, 1);
        const index = b.waitSync(20_000);
        if (Atomics.load(c, ARRIVED) < (r + 1) * n) Atomics.add(c, VIOLATIONS, 1);
        Atomics.add(c, SEEN + r * n + index, 1);
      }
    };
    const workers = [spawn(party, b, c, N, ROUNDS), spawn(party, b, c, N, ROUNDS)];
    for (let r = 0; r < ROUNDS; r++) {
      Atomics.add(c, ARRIVED, 1);
      const index = await b.wait(20_000);
      expect(Atomics.load(c, ARRIVED)).toBeGreaterThanOrEqual((r + 1) * N);
      Atomics.add(c, SEEN + r * N + index, 1);
    }
    await Promise.all(workers);
    expect(c[VIOLATIONS]).toBe(0);
    expect(Array.from(c.subarray(SEEN))).toEqual(Array(ROUNDS * N).fill(1));
    expect(b.broken).toBe(false);
  });

  test('the main thread blocked in waitSync is released by the last worker to arrive', async () => {
    const b = new Barrier(3);
    const workers = [waitInWorker(b), waitInWorker(b)];
    const index = b.waitSync(20_000);
    expect([index, ...(await Promise.all(workers))].sort()).toEqual([0, 1, 2]);
  });

  test('abort breaks the barrier for waiting threads and later waits until reset', async () => {
    const b = new Barrier(3);
    const workers = [waitInWorker(b), waitInWorker(b)];
    await until(() => b.nWaiting === 2, 'two workers wait');
    b.abort();
    expect(await Promise.all(workers)).toEqual(['BrokenBarrierError', 'BrokenBarrierError']);
    expect(b.broken).toBe(true);
    expect(() => b.waitSync(0)).toThrow(BrokenBarrierError);
    b.reset();
    expect(b.broken).toBe(false);
    const again = [waitInWorker(b), waitInWorker(b)];
    expect(typeof (await b.wait(20_000))).toBe('number');
    expect((await Promise.all(again)).every((i) => typeof i === 'number')).toBe(true);
  });

  test('reset while threads wait gives them BrokenBarrierError and leaves the barrier usable', async () => {
    const b = new Barrier(3);
    const workers = [waitInWorker(b), waitInWorker(b)];
    await until(() => b.nWaiting === 2, 'two workers wait');
    b.reset();
    expect(await Promise.all(workers)).toEqual(['BrokenBarrierError', 'BrokenBarrierError']);
    expect(b.broken).toBe(false);
    await until(() => b.nWaiting === 0, 'the waiters left');
    const again = [waitInWorker(b), waitInWorker(b)];
    const mine = await b.wait(20_000);
    expect([mine, ...(await Promise.all(again))].sort()).toEqual([0, 1, 2]);
  });

  test('a worker whose wait times out breaks the barrier for the main thread too', async () => {
    const b = new Barrier(3);
    const mine = b.wait(20_000).then(String, (e: Error) => e.name);
    await until(() => b.nWaiting === 1, 'main waits');
    expect(await waitInWorker(b, 30)).toBe('BrokenBarrierError');
    expect(await mine).toBe('BrokenBarrierError');
  });
});

describe('Barrier action', () => {
  let dir: string;
  afterEach(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the action runs once per round, in the thread of the last party to arrive, before any party is released', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-barrier-'));
    const log = path.join(dir, 'action.log');
    const b = new Barrier(3, { action: appendingAction(log) });
    const lines = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
    for (let round = 1; round <= 2; round++) {
      const workers = [waitReporting(b), waitReporting(b)];
      // Round 1 waits async; round 2 blocks the main thread, which may then run the action itself.
      const mine = round === 1 ? await b.wait(20_000) : b.waitSync(20_000);
      // Released: the action of this round has already run, exactly once.
      expect(lines()).toHaveLength(round);
      const parties: [number, number][] = [[mine, threadId], ...(await Promise.all(workers))];
      expect(parties.map(([index]) => index).sort()).toEqual([0, 1, 2]);
      const last = parties.find(([index]) => index === 2)!;
      expect(lines()[round - 1]).toBe(String(last[1]));
    }
  });

  test('wait() awaits an async action; waitSync() refuses one with a TypeError and breaks the barrier', async () => {
    const b = new Barrier(1, { action: new Function('return new Promise((resolve) => setTimeout(resolve, 5))') as () => Promise<void> });
    expect(await b.wait()).toBe(0);
    expect(() => b.waitSync()).toThrow(/returned a Promise/);
    expect(b.broken).toBe(true);
  });

  test('an action that throws gives its error to the party that ran it and BrokenBarrierError to the others', async () => {
    const b = new Barrier(2, { action: () => { throw new TypeError('action failed'); } });
    const other = waitInWorker(b);
    await until(() => b.nWaiting === 1, 'the worker waits');
    await expect(b.wait(20_000)).rejects.toThrow(new TypeError('action failed'));
    expect(await other).toBe('BrokenBarrierError');
    expect(b.broken).toBe(true);
  });

  test('a worker that arrives last runs the action of a barrier it received', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-barrier-'));
    const log = path.join(dir, 'action.log');
    const b = new Barrier(2, { action: appendingAction(log) });
    const mine = b.wait(20_000);
    await until(() => b.nWaiting === 1, 'main waits');
    const [index, worker] = await waitReporting(b);
    expect(index).toBe(1);
    await mine;
    expect(fs.readFileSync(log, 'utf8')).toBe(`${worker}\n`);
  });
});
