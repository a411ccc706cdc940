/**
 * ThreadPoolExecutor: the shared executor suite, plus what only threads have (CPython's
 * test_thread_pool.py): thread names, the default maxWorkers, shared-memory blocking, batches that
 * survive a death in their middle, stealing from a blocked batch, out-of-memory workers.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import * as os from 'node:os';
import { inspect } from 'node:util';
import { ThreadPoolExecutor, type Executor, type Future } from 'threadkit/futures';
import { BrokenThreadPoolError } from 'threadkit/errors';
import { liveResources } from '../../lib/internal/tracking';
import { describeExecutorSuite } from './executor-suite';
import { capturingConsoleError } from '../helpers/console';
import { untilBatching } from '../helpers/executors';

describeExecutorSuite('ThreadPoolExecutor', (options) => new ThreadPoolExecutor(options));

describe('ThreadPoolExecutor', () => {
  const owned: Executor[] = [];
  const make = (options?: ConstructorParameters<typeof ThreadPoolExecutor>[0]): ThreadPoolExecutor => {
    const ex = new ThreadPoolExecutor(options);
    owned.push(ex);
    return ex;
  };
  afterEach(async () => {
    for (const ex of owned.splice(0)) await ex.shutdown({ cancelFutures: true });
  });

  test('the default maxWorkers is min(32, availableParallelism + 4)', () => {
    const ex = make();
    expect(inspect(ex)).toContain(`maxWorkers=${Math.min(32, os.availableParallelism() + 4)}`);
  });

  test('threadNamePrefix names the worker threads, numbered from 0', async () => {
    const ex = make({ maxWorkers: 1, threadNamePrefix: 'Crunch' });
    const name = await ex.submit(() => require('threadkit/threading').currentThread().name);
    expect(name).toBe('Crunch_0');
  });

  test('without a prefix threads are named ThreadPoolExecutor-<k>_<n>', async () => {
    const ex = make({ maxWorkers: 1 });
    const name = (await ex.submit(() => require('threadkit/threading').currentThread().name)) as string;
    expect(name).toMatch(/^ThreadPoolExecutor-\d+_0$/);
  });

  test('a non-string threadNamePrefix is a TypeError', () => {
    expect(() => new ThreadPoolExecutor({ threadNamePrefix: 5 as never })).toThrow(TypeError);
  });

  test('15 × maxWorkers tasks blocked in Atomics.wait run on exactly maxWorkers threads, all at once', async () => {
    const maxWorkers = 3;
    const ex = make({ maxWorkers });
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const ARRIVED = 0;
    const OPEN = 1;
    const futures = Array.from({ length: 15 * maxWorkers }, () =>
      ex.submit((g: Int32Array) => {
        Atomics.add(g, 0, 1);
        Atomics.notify(g, 0);
        Atomics.wait(g, 1, 0, 20000);
        return require('node:worker_threads').threadId as number;
      }, gate),
    );
    // Wait (without blocking the event loop) until maxWorkers tasks are parked at once, then open the gate.
    const deadline = Date.now() + 20000;
    while (Atomics.load(gate, ARRIVED) < maxWorkers && Date.now() < deadline) {
      const seen = Atomics.load(gate, ARRIVED);
      await Atomics.waitAsync(gate, ARRIVED, seen, 1000).value;
    }
    // Every thread runs one task and parks: exactly maxWorkers arrived, no more could.
    expect(Atomics.load(gate, ARRIVED)).toBe(maxWorkers);
    Atomics.store(gate, OPEN, 1);
    Atomics.notify(gate, OPEN);
    const ids = new Set(await Promise.all(futures));
    expect(ids.size).toBe(maxWorkers);
  });

  test('a task queued behind a blocked one in the same batch is taken by an idle worker', async () => {
    const ex = make({ maxWorkers: 2 });
    // Batches form only once the work is known to run fast: until then each worker gets one task.
    await untilBatching(ex);
    const counter = new Int32Array(new SharedArrayBuffer(4));
    // The first task waits until the ten others have run. Sent in batches (two per worker at a
    // time, see the scheduling core), one of them sits behind it in its batch: only a steal by
    // the other worker can run it.
    const waiter = ex.submit((c: Int32Array) => {
      for (let seen = Atomics.load(c, 0); seen < 10; seen = Atomics.load(c, 0)) {
        if (Atomics.wait(c, 0, seen, 10000) === 'timed-out') return 'stuck';
      }
      return 'released';
    }, counter);
    const others = Array.from({ length: 10 }, () =>
      ex.submit((c: Int32Array) => {
        Atomics.add(c, 0, 1);
        Atomics.notify(c, 0);
        return true;
      }, counter),
    );
    expect(await waiter).toBe('released');
    expect(await Promise.all(others)).toEqual(Array(10).fill(true));
  });

  test('lone tasks one after another, values and errors: each settled once, and the pool ends with nothing out', async () => {
    const ex = make({ maxWorkers: 2 });
    const maybeFail = (x: number): number => {
      if (x % 7 === 0) throw new RangeError(`bad ${x}`);
      return x * 2;
    };
    for (let i = 1; i <= 600; i++) {
      const future = ex.submit(maybeFail, i);
      if (i % 7 === 0) await expect(future.result()).rejects.toThrow(`bad ${i}`);
      else expect(await future.result()).toBe(i * 2);
    }
    expect(inspect(ex)).toContain('pending=0 running=0');
    await ex.shutdown(); // waits for nothing out: hangs if a task were counted twice or never
  });

  // When the lingering task's result is read on the spot (scheduler.ts, "Lone jobs"), the next lone
  // task first waits for its thread; scheduler.spec.ts checks that path on its own, deterministically.
  test('a lone task that leaves its thread busy after it returned does not hold up the next lone task', async () => {
    const ex = make({ maxWorkers: 2 });
    // Returns at once (its result may be read from shared memory on the spot), then keeps the thread busy.
    const linger = (ms: number): number => {
      if (ms > 0) {
        queueMicrotask(() => {
          const end = Date.now() + ms;
          while (Date.now() < end);
        });
      }
      return ms;
    };
    for (let i = 0; i < 500; i++) expect(await ex.submit(linger, 0)).toBe(0);
    // The next one is submitted the moment the lingering one is done, while its thread is still busy.
    let started = 0;
    let next: Future<number> | undefined;
    const lingering = ex.submit(linger, 1500);
    lingering.addDoneCallback(() => {
      started = Date.now();
      next = ex.submit(linger, 0);
    });
    expect(await lingering).toBe(1500);
    expect(await next!).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000); // the other thread took it
  });

  test('a thread that meets a target it was never sent whole asks for it, and the task runs', async () => {
    const ex = make({ maxWorkers: 2 });
    const double = (x: number): number => x * 2;
    // One at a time, so one thread runs them all: the target goes whole to it (maxWorkers times),
    // then by number only.
    for (let i = 0; i < 3; i++) expect(await ex.submit(double, i)).toBe(i * 2);
    // Keep that thread busy: the next task goes to a new thread, which was never sent `double`.
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const blocked = ex.submit((g: Int32Array) => {
      Atomics.store(g, 1, 1);
      Atomics.notify(g, 1);
      return Atomics.wait(g, 0, 0, 20_000);
    }, gate);
    try {
      while (Atomics.load(gate, 1) === 0) await Atomics.waitAsync(gate, 1, 0, 1000).value;
      expect(await ex.submit(double, 21)).toBe(42);
    } finally {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    }
    expect(await blocked).toBe('ok');
  });

  test('results of a batch survive a death in its middle; the rest of the batch is re-run', async () => {
    const ex = make({ maxWorkers: 1 });
    const values = Array.from({ length: 40 }, (_, i) => i);
    const futures = values.map((i) =>
      ex.submit((x: number) => {
        if (x === 20) process.exit(7);
        return x * 10;
      }, i),
    );
    const error = await futures[20].exception();
    expect(error).toBeInstanceOf(BrokenThreadPoolError);
    expect((error as Error).message).toContain('exit code 7');
    for (const i of values) if (i !== 20) expect(await futures[i]).toBe(i * 10);
  });

  test('a worker out of memory fails only its task', async () => {
    const ex = make({ maxWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } });
    const hog = ex.submit(() => {
      const keep: number[][] = [];
      for (;;) keep.push(new Array(1e5).fill(1.5));
    });
    const after = ex.submit((x: number) => x + 1, 1);
    const error = await hog.exception();
    expect(error).toBeInstanceOf(BrokenThreadPoolError);
    expect(await after).toBe(2);
  });

  test("a failed initializer's error is the cause of the BrokenThreadPoolError", async () => {
    const ex = make({
      maxWorkers: 1,
      initializer: () => {
        throw new RangeError('bad setup');
      },
    });
    const { value: error } = await capturingConsoleError(async () => (await ex.submit(() => 1).exception()) as BrokenThreadPoolError);
    expect(error).toBeInstanceOf(BrokenThreadPoolError);
    expect(error.message).toBe('a thread initializer failed, the thread pool is not usable anymore (RangeError: bad setup)');
    expect(error.cause).toBeInstanceOf(RangeError);
    expect((error.cause as Error).message).toBe('bad setup');
  });

  test('workers that die before running anything (an initializer calling process.exit) break the executor instead of respawning forever', async () => {
    const ex = make({ maxWorkers: 1, initializer: () => process.exit(1) });
    const futures = [1, 2, 3].map((x) => ex.submit((v: number) => v, x));
    for (const f of futures) {
      const error = await f.exception();
      expect(error).toBeInstanceOf(BrokenThreadPoolError);
    }
    expect(() => ex.submit((v: number) => v, 4)).toThrow(BrokenThreadPoolError);
  });

  test('shared memory passed to tasks is the same memory', async () => {
    const ex = make({ maxWorkers: 2 });
    const cells = new Int32Array(new SharedArrayBuffer(4 * 100));
    await Promise.all(Array.from({ length: 100 }, (_, i) => ex.submit((c: Int32Array, k: number) => void Atomics.store(c, k, k * 2), cells, i)));
    expect(Array.from(cells)).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
  });

  test('a shared array returned by a task is the same memory', async () => {
    const ex = make({ maxWorkers: 1 });
    const cells = new Int32Array(new SharedArrayBuffer(8));
    const back = (await ex.submit((c: Int32Array) => c, cells)) as Int32Array;
    Atomics.store(back, 1, 99);
    expect(Atomics.load(cells, 1)).toBe(99);
  });

  test('a Lock passed to a task and returned from it is the same lock', async () => {
    const { Lock } = await import('threadkit/threading');
    const ex = make({ maxWorkers: 1 });
    const lock = new Lock();
    const back = await ex.submit((l: InstanceType<typeof Lock>) => {
      l.acquireSync();
      return l;
    }, lock);
    expect(lock.locked()).toBe(true);
    (back as InstanceType<typeof Lock>).release();
    expect(lock.locked()).toBe(false);
  });

  test('a big result goes back whole', async () => {
    const ex = make({ maxWorkers: 1 });
    const futures = [1, 2, 3].map((n) => ex.submit((k: number) => 'x'.repeat(200000 * k), n));
    const lengths = (await Promise.all(futures)).map((s) => (s as string).length);
    expect(lengths).toEqual([200000, 400000, 600000]);
  });

  test('after shutdown no worker thread of the executor is left', async () => {
    const ex = make({ maxWorkers: 3, threadNamePrefix: 'Leftover' });
    await Promise.all(Array.from({ length: 30 }, (_, i) => ex.submit((x: number) => x, i)));
    expect(liveResources().some((r) => r.label === 'Leftover')).toBe(true);
    await ex.shutdown();
    expect(liveResources().some((r) => r.label === 'Leftover')).toBe(false);
  });

  test('inspect shows the state of the executor', async () => {
    const ex = make({ maxWorkers: 3 });
    expect(inspect(ex)).toBe('<ThreadPoolExecutor maxWorkers=3 pending=0 running=0>');
    await ex.shutdown();
    expect(inspect(ex)).toContain('shutdown');
  });
});
