/**
 * The executor suite: scenarios of CPython's Lib/test/test_concurrent_futures/ (test_wait,
 * test_as_completed, test_shutdown, test_deadlock, test_init, executor tests) that every executor
 * must pass. Called from thread-pool-executor.spec.ts and process-pool-executor.spec.ts:
 *
 *   describeExecutorSuite('ThreadPoolExecutor', (options) => new ThreadPoolExecutor(options));
 *
 * Blocking is coordinated through a Unix-socket gate (spec/fixtures/futures-gate.ts), which works
 * for threads and processes alike; nothing sleeps. Every executor a test makes is shut down in
 * afterEach (or afterAll for the shared one).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import * as path from 'node:path';
import { inspect } from 'node:util';
import {
  ALL_COMPLETED,
  asCompleted,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  wait,
  type Executor,
} from 'threadkit/futures';
import { BrokenExecutorError, CancelledError, RuntimeError, TimeoutError, ValueError } from 'threadkit/errors';
import { fromModule } from 'threadkit';
import { Gate, gateTask } from '../fixtures/futures-gate';
import { collected } from '../helpers/gc';
import { capturingConsoleError } from '../helpers/console';

/** Options the suite passes to `makeExecutor`. */
export interface SuiteExecutorOptions {
  maxWorkers?: number;
  initializer?: (...args: any[]) => unknown;
  initargs?: unknown[];
}

/**
 * What an executor has beyond the common contract (all true when omitted). An executor without
 * `maxWorkers` (DistributedExecutor: its workers' own concurrency decides) skips the tests about
 * pool size and about free workers taking tasks at once; one without `initializer` skips those.
 * Without `runningAtOnce`, the executor hears that a task started a moment after it did (through
 * Redis): a test that cancels after seeing a task start first waits for its future to be running.
 */
export interface SuiteFeatures {
  maxWorkers?: boolean;
  /** Without `maxWorkers`: how many tasks the executor's workers may run at once. @default 1 */
  slots?: number;
  initializer?: boolean;
  runningAtOnce?: boolean;
  /**
   * Resolves once the cancellations made so far reached the workers' side. An executor whose queue
   * is elsewhere (Redis) removes a cancelled task's job a moment after `cancel()`, and a worker
   * freed meanwhile may still take it (its result is then dropped). Omitted: at once.
   */
  cancelsSettled?: () => Promise<void>;
}

const MATH = path.join(__dirname, '../fixtures/futures-math.ts');

/** Identifies the worker a task runs in, for threads and processes alike. */
const workerId = (): string => `${process.pid}:${require('node:worker_threads').threadId}`;

/** Python's `mul`, `divmod` stand-ins. */
const mul = (a: number, b: number): number => a * b;
const failWith = (message: string): never => {
  throw new Error(message);
};

export function describeExecutorSuite(name: string, makeExecutor: (options?: SuiteExecutorOptions) => Executor, features: SuiteFeatures = {}): void {
  const withMaxWorkers = features.maxWorkers === false ? describe.skip : describe;
  const testWithMaxWorkers = features.maxWorkers === false ? test.skip : test;
  const withInitializer = features.initializer === false ? describe.skip : describe;
  describe(`${name} (shared executor suite)`, () => {
    let shared: Executor;
    const owned: Executor[] = [];
    const gates: Gate[] = [];

    /** A fresh executor, shut down after the test. */
    const fresh = (options?: SuiteExecutorOptions): Executor => {
      const ex = makeExecutor(options);
      owned.push(ex);
      return ex;
    };
    const openGate = async (): Promise<Gate> => {
      const gate = await Gate.open();
      gates.push(gate);
      return gate;
    };

    beforeAll(() => {
      shared = makeExecutor({ maxWorkers: 2 });
    });
    afterEach(async () => {
      for (const gate of gates.splice(0)) await gate.close();
      for (const ex of owned.splice(0)) await ex.shutdown({ wait: true, cancelFutures: true });
    });
    afterAll(async () => {
      await shared.shutdown();
    });

    describe('submit', () => {
      test('a submitted function returns its value through the future', async () => {
        const future = shared.submit(mul, 6, 7);
        expect(future).toBeInstanceOf(Future);
        expect(await future).toBe(42);
        expect(await future.result()).toBe(42);
        expect(await future.exception()).toBeNull();
        expect(future.done()).toBe(true);
      });

      test('arguments and results that JSON would corrupt arrive as they were sent, in a call and in a map chunk', async () => {
        const sparse: unknown[] = [1];
        sparse[2] = 3;
        const sent = [new Map<unknown, unknown>([[1, 'a'], ['b', new Date(5)]]), new Set([1, 'x']), new Date(0), 12345678901234567890n, new Int32Array([1, -2]),
          new Float64Array([NaN, -0]), undefined, -0, NaN, Infinity, { u: undefined, n: null, deep: [[{ x: -0 }]] }, sparse, 'é \ud800 ✓'];
        const check = (got: unknown[]): void => {
          expect(got).toEqual(sent);
          // Classes by tag: values decoded outside jest's sandbox have the host realm's constructors.
          expect(Object.prototype.toString.call(got[0])).toBe('[object Map]');
          expect(got[3]).toBe(12345678901234567890n);
          expect(Object.prototype.toString.call(got[4])).toBe('[object Int32Array]');
          expect(Object.is(got[7], -0)).toBe(true);
          expect(Object.is((got[5] as Float64Array)[1], -0)).toBe(true);
          expect(Object.hasOwn(got[10] as object, 'u')).toBe(true);
          expect(1 in (got[11] as unknown[])).toBe(false);
        };
        // The worker sees the types too: it reports them along with the values.
        const [echoed, types] = await shared.submit((...values: unknown[]) => [values, values.map((v) => Object.prototype.toString.call(v))], ...sent);
        check(echoed as unknown[]);
        expect(types).toEqual(sent.map((v) => Object.prototype.toString.call(v)));
        const mapped: unknown[] = [];
        for await (const value of shared.map((v: unknown) => v, sent, { chunksize: 5 })) mapped.push(value);
        check(mapped);
        // A plain-data result right after: the exact-JSON path still carries it.
        expect(await shared.submit((o: { a: number[] }) => ({ ...o, b: 'ok' }), { a: [1, 2] })).toEqual({ a: [1, 2], b: 'ok' });
      });

      test('an async target is awaited', async () => {
        const future = shared.submit(async (x: number) => {
          await new Promise((resolve) => setImmediate(resolve));
          return x + 1;
        }, 1);
        expect(await future).toBe(2);
      });

      test('a module target runs the named export, and the default export', async () => {
        expect(await shared.submit(fromModule<[number, number], number>(MATH, 'add'), 2, 3)).toBe(5);
        expect(await shared.submit(fromModule<[number], number>(MATH), 9)).toBe(81);
      });

      test("a task's error arrives with its class, message and own properties", async () => {
        const future = shared.submit(fromModule<[string], never>(MATH, 'fail'), 'out of range');
        const error = (await future.exception()) as RangeError & { code: string };
        expect(error).toBeInstanceOf(RangeError);
        expect(error.message).toBe('out of range');
        expect(error.code).toBe('E_FIXTURE');
        await expect(future.result()).rejects.toThrow('out of range');
      });

      test('a thrown undefined or 0 still fails the future', async () => {
        const f1 = shared.submit(() => {
          throw undefined;
        });
        const f2 = shared.submit(() => {
          throw 0;
        });
        expect(await f1.exception()).toBeUndefined();
        await expect(f1.result()).rejects.toBeUndefined();
        expect(await f2.exception()).toBe(0);
        await expect(f2.result()).rejects.toBe(0);
      });

      test('a bad target is a TypeError from submit and nothing is queued', () => {
        expect(() => shared.submit(Math.max as never)).toThrow(TypeError);
        expect(() => shared.submit(42 as never)).toThrow(TypeError);
      });

      test('an argument that cannot be sent is a TypeError from submit', () => {
        expect(() => shared.submit((f: unknown) => f, () => 1)).toThrow(TypeError);
        expect(() => shared.submit((s: unknown) => s, Symbol('x'))).toThrow(TypeError);
      });

      test('a result that cannot be cloned fails only its own future with a TypeError', async () => {
        const bad = shared.submit(() => () => 1);
        const good = [1, 2, 3].map((x) => shared.submit(mul, x, 10));
        const error = await bad.exception();
        expect(error).toBeInstanceOf(TypeError);
        expect(await Promise.all(good)).toEqual([10, 20, 30]);
      });

      test('many tasks all complete with their own results', async () => {
        const futures = Array.from({ length: 2000 }, (_, i) => shared.submit((x: number) => x + 1, i));
        const values = await Promise.all(futures);
        expect(values).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
      });

      test('a finished task whose future was discarded leaves nothing referenced (test_no_stale_references)', async () => {
        let argument: { x: number } | undefined = { x: 1 };
        const argumentRef = new WeakRef(argument);
        let done = false;
        let future: Future<{ y: number }> | undefined = shared.submit((a: { x: number }) => ({ y: a.x + 1 }), argument);
        future!.addDoneCallback(() => (done = true));
        const futureRef = new WeakRef(future!);
        argument = undefined;
        future = undefined;
        const deadline = Date.now() + 10_000;
        while (!done && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(done).toBe(true);
        expect(await collected(argumentRef)).toBe(true);
        expect(await collected(futureRef)).toBe(true);
      });
    });

    describe('map', () => {
      test('yields the results in input order', async () => {
        const out: number[] = [];
        for await (const v of shared.map((x: number) => x * x, [3, 1, 4, 1, 5, 9, 2, 6])) out.push(v);
        expect(out).toEqual([9, 1, 16, 1, 25, 81, 4, 36]);
      });

      test('chunksize groups items and keeps the order', async () => {
        const input = Array.from({ length: 101 }, (_, i) => i);
        const out: number[] = [];
        for await (const v of shared.map((x: number) => x * 2, input, { chunksize: 10 })) out.push(v);
        expect(out).toEqual(input.map((x) => x * 2));
      });

      test('map starts submitting at the call, before iteration (issue 11777)', async () => {
        const ex = fresh({ maxWorkers: 2 });
        const gate = await openGate();
        gate.release();
        ex.map(gateTask, Array.from({ length: 10 }, () => gate.path));
        await ex.shutdown({ wait: true });
        expect(gate.arrivals).toBe(10);
      });

      test('chunks of an async target, or of one that is async only sometimes, keep every result in order', async () => {
        const values = Array.from({ length: 10 }, (_, i) => i);
        const results: number[] = [];
        for await (const r of shared.map(async (x: number) => x * 2, values, { chunksize: 3 })) results.push(r);
        expect(results).toEqual(values.map((x) => x * 2));
        const mixed = (x: number): number | Promise<number> => (x % 2 === 0 ? x + 1 : Promise.resolve(x + 1));
        const out: number[] = [];
        for await (const r of shared.map(mixed, values, { chunksize: 4 })) out.push(r);
        expect(out).toEqual(values.map((x) => x + 1));
      });

      test('map left unconsumed does not stop shutdown from finishing (test_shutdown_race_issue12456)', async () => {
        const ex = fresh({ maxWorkers: 2 });
        ex.map((x: number) => String(x), [2, 2, 2]);
        await ex.shutdown();
      });

      test('shutdown while a long map is mid-way ends it at the first item not submitted, with a RuntimeError that says why', async () => {
        const ex = fresh({ maxWorkers: 2 });
        const input = Array.from({ length: 5000 }, (_, i) => i);
        const results = ex.map((x: number) => x + 1, input);
        await ex.shutdown();
        const got: number[] = [];
        const run = async (): Promise<void> => {
          for await (const v of results) got.push(v);
        };
        const error = await run().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RuntimeError);
        expect((error as Error).message).toMatch(/after shutdown \(map reads its input lazily/);
        // Every result read ahead before the shutdown arrived, in order.
        expect(got.length).toBeGreaterThan(0);
        expect(got).toEqual(input.slice(0, got.length).map((x) => x + 1));
      });

      test('a chunksize below 1 or not an integer is a RangeError (ValueError, as Python: test_map_chunksize)', () => {
        expect(() => shared.map((x: number) => x, [1], { chunksize: 0 })).toThrow(RangeError);
        expect(() => shared.map((x: number) => x, [1], { chunksize: -1 })).toThrow(ValueError);
        expect(() => shared.map((x: number) => x, [1], { chunksize: -1 })).toThrow(RangeError);
        expect(() => shared.map((x: number) => x, [1], { chunksize: 1.5 })).toThrow(/chunksize/);
      });

      test('an async iterable is consumed', async () => {
        async function* source(): AsyncGenerator<number> {
          for (let i = 0; i < 5; i++) yield i;
        }
        const out: number[] = [];
        for await (const v of shared.map((x: number) => x + 100, source(), { chunksize: 2 })) out.push(v);
        expect(out).toEqual([100, 101, 102, 103, 104]);
      });

      test('an endless async generator is closed when the consumer stops early', async () => {
        let closed = false;
        async function* ticks(): AsyncGenerator<number> {
          try {
            for (let i = 0; ; i++) yield i;
          } finally {
            closed = true;
          }
        }
        const out: number[] = [];
        for await (const v of shared.map((x: number) => -x, ticks(), { chunksize: 3 })) {
          out.push(v);
          if (out.length === 4) break;
        }
        expect(out).toEqual([-0, -1, -2, -3]);
        // The pump may be reading when the loop ends: the generator closes right after that read.
        for (let i = 0; i < 100 && !closed; i++) await new Promise((resolve) => setImmediate(resolve));
        expect(closed).toBe(true);
      });

      test('an error of an async source is thrown after the results before it', async () => {
        async function* source(): AsyncGenerator<number> {
          yield 1;
          yield 2;
          throw new TypeError('async source broke');
        }
        const out: number[] = [];
        const run = async (): Promise<void> => {
          for await (const v of shared.map((x: number) => x, source())) out.push(v);
        };
        await expect(run()).rejects.toThrow('async source broke');
        expect(out).toEqual([1, 2]);
      });

      test('an endless generator works when the consumer stops early', async () => {
        let produced = 0;
        let closed = false;
        function* naturals(): Generator<number> {
          try {
            for (let i = 0; ; i++) {
              produced++;
              yield i;
            }
          } finally {
            closed = true;
          }
        }
        const out: number[] = [];
        for await (const v of shared.map((x: number) => x * 3, naturals())) {
          out.push(v);
          if (out.length === 10) break;
        }
        expect(out).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
        expect(closed).toBe(true);
        expect(produced).toBeLessThan(100000);
      });

      test('the first task error is thrown by the iterator after the results before it', async () => {
        const out: number[] = [];
        const run = async (): Promise<void> => {
          for await (const v of shared.map(
            (x: number) => {
              if (x === 3) throw new RangeError('three');
              return x;
            },
            [1, 2, 3, 4],
          )) {
            out.push(v);
          }
        };
        await expect(run()).rejects.toThrow(RangeError);
        expect(out).toEqual([1, 2]);
      });

      test('an error of the source iterable is thrown at its position', async () => {
        function* source(): Generator<number> {
          yield 1;
          throw new Error('source broke');
        }
        const out: number[] = [];
        const run = async (): Promise<void> => {
          for await (const v of shared.map((x: number) => x, source())) out.push(v);
        };
        await expect(run()).rejects.toThrow('source broke');
        expect(out).toEqual([1]);
      });

      test('a timeout counts from the call and throws TimeoutError', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const gate = await openGate();
        const blocked = ex.map(gateTask, [gate.path, gate.path], { timeout: 50 });
        const run = async (): Promise<void> => {
          for await (const v of blocked) void v;
        };
        const error = await run().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TimeoutError);
        expect((error as Error).message).toBe('map results were not ready within 50 ms');
        await expect(run()).resolves.toBeUndefined();
        gate.release();
      });

      test('a timeout cancels the task it was waiting for, not only the ones after it (test_executor_map_current_future_cancel)', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const busy = await openGate();
        const mapped = await openGate();
        const first = ex.submit(gateTask, busy.path, 'first');
        await busy.waitArrivals(1);
        const results = ex.map(gateTask, [mapped.path, mapped.path], { timeout: 0 })[Symbol.asyncIterator]();
        await expect(results.next()).rejects.toThrow(TimeoutError);
        mapped.release();
        busy.release();
        expect(await first).toBe('first');
        await ex.shutdown();
        expect(mapped.arrivals).toBe(0);
      });

      test.each([1, 3])('the result iterator keeps no reference to a result it yielded, chunksize %i (test_free_reference)', async (chunksize) => {
        // Stepped by hand: `for await` itself keeps the current step's value alive until the next
        // one (V8 holds it in the loop's frame), which would hide what the iterator holds.
        const results = shared.map((n: number) => ({ n }), Array.from({ length: 10 }, (_, i) => i), { chunksize })[Symbol.asyncIterator]();
        const freed: boolean[] = [];
        for (;;) {
          let step: IteratorResult<{ n: number }> | undefined = await results.next();
          if (step.done) break;
          const ref = new WeakRef(step.value);
          step = undefined;
          freed.push(await collected(ref));
        }
        expect(freed).toEqual(Array(10).fill(true));
      });

      test('breaking out of the loop cancels the tasks not started yet', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const gate = await openGate();
        // Item 0 runs for a few milliseconds, so the work counts as slow and the one worker takes one
        // task at a time (see the scheduling core); every later item waits at the gate. When the loop
        // is left after the first result, item 1 may have started; items 2… are still queued and must
        // never run.
        const step = (p: string | null): unknown => {
          if (p === null) {
            const end = Date.now() + 5;
            while (Date.now() < end);
            return 'first';
          }
          return new Promise((resolve, reject) => {
            const socket = require('node:net').connect(p);
            socket.once('data', () => {
              socket.destroy();
              resolve(p);
            });
            socket.once('error', reject);
          });
        };
        let first: unknown;
        for await (const v of ex.map(step, [null, ...Array<string>(49).fill(gate.path)])) {
          first = v;
          break;
        }
        expect(first).toBe('first');
        await features.cancelsSettled?.();
        gate.release();
        await ex.shutdown();
        // With a pool of its own that is the one worker; else the workers' slots may each have started one.
        expect(gate.arrivals).toBeLessThanOrEqual(features.maxWorkers === false ? (features.slots ?? 1) : 1);
      });
    });

    withMaxWorkers('maxWorkers', () => {
      test.each([0, -1, 0.5])('maxWorkers %p is a RangeError naming it (ValueError, as Python)', (value) => {
        expect(() => makeExecutor({ maxWorkers: value })).toThrow(RangeError);
        expect(() => makeExecutor({ maxWorkers: value })).toThrow(ValueError);
        expect(() => makeExecutor({ maxWorkers: value })).toThrow(/maxWorkers/);
      });

      test('maxWorkers "12" is a TypeError naming it and the value', () => {
        expect(() => makeExecutor({ maxWorkers: '12' as never })).toThrow(TypeError);
        expect(() => makeExecutor({ maxWorkers: '12' as never })).toThrow(/maxWorkers.*"12"/);
      });

      test('an idle worker is reused instead of starting another (test_idle_thread_reuse)', async () => {
        const ex = fresh({ maxWorkers: 3 });
        const first = await ex.submit(workerId);
        const second = await ex.submit(workerId);
        const third = await ex.submit(workerId);
        expect(new Set([first, second, third]).size).toBe(1);
      });

      test('15 × maxWorkers blocked tasks never start more than maxWorkers workers', async () => {
        const maxWorkers = 2;
        const ex = fresh({ maxWorkers });
        const gate = await openGate();
        const futures = Array.from({ length: 15 * maxWorkers }, () =>
          ex.submit(async (p: string) => {
            const id = `${process.pid}:${require('node:worker_threads').threadId}`;
            await new Promise((resolve, reject) => {
              const s = require('node:net').connect(p);
              s.once('data', () => {
                s.destroy();
                resolve(null);
              });
              s.once('error', reject);
            });
            return id;
          }, gate.path),
        );
        await gate.waitArrivals(maxWorkers);
        gate.release();
        const ids = new Set(await Promise.all(futures));
        expect(ids.size).toBeLessThanOrEqual(maxWorkers);
        expect(ids.size).toBeGreaterThanOrEqual(1);
      });
    });

    describe('shutdown', () => {
      test('submit after shutdown is a RuntimeError', async () => {
        const ex = fresh({ maxWorkers: 1 });
        await ex.shutdown();
        expect(() => ex.submit(mul, 1, 2)).toThrow(RuntimeError);
        expect(() => ex.submit(mul, 1, 2)).toThrow('cannot schedule new futures after shutdown');
        expect(() => ex.map(mul as never, [1])).toThrow(RuntimeError);
      });

      test('shutdown waits for the queued tasks to finish', async () => {
        const ex = fresh({ maxWorkers: 2 });
        const futures = Array.from({ length: 20 }, (_, i) => ex.submit(mul, i, 2));
        await ex.shutdown({ wait: true });
        expect(futures.every((f) => f.done() && !f.cancelled())).toBe(true);
        expect(await Promise.all(futures)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
      });

      test('shutdown without wait still runs the queued tasks', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const futures = Array.from({ length: 5 }, (_, i) => ex.submit(mul, i, 3));
        await ex.shutdown({ wait: false });
        expect(await Promise.all(futures)).toEqual([0, 3, 6, 9, 12]);
      });

      test('cancelFutures with 5 workers and 50 tasks cancels the queued ones and the rest finish', async () => {
        const ex = fresh({ maxWorkers: 5 });
        const gate = await openGate();
        const futures = Array.from({ length: 50 }, (_, i) => ex.submit(gateTask, gate.path, i));
        await gate.waitArrivals(1);
        const stopped = ex.shutdown({ cancelFutures: true });
        gate.release();
        await stopped;
        const cancelled = futures.filter((f) => f.cancelled());
        // Slow (unmeasured) work goes out one task per worker: at most 5 had started.
        expect(cancelled.length).toBeGreaterThanOrEqual(45);
        for (const f of futures.filter((f) => !f.cancelled())) {
          expect(f.done()).toBe(true);
          expect(await f.exception()).toBeNull();
        }
        for (const f of cancelled) await expect(f.result()).rejects.toThrow(CancelledError);
      });

      testWithMaxWorkers('shutdown with cancelFutures right after the submits runs what free workers take and cancels the rest (test_cancel_futures)', async () => {
        const ex = fresh({ maxWorkers: 5 });
        const gate = await openGate();
        const futures = Array.from({ length: 50 }, (_, i) => ex.submit(gateTask, gate.path, i));
        const stopped = ex.shutdown({ cancelFutures: true });
        gate.release();
        await stopped;
        const cancelled = futures.filter((f) => f.cancelled());
        const others = futures.filter((f) => !f.cancelled());
        expect(cancelled.length).toBeGreaterThan(20);
        expect(others.length).toBeGreaterThan(0);
        for (const f of others) {
          expect(f.done()).toBe(true);
          expect(await f.exception()).toBeNull();
        }
      });

      test('shutdown waits for 50 slow tasks submitted right before it (test_hang_issue12364)', async () => {
        const ex = fresh({ maxWorkers: 5 });
        const gate = await openGate();
        const futures = Array.from({ length: 50 }, (_, i) => ex.submit(gateTask, gate.path, i));
        const stopped = ex.shutdown();
        gate.release();
        await stopped;
        expect(await Promise.all(futures)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      });

      test('shutdown without wait but with cancelFutures cancels the queue and still ends the workers', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const gate = await openGate();
        const running = ex.submit(gateTask, gate.path, 'ran');
        await gate.waitArrivals(1);
        for (const deadline = Date.now() + 10_000; features.runningAtOnce === false && !running.running() && Date.now() < deadline; ) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const queued = Array.from({ length: 10 }, (_, i) => ex.submit(mul, i, 1));
        await ex.shutdown({ wait: false, cancelFutures: true });
        expect(queued.every((f) => f.cancelled())).toBe(true);
        gate.release();
        expect(await running).toBe('ran');
        await ex.shutdown({ wait: true });
      });

      test('a queued future that is cancelled completes at once for wait() and asCompleted()', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const gate = await openGate();
        const running = ex.submit(gateTask, gate.path);
        await gate.waitArrivals(1);
        const queued = ex.submit(mul, 2, 3);
        expect(queued.cancel()).toBe(true);
        // The executor owns the queue: the cancellation is notified at once, no worker has to reach it.
        expect(queued._state).toBe('CANCELLED_AND_NOTIFIED');
        const { done, notDone } = await wait([queued, running], { returnWhen: FIRST_COMPLETED });
        expect(done).toEqual(new Set([queued]));
        expect(notDone).toEqual(new Set([running]));
        const seen: unknown[] = [];
        for await (const f of asCompleted([queued])) seen.push(f);
        expect(seen).toEqual([queued]);
        gate.release();
        await running;
      });

      test('a task submitted and cancelled right before shutdown does not hang it', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const gate = await openGate();
        const running = ex.submit(gateTask, gate.path, 'ran');
        await gate.waitArrivals(1);
        const queued = ex.submit(mul, 1, 2);
        expect(queued.cancel()).toBe(true);
        const stopped = ex.shutdown();
        gate.release();
        await stopped;
        expect(await running).toBe('ran');
        expect(queued.cancelled()).toBe(true);
      });

      test('a task cancelled before any worker took it never runs', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const future = ex.submit(mul, 2, 2);
        expect(future.cancel()).toBe(true);
        await ex.shutdown();
        expect(future.cancelled()).toBe(true);
        expect(future._state).toBe('CANCELLED_AND_NOTIFIED');
      });

      test('shutdown is idempotent, and await using shuts down', async () => {
        let held: Executor | undefined;
        {
          await using ex = makeExecutor({ maxWorkers: 1 });
          held = ex;
          expect(await ex.submit(mul, 3, 3)).toBe(9);
        }
        expect(() => held!.submit(mul, 1, 1)).toThrow(RuntimeError);
        await held.shutdown();
        await held.shutdown({ wait: false });
      });
    });

    describe('worker deaths', () => {
      test('a worker that exits mid-task fails only that task, with the exit code, and is replaced', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const before = [1, 2, 3].map((x) => ex.submit(mul, x, 1));
        const dying = ex.submit(() => process.exit(3));
        const after = [4, 5, 6].map((x) => ex.submit(mul, x, 1));
        const error = await dying.exception();
        expect(error).toBeInstanceOf(BrokenExecutorError);
        expect((error as Error).name).toMatch(/^Broken(Thread|Process)PoolError$/);
        expect((error as Error).message).toMatch(/3/);
        expect(await Promise.all(before)).toEqual([1, 2, 3]);
        expect(await Promise.all(after)).toEqual([4, 5, 6]);
        expect(await ex.submit(mul, 7, 1)).toBe(7);
      });

      test('a worker that crashes with an uncaught error fails only its task', async () => {
        const ex = fresh({ maxWorkers: 2 });
        const others = Array.from({ length: 10 }, (_, i) => ex.submit(mul, i, i));
        const crashing = ex.submit(
          () =>
            new Promise(() => {
              setImmediate(() => {
                throw new Error('crash in a callback');
              });
            }),
        );
        expect(await crashing.exception()).toBeInstanceOf(BrokenExecutorError);
        expect(await Promise.all(others)).toEqual(Array.from({ length: 10 }, (_, i) => i * i));
        expect(await ex.submit(mul, 2, 5)).toBe(10);
      });
    });

    withInitializer('initializer', () => {
      test('runs once in each worker before its first task, with initargs', async () => {
        const ex = fresh({
          maxWorkers: 2,
          initializer: (value: string) => {
            const g = globalThis as { __tkInitRuns?: number; __tkInitValue?: string };
            g.__tkInitRuns = (g.__tkInitRuns ?? 0) + 1;
            g.__tkInitValue = value;
          },
          initargs: ['initialized'],
        });
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            ex.submit(() => {
              const g = globalThis as { __tkInitRuns?: number; __tkInitValue?: string };
              return `${g.__tkInitValue}:${g.__tkInitRuns}`;
            }),
          ),
        );
        expect(new Set(results)).toEqual(new Set(['initialized:1']));
      });

      test('an initializer that throws fails the pending futures, breaks the executor and is reported once (test_init)', async () => {
        const { printed } = await capturingConsoleError(async () => {
          const ex = fresh({
            maxWorkers: 2,
            initializer: () => {
              throw new RangeError('error in initializer');
            },
          });
          const futures = Array.from({ length: 10 }, (_, i) => ex.submit(mul, i, 1));
          for (const f of futures) {
            const error = await f.exception();
            expect(error).toBeInstanceOf(BrokenExecutorError);
            expect((error as Error).message).toContain('RangeError: error in initializer');
          }
          expect(() => ex.submit(mul, 1, 1)).toThrow(BrokenExecutorError);
          await ex.shutdown();
        });
        expect(printed).toHaveLength(1);
        expect(printed[0]).toMatch(/^Exception in initializer: RangeError: error in initializer/);
      });

      test("every queued future's Broken error, and a later submit's, has the initializer's error as its cause", async () => {
        await capturingConsoleError(async () => {
          const ex = fresh({
            maxWorkers: 1,
            initializer: () => {
              throw new RangeError('error in initializer');
            },
          });
          // One worker takes one task; the nine others are still queued when the executor breaks.
          const futures = Array.from({ length: 10 }, (_, i) => ex.submit(mul, i, 1));
          for (const f of futures) {
            const error = (await f.exception()) as Error;
            expect(error).toBeInstanceOf(BrokenExecutorError);
            expect(error.cause).toBeInstanceOf(RangeError);
            expect((error.cause as Error).message).toBe('error in initializer');
          }
          let thrown: unknown;
          try {
            ex.submit(mul, 1, 1);
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(BrokenExecutorError);
          expect((thrown as Error).cause).toBeInstanceOf(RangeError);
          await ex.shutdown();
        });
      });

      test('a bad initializer or initargs is a TypeError at construction', () => {
        expect(() => makeExecutor({ initializer: 42 as never })).toThrow(TypeError);
        expect(() => makeExecutor({ initializer: 42 as never })).toThrow(/`initializer`.*number 42/);
        expect(() => makeExecutor({ initializer: () => 1, initargs: 'x' as never })).toThrow(TypeError);
        expect(() => makeExecutor({ initializer: () => 1, initargs: 'x' as never })).toThrow(/`initargs`.*string "x"/);
        expect(() => makeExecutor({ initializer: () => 1, initargs: [Symbol('s')] })).toThrow(TypeError);
        expect(() => makeExecutor({ initializer: () => 1, initargs: [Symbol('s')] })).toThrow(/`initargs`: argument 1/);
      });

      test('bad input starts nothing: no worker is left after a constructor or submit throws', async () => {
        // Handles of workers and children (timers of other tests do not count).
        const handles = (): number => process.getActiveResourcesInfo().filter((kind) => kind !== 'Timeout' && kind !== 'Immediate').length;
        const before = handles();
        for (const maxWorkers of [0, -1, 0.5, '12', NaN]) expect(() => makeExecutor({ maxWorkers: maxWorkers as never })).toThrow(/`maxWorkers`/);
        const ex = fresh({ maxWorkers: 1 });
        expect(() => ex.submit(42 as never)).toThrow(/`fn`.*number 42/);
        expect(() => ex.submit((x: unknown) => x, Symbol('s'))).toThrow(/argument 1/);
        expect(() => ex.map((x: unknown) => x, [1], { chunksize: 0 })).toThrow(/`chunksize`.*0/);
        await new Promise((resolve) => setImmediate(resolve));
        expect(handles()).toBeLessThanOrEqual(before);
        expect(inspect(ex)).toMatch(/pending=0 running=0/);
      });
    });

    describe('wait and asCompleted with running tasks', () => {
      test('wait FIRST_COMPLETED returns as soon as one task finished', async () => {
        const ex = fresh({ maxWorkers: 2 });
        const gate = await openGate();
        const blocked = ex.submit(gateTask, gate.path);
        const quick = ex.submit(mul, 21, 2);
        const { done, notDone } = await wait([blocked, quick], { returnWhen: FIRST_COMPLETED });
        expect(done).toEqual(new Set([quick]));
        expect(notDone).toEqual(new Set([blocked]));
        gate.release();
        await blocked;
      });

      test('wait FIRST_EXCEPTION returns at the first failure', async () => {
        const ex = fresh({ maxWorkers: 2 });
        const gate = await openGate();
        const blocked = ex.submit(gateTask, gate.path);
        const ok = ex.submit(mul, 2, 2);
        const failing = ex.submit(failWith, 'first exception');
        const { done, notDone } = await wait([blocked, ok, failing], { returnWhen: FIRST_EXCEPTION });
        expect(done.has(failing)).toBe(true);
        expect(notDone.has(blocked)).toBe(true);
        gate.release();
        await blocked;
      });

      test('wait ALL_COMPLETED waits for every task, failures included', async () => {
        const futures = [shared.submit(failWith, 'x'), shared.submit(mul, 2, 21), shared.submit(mul, 1, 1)];
        const { done, notDone } = await wait(futures, { returnWhen: ALL_COMPLETED });
        expect(done).toEqual(new Set(futures));
        expect(notDone.size).toBe(0);
      });

      test('wait with a timeout returns the partition without throwing', async () => {
        const ex = fresh({ maxWorkers: 1 });
        const gate = await openGate();
        const blocked = ex.submit(gateTask, gate.path);
        const { done, notDone } = await wait([blocked], { timeout: 30 });
        expect(done.size).toBe(0);
        expect(notDone).toEqual(new Set([blocked]));
        gate.release();
        await blocked;
      });

      test('asCompleted yields a done future once, then times out naming the unfinished count', async () => {
        const ex = fresh({ maxWorkers: 2 });
        const gate = await openGate();
        const blocked = ex.submit(gateTask, gate.path);
        const quick = ex.submit(mul, 3, 3);
        await quick;
        const seen: unknown[] = [];
        const run = async (): Promise<void> => {
          for await (const f of asCompleted([quick, blocked, quick], 50)) seen.push(f);
        };
        await expect(run()).rejects.toThrow('1 (of 2) futures unfinished');
        expect(seen).toEqual([quick]);
        gate.release();
        await blocked;
      });
    });
  });
}
