import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { inspect } from 'node:util';
import { Pool, AsyncResult } from 'threadkit/multiprocessing';
import { BrokenProcessPoolError, RuntimeError, ValueError, fromModule } from 'threadkit';
import { Lock } from 'threadkit/threading';
import { TASKS } from '../fixtures/process-tasks';
import { RENDEZVOUS, Rendezvous } from '../fixtures/process-rendezvous';
import { stillPresent } from '../fixtures/process-reaped';
import { collected } from '../helpers/gc';
import { capturingConsoleError } from '../helpers/console';

const sqr = fromModule<[number], number>(TASKS, 'square');
const pid = fromModule<[], number>(TASKS, 'pid');
const exitWith = fromModule<[number], never>(TASKS, 'exitWith');
const hold = fromModule<[string, number], Promise<number>>(RENDEZVOUS, 'hold');
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Yields 0..n-1 and throws SayWhenError-like error when it reaches `when` (CPython's exception_throwing_generator). */
function* throwingAt(n: number, when: number): Generator<number> {
  for (let i = 0; i < n; i++) {
    if (i === when) throw new Error('SayWhenError');
    yield i;
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/** Pools a test made on its own; terminated after each test. */
const owned: Pool[] = [];
function make(...args: ConstructorParameters<typeof Pool>): Pool {
  const pool = new Pool(...args);
  owned.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(owned.splice(0).map((pool) => pool.terminate()));
});

describe('Pool shared by several tests (CPython _TestPool)', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool(2);
  });
  afterAll(() => pool.terminate());

  test('apply runs the function with its arguments in a child', async () => {
    expect(await pool.apply(sqr, [5])).toBe(25);
    expect(await pool.apply((a: number, b: number) => a - b, [10, 3])).toBe(7);
    expect(await pool.apply(pid)).not.toBe(process.pid);
  });

  test('map returns the results in order, for any chunksize', async () => {
    expect(await pool.map(sqr, range(10))).toEqual(range(10).map((x) => x * x));
    expect(await pool.map(sqr, range(100))).toEqual(range(100).map((x) => x * x));
    expect(await pool.map(sqr, range(100), 1)).toEqual(range(100).map((x) => x * x));
    expect(await pool.map(sqr, range(100), 7)).toEqual(range(100).map((x) => x * x));
  });

  test('map of an empty iterable is an empty array', async () => {
    expect(await pool.map(sqr, [])).toEqual([]);
    const result = pool.mapAsync(sqr, []);
    expect(await result.get()).toEqual([]);
  });

  test('imap and imapUnordered of an empty iterable yield nothing', async () => {
    expect(await collect(pool.imap(sqr, []))).toEqual([]);
    expect(await collect(pool.imapUnordered(sqr, [], 3))).toEqual([]);
  });

  test('map with an item that cannot be sent rejects with a TypeError and queues nothing (test_map_unplicklable)', async () => {
    await expect(pool.map((x: unknown) => x, [1, () => 2, 3])).rejects.toThrow(TypeError);
    expect(() => pool.imap((x: unknown) => x, [1, () => 2])).toThrow(TypeError);
    expect(inspect(pool)).toContain('pending=0');
  });

  test('a result that cannot be sent back fails only its task with a TypeError (test_unpickleable_result)', async () => {
    const bad = pool.applyAsync(() => () => 1);
    await expect(bad.get()).rejects.toThrow(TypeError);
    expect(await pool.apply(sqr, [3])).toBe(9);
  });

  test('map accepts any iterable', async () => {
    expect(await pool.map(sqr, new Set([1, 2, 3]))).toEqual([1, 4, 9]);
  });

  test('mapAsync resolves with the results and calls callback once with them', async () => {
    const callback = jest.fn();
    const errorCallback = jest.fn();
    const result = pool.mapAsync(sqr, range(10), { callback, errorCallback });
    expect(await result.get(10_000)).toEqual(range(10).map((x) => x * x));
    expect(callback).toHaveBeenCalledTimes(1);
    expect(callback).toHaveBeenCalledWith(range(10).map((x) => x * x));
    expect(errorCallback).not.toHaveBeenCalled();
  });

  test('mapAsync with a failing item calls errorCallback once and get rejects with the error', async () => {
    const callback = jest.fn();
    const errorCallback = jest.fn();
    const result = pool.mapAsync((x: number) => {
      if (x === 5) throw new RangeError('five');
      return x;
    }, range(10), { chunksize: 2, callback, errorCallback });
    await expect(result.get()).rejects.toThrow(RangeError);
    expect(result.successful()).toBe(false);
    expect(errorCallback).toHaveBeenCalledTimes(1);
    expect(callback).not.toHaveBeenCalled();
  });

  test('a failing map does not break the pool (no failfast hang)', async () => {
    await expect(pool.map((x: number) => {
      if (x % 2) throw new Error(`odd ${x}`);
      return x;
    }, range(20))).rejects.toThrow(/odd/);
    expect(await pool.map(sqr, range(5))).toEqual([0, 1, 4, 9, 16]);
  });

  test('starmap spreads each item as the arguments', async () => {
    const pairs = range(10).map((i) => [i, i + 1]);
    expect(await pool.starmap((a: number, b: number) => a * b, pairs)).toEqual(pairs.map(([a, b]) => a * b));
    expect(await pool.starmap((a: number, b: number) => a * b, pairs, 1)).toEqual(pairs.map(([a, b]) => a * b));
    expect(await pool.starmap((a: number, b: number) => a * b, pairs, 3)).toEqual(pairs.map(([a, b]) => a * b));
  });

  test('starmapAsync resolves with the results', async () => {
    const result = pool.starmapAsync((a: number, b: number) => a + b, [[1, 2], [3, 4]]);
    expect(result).toBeInstanceOf(AsyncResult);
    expect(await result.get()).toEqual([3, 7]);
  });

  test('starmap of an item that is not an argument list is a TypeError', () => {
    expect(() => pool.starmapAsync((a: number) => a, [5 as never])).toThrow(TypeError);
  });

  test('imap yields the results in input order', async () => {
    expect(await collect(pool.imap(sqr, range(10)))).toEqual(range(10).map((x) => x * x));
    expect(await collect(pool.imap(sqr, range(1000), 100))).toEqual(range(1000).map((x) => x * x));
  });

  test('imap throws a task error at its position and the later results can still be read', async () => {
    const it = pool.imap((x: number) => {
      if (x === 3) throw new TypeError('three');
      return x;
    }, range(6))[Symbol.asyncIterator]();
    for (const expected of [0, 1, 2]) expect((await it.next()).value).toBe(expected);
    await expect(it.next()).rejects.toThrow(TypeError);
    expect((await it.next()).value).toBe(4);
    expect((await it.next()).value).toBe(5);
    expect((await it.next()).done).toBe(true);
  });

  test('imap throws an error of the input iterator after the results before it', async () => {
    const it = pool.imap(sqr, throwingAt(10, 3), 1)[Symbol.asyncIterator]();
    for (const i of [0, 1, 2]) expect((await it.next()).value).toBe(i * i);
    await expect(it.next()).rejects.toThrow('SayWhenError');
    const chunked = pool.imap(sqr, throwingAt(20, 10), 2)[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) expect((await chunked.next()).value).toBe(i * i);
    await expect(chunked.next()).rejects.toThrow('SayWhenError');
  });

  test('imap drops the chunk the input iterator failed in and throws at its place (test_imap_handle_iterable_exception)', async () => {
    const byTwo = pool.imap(sqr, throwingAt(20, 7), 2)[Symbol.asyncIterator]();
    for (let i = 0; i < 6; i++) expect((await byTwo.next()).value).toBe(i * i);
    await expect(byTwo.next()).rejects.toThrow('SayWhenError');
    const byFour = pool.imap(sqr, throwingAt(20, 7), 4)[Symbol.asyncIterator]();
    for (let i = 0; i < 4; i++) expect((await byFour.next()).value).toBe(i * i);
    await expect(byFour.next()).rejects.toThrow('SayWhenError');
    expect((await byFour.next()).done).toBe(true);
  });

  test('map rejects with an error of the input iterator, at its first item or later (test_map_handle_iterable_exception)', async () => {
    await expect(pool.map(sqr, throwingAt(1, 0), 1)).rejects.toThrow('SayWhenError');
    await expect(pool.map(sqr, throwingAt(1, 0), 1)).rejects.toThrow('SayWhenError');
    await expect(pool.map(sqr, throwingAt(10, 3), 1)).rejects.toThrow('SayWhenError');
    const special = { [Symbol.iterator]: () => ({ next: (): IteratorResult<number> => { throw new Error('SayWhenError'); } }) };
    await expect(pool.map(sqr, special, 1)).rejects.toThrow('SayWhenError');
    expect(await pool.map(sqr, [3])).toEqual([9]);
  });

  test('imapUnordered yields every result once, in any order', async () => {
    const values = await collect(pool.imapUnordered<number, number>(sqr, range(100)));
    expect(values.sort((a, b) => a - b)).toEqual(range(100).map((x) => x * x));
    const chunked = await collect(pool.imapUnordered<number, number>(sqr, range(1000), 53));
    expect(chunked.sort((a, b) => a - b)).toEqual(range(1000).map((x) => x * x));
  });

  test('imapUnordered throws an error of the input iterator after the results', async () => {
    const expected = new Set(range(10).map((x) => x * x));
    const it = pool.imapUnordered(sqr, throwingAt(20, 10), 1)[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) expect(expected.has((await it.next()).value)).toBe(true);
    await expect(it.next()).rejects.toThrow('SayWhenError');
    // Chunked, as CPython: every value yielded belongs to the input, and the error comes before 20 values.
    const all = new Set(range(20).map((x) => x * x));
    const chunked = pool.imapUnordered(sqr, throwingAt(20, 7), 2)[Symbol.asyncIterator]();
    let seen = 0;
    await expect((async () => {
      for (; seen < 20; seen++) expect(all.delete((await chunked.next()).value)).toBe(true);
    })()).rejects.toThrow('SayWhenError');
    expect(seen).toBe(6);
  });

  test('applyAsync calls callback exactly once, before the result is ready', async () => {
    const seen: Array<[number, boolean]> = [];
    const result: AsyncResult<number> = pool.applyAsync(sqr, [7], {
      callback: (value) => seen.push([value, result.ready()]),
      errorCallback: () => seen.push([-1, false]),
    });
    expect(await result.get()).toBe(49);
    expect(seen).toEqual([[49, false]]);
  });

  test('applyAsync calls errorCallback exactly once with the error', async () => {
    const errors: unknown[] = [];
    const result = pool.applyAsync(() => {
      throw new Error('boom');
    }, [], { errorCallback: (error) => errors.push(error), callback: () => errors.push('callback') });
    await expect(result.get()).rejects.toThrow('boom');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(Error);
  });

  test('an error thrown by a callback is reported and the result is still ready', async () => {
    const report = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const result = pool.applyAsync(sqr, [3], { callback: () => { throw new Error('callback failed'); } });
      expect(await result.get()).toBe(9);
      expect(result.successful()).toBe(true);
      expect(report).toHaveBeenCalledTimes(1);
      expect(await pool.apply(sqr, [4])).toBe(16);
    } finally {
      report.mockRestore();
    }
  });

  test('task errors keep their class, message and properties (CPython test_traceback)', async () => {
    const error = await pool.apply(() => {
      throw Object.assign(new TypeError('bad'), { code: 'E_BAD' });
    }).catch((e: unknown) => e) as TypeError & { code: string };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('bad');
    expect(error.code).toBe('E_BAD');
    expect(error.stack).toContain('bad');
  });

  test('chunksize below 1 is a RangeError (ValueError)', () => {
    expect(() => pool.mapAsync(sqr, range(3), { chunksize: 0 })).toThrow(RangeError);
    expect(() => pool.mapAsync(sqr, range(3), { chunksize: -1 })).toThrow(ValueError);
    expect(() => pool.imap(sqr, range(3), 0)).toThrow(RangeError);
    expect(() => pool.imapUnordered(sqr, range(3), 0)).toThrow(RangeError);
    expect(() => pool.starmapAsync(sqr, [[1]], { chunksize: 0 })).toThrow(RangeError);
    return expect(pool.map(sqr, range(3), 0)).rejects.toThrow(RangeError);
  });

  test('a threading object as argument is a TypeError pointing to threadkit/multiprocessing', () => {
    expect(() => pool.applyAsync((x: unknown) => x, [new Lock()])).toThrow(/threadkit\/multiprocessing/);
  });

  test('finished tasks leave their arguments and results unreferenced (test_release_task_refs)', async () => {
    let objects: Array<{ i: number }> | undefined = range(10).map((i) => ({ i }));
    const argumentRefs = objects.map((o) => new WeakRef(o));
    let results: Array<{ i: number }> | undefined = await pool.map((o: { i: number }) => o, objects);
    expect(results).toEqual(objects);
    // With a process pool the results are copies: they must be released too.
    const resultRefs = results.map((o) => new WeakRef(o));
    objects = undefined;
    results = undefined;
    for (const ref of [...argumentRefs, ...resultRefs]) expect(await collected(ref)).toBe(true);
  });

  test('an AsyncResult that was dropped does not keep its value alive', async () => {
    let result: AsyncResult<{ big: number[] }> | undefined = pool.applyAsync((n: number) => ({ big: Array(n).fill(1) }), [1000]);
    const valueRef = new WeakRef(await result.get());
    result = undefined;
    expect(await collected(valueRef)).toBe(true);
  });

  test('inspect shows the state and the number of processes', () => {
    expect(inspect(pool)).toMatch(/^<Pool state=run processes=2/);
  });
});

describe('Pool construction (CPython test_make_pool)', () => {
  test.each([0, -1, 0.5])('processes %p is a RangeError (ValueError)', (processes) => {
    expect(() => new Pool(processes)).toThrow(ValueError);
  });

  test('processes as a string is a TypeError', () => {
    expect(() => new Pool('2' as never)).toThrow(TypeError);
  });

  test.each([0, -1])('maxtasksperchild %p is a RangeError (ValueError)', (maxtasksperchild) => {
    expect(() => new Pool(1, { maxtasksperchild })).toThrow(ValueError);
  });

  test('processes defaults to cpuCount()', () => {
    const pool = make();
    expect(inspect(pool)).toContain(`processes=${require('node:os').availableParallelism()}`);
  });
});

describe('Pool lifetime', () => {
  test('terminate with 10 000 queued tasks is prompt, rejects their results and kills the children', async () => {
    const pool = make(2);
    const pids = [await pool.apply<number>(pid), await pool.apply<number>(pid)];
    // Tasks that hold until released, which never happens: a terminate that waited for the running
    // ones, or ran the queued ones, would never resolve (the deadline below fails the test instead).
    const rendezvous = await Rendezvous.open();
    try {
      const results = range(10_000).map((i) => pool.applyAsync(hold, [rendezvous.path, i]));
      await rendezvous.arrivals(2); // both children are running one
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('terminate did not resolve within 20 s'), 20_000)));
      expect(await Promise.race([pool.terminate().then(() => 'terminated'), hung])).toBe('terminated');
      clearTimeout(timer);
      for (const result of results.slice(0, 50)) await expect(result.get()).rejects.toThrow(RuntimeError);
      expect(results.every((result) => result.ready())).toBe(true);
      await pool.join();
      expect(stillPresent(pids)).toEqual([]);
    } finally {
      await rendezvous.close();
    }
  });

  test('close lets queued work finish; join waits for the children to end; nothing is left', async () => {
    const pool = make(2);
    const results = range(20).map((i) => pool.applyAsync(sqr, [i]));
    const pids = new Set(await Promise.all(range(4).map(() => pool.apply<number>(pid))));
    pool.close();
    await pool.join();
    for (const [i, result] of results.entries()) expect(await result.get()).toBe(i * i);
    expect(stillPresent(pids)).toEqual([]);
  });

  test('join before close or terminate is a RuntimeError', async () => {
    const pool = make(1);
    await expect(pool.join()).rejects.toThrow(RuntimeError);
  });

  test('after close or terminate every submission is a RuntimeError "Pool not running"', async () => {
    const closed = make(1);
    closed.close();
    expect(() => closed.applyAsync(sqr, [1])).toThrow(RuntimeError);
    expect(() => closed.applyAsync(sqr, [1])).toThrow('Pool not running');
    await expect(closed.apply(sqr, [1])).rejects.toThrow('Pool not running');
    await expect(closed.map(sqr, [1])).rejects.toThrow('Pool not running');
    expect(() => closed.imap(sqr, [1])).toThrow('Pool not running');
    const terminated = make(1);
    await terminated.terminate();
    expect(() => terminated.mapAsync(sqr, [1])).toThrow('Pool not running');
    expect(() => terminated.starmapAsync(sqr, [[1]])).toThrow('Pool not running');
    expect(() => terminated.imapUnordered(sqr, [1])).toThrow('Pool not running');
  });

  test('Symbol.asyncDispose terminates the pool (CPython test_context)', async () => {
    const pool = make(1);
    const childPid = await pool.apply<number>(pid);
    await pool[Symbol.asyncDispose]();
    expect(() => pool.applyAsync(sqr, [1])).toThrow(RuntimeError);
    expect(stillPresent([childPid])).toEqual([]);
  });

  test('maxtasksperchild replaces each child after that many tasks (CPython test_pool_worker_lifetime)', async () => {
    const pool = make(1, { maxtasksperchild: 2 });
    const pids: number[] = [];
    for (let i = 0; i < 6; i++) pids.push(await pool.apply<number>(pid));
    expect(pids[0]).toBe(pids[1]);
    expect(pids[2]).toBe(pids[3]);
    expect(pids[4]).toBe(pids[5]);
    expect(new Set(pids).size).toBe(3);
    const many = await Promise.all(range(30).map(() => pool.apply<number>(pid)));
    const perChild = new Map<number, number>();
    for (const p of many) perChild.set(p, (perChild.get(p) ?? 0) + 1);
    for (const count of perChild.values()) expect(count).toBeLessThanOrEqual(2);
    pool.close();
    await pool.join();
    expect(stillPresent([...pids, ...many])).toEqual([]);
  });

  test('close then join right after maxtasksperchild work does not hang (test_pool_worker_lifetime_early_close)', async () => {
    const pool = make(1, { maxtasksperchild: 1 });
    const results = range(6).map((i) => pool.applyAsync(sqr, [i]));
    pool.close();
    await pool.join();
    for (const [i, result] of results.entries()) expect(await result.get()).toBe(i * i);
  });

  test('the initializer runs in every child before its tasks', async () => {
    const pool = make(2, { initializer: fromModule(TASKS, 'remember'), initargs: [{ answer: 42 }] });
    expect(await pool.map(fromModule(TASKS, 'remembered'), range(4), 1)).toEqual(Array(4).fill({ answer: 42 }));
  });

  test('an initializer that throws fails the pending work with BrokenProcessPoolError instead of hanging', async () => {
    const { printed } = await capturingConsoleError(async () => {
      const pool = make(2, { initializer: fromModule(TASKS, 'failInit') });
      const results = range(5).map((i) => pool.applyAsync(sqr, [i]));
      for (const result of results) await expect(result.get()).rejects.toThrow(BrokenProcessPoolError);
      expect(() => pool.applyAsync(sqr, [1])).toThrow(BrokenProcessPoolError);
    });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^Exception in initializer: /);
  });
});

describe('Pool when a child dies', () => {
  test('a task that exits its child fails with BrokenProcessPoolError; everything else completes', async () => {
    const pool = make(2);
    const before = range(10).map((i) => pool.applyAsync(sqr, [i]));
    const dying = pool.applyAsync(exitWith, [9]);
    const mapped = pool.mapAsync(sqr, range(50), { chunksize: 5 });
    await expect(dying.get()).rejects.toThrow(BrokenProcessPoolError);
    await expect(dying.get()).rejects.toThrow(/exit code 9/);
    for (const [i, result] of before.entries()) expect(await result.get()).toBe(i * i);
    expect(await mapped.get()).toEqual(range(50).map((x) => x * x));
  });

  test('kill -9 of a busy child fails only its task; get() never hangs', async () => {
    const rendezvous = await Rendezvous.open();
    try {
      const pool = make(2);
      const held = pool.applyAsync(hold, [rendezvous.path, 1]);
      const [busyPid] = await rendezvous.arrivals(1);
      const others = range(100).map((i) => pool.applyAsync(sqr, [i]));
      process.kill(busyPid, 'SIGKILL');
      await expect(held.get()).rejects.toThrow(BrokenProcessPoolError);
      for (const [i, result] of others.entries()) expect(await result.get()).toBe(i * i);
    } finally {
      await rendezvous.close();
    }
  });
});
