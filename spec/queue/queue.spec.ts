/**
 * threadkit/queue across threads: scenarios ported from CPython's Lib/test/test_queue.py
 * (basic_queue_test, queue_join_test, test_queue_task_done, test_nowait, test_negative_timeout,
 * test_shrinking_queue; BaseSimpleQueueTest: test_basic, test_order, test_many_threads, _nonblock,
 * _timeout), the seed's Queue(3), 4 producers × 4 consumers × 10 000 items, items that carry shared
 * objects, that cannot be cloned, or weigh 64 MiB, and passing queues to Threads, Timers and
 * ThreadPoolExecutor tasks.
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { LifoQueue, PriorityQueue, Queue, SimpleQueue } from 'threadkit/queue';
import * as threadkit from 'threadkit';
import { Event, Lock, Timer } from 'threadkit/threading';
import { ThreadPoolExecutor } from 'threadkit/futures';
import { QueueEmptyError, QueueFullError, ValueError } from 'threadkit/errors';
import { shutdownIdleThreads } from '../../lib/internal/thread/warm-pool';
import { counters, spawn, stopAll } from '../fixtures/shm-threads';

const QUEUE_SIZE = 5;

afterEach(stopAll);
afterAll(shutdownIdleThreads);

/**
 * CPython's do_blocking_test: `block()` must not finish before a thread that waits a moment, then
 * raises a flag and calls `trigger(q)`. The flag is set when block() returns: it waited for the
 * trigger.
 */
async function blocksUntilTriggered<T>(q: Queue<T>, block: () => Promise<unknown>, trigger: 'get' | 'put'): Promise<unknown> {
  const flag = counters(1);
  const thread = spawn((q: Queue<T>, flag: Int32Array, trigger: string) => {
    const { sleepSync } = require('threadkit/threading');
    sleepSync(50);
    Atomics.store(flag, 0, 1);
    if (trigger === 'get') q.getSync();
    else q.putSync('empty' as unknown as T);
  }, q, flag, trigger);
  const result = await block();
  expect(Atomics.load(flag, 0)).toBe(1);
  await thread;
  return result;
}

async function basicQueueTest(q: Queue<number | string>): Promise<void> {
  expect(q.qsize()).toBe(0);
  expect(q.empty()).toBe(true);
  expect(q.full()).toBe(false);
  await q.put(111);
  await q.put(333);
  await q.put(222);
  const order: Record<string, number[]> = { Queue: [111, 333, 222], LifoQueue: [222, 333, 111], PriorityQueue: [111, 222, 333] };
  expect([await q.get(), await q.get(), await q.get()]).toEqual(order[q.constructor.name]);
  for (let i = 0; i < QUEUE_SIZE - 1; i++) {
    await q.put(i);
    expect(q.qsize()).toBeGreaterThan(0);
  }
  expect(q.full()).toBe(false);
  const last = 2 * QUEUE_SIZE;
  const full = 3 * 2 * QUEUE_SIZE;
  await q.put(last);
  expect(q.full()).toBe(true);
  expect(q.empty()).toBe(false);
  expect(() => q.putNowait(full)).toThrow(QueueFullError);
  await expect(q.put(full, 0)).rejects.toThrow(QueueFullError);
  await expect(q.put(full, 10)).rejects.toThrow(QueueFullError);
  expect(() => q.putSync(full, 10)).toThrow(QueueFullError);
  // A blocking put waits for a get in another thread.
  await blocksUntilTriggered(q, () => q.put(full), 'get');
  await blocksUntilTriggered(q, () => q.put(full, 10_000), 'get');
  for (let i = 0; i < QUEUE_SIZE; i++) await q.get();
  expect(q.qsize()).toBe(0);
  expect(() => q.getNowait()).toThrow(QueueEmptyError);
  await expect(q.get(0)).rejects.toThrow(QueueEmptyError);
  await expect(q.get(10)).rejects.toThrow(QueueEmptyError);
  expect(() => q.getSync(10)).toThrow(QueueEmptyError);
  // A blocking get waits for a put in another thread.
  expect(await blocksUntilTriggered(q, () => q.get(), 'put')).toBe('empty');
  expect(await blocksUntilTriggered(q, () => q.get(10_000), 'put')).toBe('empty');
}

describe('Queue, LifoQueue, PriorityQueue (test_queue.py BaseQueueTestMixin)', () => {
  for (const Kind of [Queue, LifoQueue, PriorityQueue]) {
    test(`${Kind.name}: put and get in its order, full and empty, nowait, timeouts and blocking calls (twice on one queue)`, async () => {
      const q = new Kind<number | string>(QUEUE_SIZE);
      await basicQueueTest(q);
      await basicQueueTest(q);
    }, 60_000);

    test(`${Kind.name}: taskDone() without a put is a ValueError`, () => {
      const q = new Kind();
      expect(() => q.taskDone()).toThrow(ValueError);
      expect(() => q.taskDone()).toThrow('taskDone() called too many times');
    });

    test(`${Kind.name}: join() waits until two worker threads marked every item done, and can be called again`, async () => {
      const q = new Kind<number>();
      for (let run = 0; run < 2; run++) {
        const cum = counters(1);
        const workers = [0, 1].map(() => spawn((q: Queue<number>, cum: Int32Array) => {
          for (;;) {
            const x = q.getSync();
            if (x < 0) {
              q.taskDone();
              return;
            }
            Atomics.add(cum, 0, x);
            q.taskDone();
          }
        }, q, cum));
        for (let i = 0; i < 100; i++) await q.put(i);
        await q.join();
        expect(Atomics.load(cum, 0)).toBe(4950);
        await q.put(-1);
        await q.put(-1);
        q.joinSync();
        await Promise.all(workers);
      }
      expect(() => q.taskDone()).toThrow(ValueError);
    }, 60_000);

    test(`${Kind.name}: a negative timeout is a ValueError (a RangeError) for put and get`, async () => {
      const q = new Kind(QUEUE_SIZE);
      await expect(q.put(1, -1)).rejects.toThrow(ValueError);
      expect(() => q.putSync(1, -1)).toThrow(RangeError);
      await expect(q.get(-1)).rejects.toThrow(ValueError);
      expect(() => q.getSync(NaN)).toThrow(RangeError);
      expect(q.qsize()).toBe(0);
    });

    test(`${Kind.name}: putNowait and getNowait up to the limit, then Full and Empty`, () => {
      const q = new Kind(QUEUE_SIZE);
      for (let i = 0; i < QUEUE_SIZE; i++) q.putNowait(1);
      expect(() => q.putNowait(1)).toThrow(QueueFullError);
      for (let i = 0; i < QUEUE_SIZE; i++) q.getNowait();
      expect(() => q.getNowait()).toThrow(QueueEmptyError);
    });

    test(`${Kind.name}: maxsize can be lowered while full (test_shrinking_queue) and raised for a waiting putter`, async () => {
      const q = new Kind<number>(3);
      for (const x of [1, 2, 3]) q.putSync(x);
      expect(() => q.putNowait(4)).toThrow(QueueFullError);
      expect(q.qsize()).toBe(3);
      q.maxsize = 2;
      expect(q.maxsize).toBe(2);
      expect(() => q.putNowait(4)).toThrow(QueueFullError);
      const waiting = q.put(4);
      q.maxsize = 0;
      await waiting;
      expect(q.qsize()).toBe(4);
    });
  }
});

describe('the seed\'s Queue(3) (seed 001 §9)', () => {
  test('three items fill it: full() is true; three gets empty it: empty() is true', () => {
    const q = new Queue<unknown>(3);
    q.putSync(1);
    q.putSync({ a: 'hello' });
    q.putSync([1, 2, 3]);
    expect(q.full()).toBe(true);
    expect(() => q.putNowait(4)).toThrow(QueueFullError); // the seed's "putting more would block"
    expect(q.getSync()).toBe(1);
    expect(q.getSync()).toEqual({ a: 'hello' });
    expect(q.getSync()).toEqual([1, 2, 3]);
    expect(q.empty()).toBe(true);
    expect(() => q.getNowait()).toThrow(QueueEmptyError);
  });
});

describe('PriorityQueue order', () => {
  test('[priority, data] arrays come out by priority, then data; equal items in arrival order', () => {
    const q = new PriorityQueue<unknown>();
    const items = [[2, 'b'], [1, 'z'], [1, 'a'], [3, 'c'], [1, 'a'], [0.5, { any: 'object' }], [2, 'a', 1], [2, 'a']];
    for (const x of items) q.putSync(x);
    expect(items.map(() => q.getSync())).toEqual([[0.5, { any: 'object' }], [1, 'a'], [1, 'a'], [1, 'z'], [2, 'a'], [2, 'a', 1], [2, 'b'], [3, 'c']]);
  });

  test('strings compare as JavaScript compares them; numbers before strings before arrays before anything else', () => {
    const q = new PriorityQueue<unknown>();
    for (const x of [{ o: 1 }, ['x'], 'b', 10, 'a', -1, [1], null, [0, 'z'], [[5]]]) q.putSync(x);
    expect(Array.from({ length: 10 }, () => q.getSync())).toEqual([-1, 10, 'a', 'b', [0, 'z'], [1], ['x'], [[5]], { o: 1 }, null]);
  });

  test('[priority, object] items with equal priorities need no tie-breaker (Python would raise TypeError)', () => {
    const q = new PriorityQueue<[number, { job: number }]>();
    for (let i = 0; i < 50; i++) q.putSync([i % 5, { job: i }]);
    const out = Array.from({ length: 50 }, () => q.getSync());
    expect(out.map((x) => x[0])).toEqual([...out.map((x) => x[0])].sort((a, b) => a - b));
    expect(out.filter((x) => x[0] === 0).map((x) => x[1].job)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
  });
});

describe('SimpleQueue (test_queue.py BaseSimpleQueueTest)', () => {
  test('put, putNowait, get, getNowait, get with a timeout, sizes; Empty when empty', async () => {
    const q = new SimpleQueue<number>();
    expect(q.empty()).toBe(true);
    expect(q.qsize()).toBe(0);
    await q.put(1);
    expect(q.empty()).toBe(false);
    expect(q.qsize()).toBe(1);
    q.putSync(2);
    q.putNowait(3);
    await q.put(4);
    expect(q.qsize()).toBe(4);
    expect(await q.get()).toBe(1);
    expect(q.getNowait()).toBe(2);
    expect(q.getSync(0)).toBe(3);
    expect(await q.get(100)).toBe(4);
    expect(q.empty()).toBe(true);
    expect(() => q.getNowait()).toThrow(QueueEmptyError);
    await expect(q.get(1)).rejects.toThrow(QueueEmptyError);
    expect(() => q.getSync(0)).toThrow(QueueEmptyError);
    q.putSync(1);
    expect(() => q.getSync(-1)).toThrow(ValueError);
  });

  test('one feeder and one consumer thread: results in input order (test_order)', async () => {
    const q = new SimpleQueue<number | null>();
    const results = new Queue<number[]>();
    const consumer = spawn((q: SimpleQueue<number | null>, results: Queue<number[]>) => {
      const got: number[] = [];
      for (let x; (x = q.getSync()) !== null;) got.push(x);
      results.putSync(got);
    }, q, results);
    const feeder = spawn((q: SimpleQueue<number | null>) => {
      for (let i = 0; i < 100; i++) q.putSync(i);
      q.putSync(null);
    }, q);
    await Promise.all([consumer, feeder]);
    expect(await results.get()).toEqual(Array.from({ length: 100 }, (_, i) => i));
  }, 60_000);

  for (const mode of ['blocking', 'nonblock', 'timeout'] as const) {
    test(`4 feeders and 4 consumers (${mode} gets): every input comes out once (test_many_threads${mode === 'blocking' ? '' : `_${mode}`})`, async () => {
      const q = new SimpleQueue<number | null>();
      const seen = counters(4000);
      const consumers = Array.from({ length: 4 }, () => spawn((q: SimpleQueue<number | null>, seen: Int32Array, mode: string) => {
        for (;;) {
          let x: number | null;
          try {
            x = mode === 'blocking' ? q.getSync() : mode === 'nonblock' ? q.getNowait() : q.getSync(0.01);
          } catch (error) {
            if ((error as Error).name !== 'QueueEmptyError') throw error;
            continue;
          }
          if (x === null) return;
          Atomics.add(seen, x, 1);
        }
      }, q, seen, mode));
      const feeders = Array.from({ length: 4 }, (_, f) => spawn((q: SimpleQueue<number | null>, f: number) => {
        for (let i = f; i < 4000; i += 4) q.putSync(i);
        q.putSync(null);
      }, q, f));
      await Promise.all([...feeders, ...consumers]);
      expect(q.empty()).toBe(true);
      expect(Array.from(seen).every((n) => n === 1)).toBe(true);
    }, 60_000);
  }
});

describe('many threads', () => {
  test('4 producers × 4 consumers × 10 000 items: every item is received exactly once', async () => {
    const q = new Queue<number>(100);
    const seen = counters(40_000);
    const consumers = Array.from({ length: 4 }, () => spawn((q: Queue<number>, seen: Int32Array) => {
      let n = 0;
      for (let x; (x = q.getSync()) >= 0; n++) Atomics.add(seen, x, 1);
      return n;
    }, q, seen));
    const producers = Array.from({ length: 4 }, (_, p) => spawn((q: Queue<number>, p: number) => {
      for (let i = 0; i < 10_000; i++) q.putSync(p * 10_000 + i);
    }, q, p));
    await Promise.all(producers);
    for (let i = 0; i < 4; i++) await q.put(-1);
    const counts = (await Promise.all(consumers)) as number[];
    expect(counts.reduce((a, b) => a + b, 0)).toBe(40_000);
    const wrong = Array.from(seen).flatMap((n, i) => (n === 1 ? [] : [[i, n]]));
    expect(wrong).toEqual([]);
    expect(q.qsize()).toBe(0);
  }, 120_000);

  test('getters blocked on an empty queue are each woken by one put', async () => {
    const q = new Queue<number>();
    const waiting = Array.from({ length: 3 }, () => spawn((q: Queue<number>) => q.getSync(), q));
    for (const x of [1, 2, 3]) await q.put(x);
    expect(((await Promise.all(waiting)) as number[]).sort()).toEqual([1, 2, 3]);
  }, 60_000);

  test('a bounded queue between a fast producer thread and a slow consumer never holds more than maxsize', async () => {
    const q = new Queue<number>(2);
    const peak = counters(1);
    const producer = spawn((q: Queue<number>, peak: Int32Array) => {
      for (let i = 0; i < 200; i++) {
        q.putSync(i);
        const size = q.qsize();
        if (size > Atomics.load(peak, 0)) Atomics.store(peak, 0, size);
      }
    }, q, peak);
    const got: number[] = [];
    for (let i = 0; i < 200; i++) got.push(await q.get());
    await producer;
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(Atomics.load(peak, 0)).toBeLessThanOrEqual(2);
  }, 60_000);
});

describe('items', () => {
  test('a Lock and an Event sent inside an item work on the other side', async () => {
    const q = new Queue<{ lock: Lock; event: Event }>();
    const lock = new Lock();
    const event = new Event();
    q.putSync({ lock, event });
    const taken = spawn((q: Queue<{ lock: Lock; event: Event }>) => {
      const { lock, event } = q.getSync();
      const got = lock.acquireSync(0);
      event.set();
      return got;
    }, q);
    expect(await taken).toBe(true);
    expect(lock.locked()).toBe(true);
    expect(event.isSet()).toBe(true);
    lock.release();
  }, 60_000);

  test('a queue inside an item of another queue (and of itself) works on the other side', async () => {
    const outer = new Queue<{ reply: Queue<string> }>();
    const reply = new Queue<string>();
    outer.putSync({ reply });
    const server = spawn((outer: Queue<{ reply: Queue<string> }>) => outer.getSync().reply.putSync('pong'), outer);
    expect(await reply.get(30_000)).toBe('pong');
    await server;
    const self = new Queue<unknown>();
    self.putSync(self);
    const back = self.getSync() as Queue<unknown>;
    back.putSync('through the revived copy');
    expect(self.getSync()).toBe('through the revived copy');
  }, 60_000);

  test('an item that cannot be cloned is a TypeError naming where; the queue is unchanged and still works', async () => {
    const q = new Queue<unknown>(2);
    q.putSync('before');
    expect(() => q.putSync({ ok: 1, bad: () => 1 })).toThrow(TypeError);
    expect(() => q.putSync({ ok: 1, bad: () => 1 })).toThrow(/^item \(item\.bad\) cannot be sent to another thread/);
    await expect(q.put([Symbol('x')])).rejects.toThrow(TypeError);
    expect(q.qsize()).toBe(1);
    q.putSync('after');
    expect(q.full()).toBe(true);
    expect([q.getSync(), q.getSync()]).toEqual(['before', 'after']);
  });

  test('a 64 MiB item goes through a Queue to another thread and back', async () => {
    const q = new Queue<Uint8Array>();
    const back = new Queue<number[]>();
    const big = new Uint8Array(64 << 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
    big[big.length - 1] = 7;
    q.putSync(big);
    const reader = spawn((q: Queue<Uint8Array>, back: Queue<number[]>) => {
      const item = q.getSync();
      let sum = 0;
      for (let i = 0; i < item.length; i += 4096) sum += item[i];
      back.putSync([item.length, sum, item[item.length - 1]]);
    }, q, back);
    let expected = 0;
    for (let i = 0; i < big.length; i += 4096) expected += big[i];
    expect(await back.get(60_000)).toEqual([64 << 20, expected, 7]);
    await reader;
    expect(q.qsize()).toBe(0);
  }, 120_000);

  test('a hundred thousand items wait in an unbounded queue (its memory grows), and come out in order', () => {
    const q = new Queue<string>();
    for (let i = 0; i < 100_000; i++) q.putSync(`item ${i}`);
    expect(q.qsize()).toBe(100_000);
    let wrong = 0;
    for (let i = 0; i < 100_000; i++) if (q.getSync() !== `item ${i}`) wrong++;
    expect(wrong).toBe(0);
    expect(q.empty()).toBe(true);
  });
});

describe('passing queues', () => {
  test('a Timer puts into a queue after its interval', async () => {
    const q = new Queue<string>();
    const timer = new Timer(20, (q: Queue<string>) => q.putSync('fired'), [q]);
    timer.start();
    expect(await q.get(30_000)).toBe('fired');
    await timer.join();
  }, 60_000);

  test('ThreadPoolExecutor tasks share one queue: each item is taken by one task', async () => {
    const executor = new ThreadPoolExecutor({ maxWorkers: 3 });
    try {
      const q = new Queue<number>();
      for (let i = 1; i <= 30; i++) q.putSync(i);
      const sums = await Promise.all([0, 1, 2].map(() => executor.submit((q: Queue<number>) => {
        let sum = 0;
        for (;;) {
          try {
            sum += q.getNowait();
          } catch {
            return sum;
          }
        }
      }, q)));
      expect(sums.reduce((a, b) => a + b, 0)).toBe(465);
    } finally {
      await executor.shutdown();
    }
  }, 60_000);

  test('a threadkit/queue Queue is not passable to a process: TypeError naming the multiprocessing one', async () => {
    const { Pool } = await import('threadkit/multiprocessing');
    const pool = new Pool(1);
    try {
      await expect(pool.apply((q: Queue<number>) => q.qsize(), [new Queue<number>()])).rejects.toThrow(/use Queue from threadkit\/multiprocessing/);
    } finally {
      await pool.terminate();
    }
  }, 60_000);
});

describe('without the native addon', () => {
  test('thread queues work in one fixed SharedArrayBuffer; what needs more memory, or shared memory in an item, is refused saying why', () => {
    const script = `
      const { Queue, PriorityQueue } = require('./lib/queue');
      const { Lock } = require('./lib/threading');
      const out = {};
      const q = new Queue();
      for (let i = 0; i < 1000; i++) q.putSync({ i });
      out.small = q.qsize();
      let sum = 0;
      for (let i = 0; i < 1000; i++) sum += q.getSync().i;
      out.sum = sum;
      const p = new PriorityQueue();
      for (const x of [3, 1, 2]) p.putSync(x);
      out.priority = [p.getSync(), p.getSync(), p.getSync()];
      try { q.putSync(new Uint8Array(2 << 20)); out.big = 'put'; } catch (e) { out.big = e.constructor.name + ': ' + e.message; }
      try { q.putSync({ lock: new Lock() }); out.lock = 'put'; } catch (e) { out.lock = e.constructor.name + ': ' + e.message; }
      out.after = (q.putSync('still works'), q.getSync());
      console.log(JSON.stringify(out));`;
    const root = path.resolve(__dirname, '../..');
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: root, env: { ...process.env, THREADKIT_NO_NATIVE: '1' }, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ small: 1000, sum: 499500, priority: [1, 2, 3], after: 'still works' });
    expect(out.big).toMatch(/^Error: the queue's shared memory \(\d+ bytes\) is full, and growing it needs threadkit's native addon, which could not be loaded: disabled by THREADKIT_NO_NATIVE=1$/);
    expect(out.lock).toMatch(/^TypeError: shared memory \(a threading object, a SharedArrayBuffer\) inside a queue item needs threadkit's native addon, which could not be loaded: disabled by THREADKIT_NO_NATIVE=1$/);
  }, 60_000);
});

describe('the API', () => {
  test('threadkit holds the queue names too', () => {
    expect(threadkit.Queue).toBe(Queue);
    expect(threadkit.LifoQueue).toBe(LifoQueue);
    expect(threadkit.PriorityQueue).toBe(PriorityQueue);
    expect(threadkit.SimpleQueue).toBe(SimpleQueue);
  });

  test('queues print their kind, size and maxsize', () => {
    const q = new PriorityQueue<number>(3);
    q.putSync(1);
    expect(inspect(q)).toBe('<PriorityQueue size=1 maxsize=3>');
    expect(inspect(new SimpleQueue())).toBe('<SimpleQueue size=0>');
  });

  test('maxsize must be an integer; 0 or less means no limit', () => {
    expect(() => new Queue('3' as unknown as number)).toThrow(TypeError);
    expect(() => new Queue(1.5)).toThrow(/Expected `maxsize` to be an integer, got number 1.5/);
    expect(new Queue(-5).maxsize).toBe(0);
    expect(new LifoQueue().maxsize).toBe(0);
  });

  test('a pending get() keeps the process alive, and resolves on the put of another thread', async () => {
    const q = new Queue<string>();
    const got = q.get();
    await spawn((q: Queue<string>) => q.putSync('late'), q);
    expect(await got).toBe('late');
  }, 60_000);
});
