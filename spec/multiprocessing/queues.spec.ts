/**
 * threadkit/multiprocessing's Queue, JoinableQueue and SimpleQueue across processes: scenarios
 * ported from CPython's `_test_multiprocessing.py` (_TestQueue: test_put, test_get, test_fork,
 * test_qsize, test_task_done, test_timeout, test_queue_feeder_donot_stop_onexc,
 * test_closed_queue_put_get_exceptions), the seed's producer/consumer (3 producers, 2 daemon
 * consumers, JoinableQueue), 4 producers × 4 consumers × 10 000 items, a 64 MiB item, shared
 * objects inside items, a putter that exits at once, consumers SIGKILLed mid-stream and a lock
 * holder that died, and passing queues to Pool and ProcessPoolExecutor tasks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { Event, JoinableQueue, Lock, Pool, Process, Queue, SimpleQueue, Value, SharedArray } from 'threadkit/multiprocessing';
import * as threading from 'threadkit/threading';
import { ProcessPoolExecutor } from 'threadkit/futures';
import { QueueEmptyError, QueueFullError, ValueError } from 'threadkit/errors';
import { kShare } from '../../lib/internal/transport/shareable';
import { reviveArenaQueue } from '../../lib/internal/queue/memory';
import { LOCK, VERSION } from '../../lib/internal/shm/item-ring';

const WAIT = 60_000;
const owned: Process[] = [];
let pool: Pool;

/** A started process, killed after the test if still alive. */
function start<A extends unknown[]>(target: (...args: A) => unknown, args: A, daemon = true): Process {
  const p = new Process({ target: target as (...args: unknown[]) => unknown, args, daemon });
  p.start();
  owned.push(p);
  return p;
}

beforeAll(() => {
  pool = new Pool(2);
});

afterAll(() => pool.terminate());

afterEach(async () => {
  for (const p of owned.splice(0)) {
    if (p.isAlive()) p.kill();
    await p.join();
  }
});

/** Resolves once `predicate()` holds; rejects naming `what` after `ms`. */
async function until(predicate: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function elapsed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn().catch(() => undefined);
  return performance.now() - started;
}

describe('_TestQueue', () => {
  test('test_put: a Queue(6) fills, refuses more at once or after a timeout, and empties as a child takes the items', async () => {
    const queue = new Queue<number>(6);
    const childCanStart = new Event();
    const parentCanContinue = new Event();
    start((queue: Queue<number>, childCanStart: Event, parentCanContinue: Event) => {
      childCanStart.waitSync();
      for (let i = 0; i < 6; i++) queue.getSync();
      parentCanContinue.set();
    }, [queue, childCanStart, parentCanContinue]);
    expect(queue.empty()).toBe(true);
    expect(queue.full()).toBe(false);
    await queue.put(1);
    await queue.put(2, undefined);
    queue.putSync(3);
    await queue.put(4, 0);
    queue.putSync(5, 0);
    queue.putNowait(6);
    expect(queue.empty()).toBe(false);
    expect(queue.full()).toBe(true);
    expect(queue.qsize()).toBe(6);
    await expect(queue.put(7, 0)).rejects.toThrow(QueueFullError);
    expect(() => queue.putNowait(7)).toThrow(QueueFullError);
    const took = await elapsed(() => queue.put(7, 100));
    expect(took).toBeGreaterThanOrEqual(90);
    expect(took).toBeLessThan(10_000);
    expect(() => queue.putSync(7, 100)).toThrow(QueueFullError);
    childCanStart.set();
    expect(await parentCanContinue.wait(WAIT)).toBe(true);
    expect(queue.empty()).toBe(true);
    expect(queue.full()).toBe(false);
  }, WAIT);

  test('test_get: items a child put come out in order through every form of get; then Empty', async () => {
    const queue = new Queue<number>();
    const childCanStart = new Event();
    const parentCanContinue = new Event();
    start((queue: Queue<number>, childCanStart: Event, parentCanContinue: Event) => {
      childCanStart.waitSync();
      for (const x of [2, 3, 4, 5]) queue.putSync(x);
      parentCanContinue.set();
    }, [queue, childCanStart, parentCanContinue]);
    expect(queue.empty()).toBe(true);
    childCanStart.set();
    expect(await parentCanContinue.wait(WAIT)).toBe(true);
    expect(queue.empty()).toBe(false); // no feeder thread: the items are there once put returned
    expect(await queue.get(undefined)).toBe(2);
    expect(queue.getSync()).toBe(3);
    expect(await queue.get(1000)).toBe(4);
    expect(queue.getNowait()).toBe(5);
    expect(queue.empty()).toBe(true);
    await expect(queue.get(0)).rejects.toThrow(QueueEmptyError);
    expect(() => queue.getNowait()).toThrow(QueueEmptyError);
    const took = await elapsed(() => queue.get(100));
    expect(took).toBeGreaterThanOrEqual(90);
    expect(took).toBeLessThan(10_000);
    await expect(queue.get(100)).rejects.toThrow(QueueEmptyError);
  }, WAIT);

  test('test_fork: items put before a child started and items the child put all come out, in order', async () => {
    const queue = new Queue<number>();
    for (let i = 0; i < 10; i++) queue.putSync(i);
    const p = start((queue: Queue<number>) => {
      for (let i = 10; i < 20; i++) queue.putSync(i);
    }, [queue]);
    const got: number[] = [];
    for (let i = 0; i < 20; i++) got.push(await queue.get(WAIT));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await expect(queue.get(0)).rejects.toThrow(QueueEmptyError);
    expect(await p.join(WAIT)).toBe(true);
  }, WAIT);

  test('test_qsize: qsize counts puts and gets', () => {
    const q = new Queue<number>();
    expect(q.qsize()).toBe(0);
    q.putSync(1);
    expect(q.qsize()).toBe(1);
    q.putSync(5);
    expect(q.qsize()).toBe(2);
    q.getSync();
    expect(q.qsize()).toBe(1);
    q.getSync();
    expect(q.qsize()).toBe(0);
  });

  test('test_task_done: four worker processes mark ten items done; join() returns; then they stop', async () => {
    const queue = new JoinableQueue<number | null>();
    const done = new Value('i', 0, { lock: false });
    const workers = Array.from({ length: 4 }, () => start((q: JoinableQueue<number | null>, done: Value<number>) => {
      for (let x; (x = q.getSync()) !== null;) {
        done.value += 0 * (x as number); // the work
        q.taskDone();
      }
    }, [queue, done]));
    for (let i = 0; i < 10; i++) await queue.put(i);
    await queue.join();
    expect(queue.qsize()).toBe(0);
    for (let i = 0; i < 4; i++) await queue.put(null);
    for (const p of workers) expect(await p.join(WAIT)).toBe(true);
    expect(workers.map((p) => p.exitcode)).toEqual([0, 0, 0, 0]);
  }, WAIT);

  test('test_timeout: get(200) on an empty queue waits about 200 ms, then Empty', async () => {
    const q = new Queue();
    const took = await elapsed(() => q.get(200));
    expect(took).toBeGreaterThanOrEqual(100);
    expect(took).toBeLessThan(10_000);
  });

  test('test_queue_feeder_donot_stop_onexc: an item that cannot be sent is a TypeError at put, and the queue works on', async () => {
    const q = new Queue<unknown>();
    expect(() => q.putSync({ notSerializable: () => 1 })).toThrow(TypeError);
    await expect(q.put([Symbol('s')])).rejects.toThrow(/^item \(item\[0\]\) cannot be sent to another process/);
    q.putSync(true);
    expect(await q.get(WAIT)).toBe(true);
    const small = new Queue<unknown>(1);
    expect(() => small.putSync({ f() {} })).toThrow(TypeError);
    small.putSync(true);
    expect(small.qsize()).toBe(1);
    expect(small.getSync(WAIT)).toBe(true);
    expect(small.empty()).toBe(true);
  });

  test('test_closed_queue_put_get_exceptions: put and get after close() are ValueErrors ("is closed")', async () => {
    for (const q of [new Queue<string>(), new JoinableQueue<string>()]) {
      q.close();
      expect(() => q.putSync('foo')).toThrow(ValueError);
      await expect(q.put('foo')).rejects.toThrow(/is closed/);
      expect(() => q.getSync()).toThrow(/is closed/);
      await expect(q.get()).rejects.toThrow(ValueError);
    }
    const s = new SimpleQueue<string>();
    s.close();
    expect(() => s.putSync('x')).toThrow(ValueError);
    await expect(s.get()).rejects.toThrow(ValueError);
  });

  test('close() closes this object only: another object over the same queue (a child\'s) goes on', async () => {
    const q = new Queue<string>();
    q.putSync('left in it');
    q.close();
    expect(await pool.apply((q: Queue<string>) => q.getSync(5000), [q])).toBe('left in it');
  }, WAIT);
});

describe('JoinableQueue: the seed\'s producer/consumer (seed 001 §10)', () => {
  test('3 producers put 2 items each and join(); 2 daemon consumers take and mark them done; main ends after the producers', async () => {
    const q = new JoinableQueue<string>();
    const eaten = new Queue<string>();
    const producers = [['producer 1', 'bun'], ['producer 2', 'dumpling'], ['producer 3', 'mooncake']].map(([name, food]) =>
      start((q: JoinableQueue<string>, name: string, food: string) => {
        for (let i = 0; i < 2; i++) q.putSync(`${food}${i}`);
        q.joinSync(); // until the consumers took every item and marked it done
      }, [q, name, food], false));
    const consumers = ['consumer 1', 'consumer 2'].map((name) =>
      start((q: JoinableQueue<string>, eaten: Queue<string>, name: string) => {
        for (;;) {
          const item = q.getSync();
          eaten.putSync(`${name} ate ${item}`);
          q.taskDone();
        }
      }, [q, eaten, name], true));
    for (const p of producers) expect(await p.join(WAIT)).toBe(true);
    expect(producers.map((p) => p.exitcode)).toEqual([0, 0, 0]);
    expect(consumers.every((c) => c.isAlive())).toBe(true); // daemons: still waiting for more
    const lines: string[] = [];
    for (let i = 0; i < 6; i++) lines.push(eaten.getSync(0));
    expect(lines.map((l) => l.replace(/^consumer \d ate /, '')).sort()).toEqual(['bun0', 'bun1', 'dumpling0', 'dumpling1', 'mooncake0', 'mooncake1']);
    expect(eaten.empty()).toBe(true);
    expect(() => q.taskDone()).toThrow(ValueError);
  }, WAIT);
});

describe('many processes', () => {
  test('4 producer processes × 4 consumer processes × 10 000 items: every item received exactly once', async () => {
    const q = new Queue<number>(1000);
    const results = new Queue<number[]>();
    const consumers = Array.from({ length: 4 }, () => start((q: Queue<number>, results: Queue<number[]>) => {
      const got: number[] = [];
      for (let x; (x = q.getSync()) >= 0;) got.push(x);
      results.putSync(got);
    }, [q, results]));
    const producers = Array.from({ length: 4 }, (_, p) => start((q: Queue<number>, p: number) => {
      for (let i = 0; i < 10_000; i++) q.putSync(p * 10_000 + i);
    }, [q, p]));
    for (const p of producers) expect(await p.join(120_000)).toBe(true);
    for (let i = 0; i < 4; i++) await q.put(-1);
    const seen = new Uint8Array(40_000);
    let total = 0;
    for (let i = 0; i < 4; i++) {
      for (const x of await results.get(120_000)) {
        seen[x]++;
        total++;
      }
    }
    expect(total).toBe(40_000);
    expect(seen.every((n) => n === 1)).toBe(true);
    for (const c of consumers) expect(await c.join(WAIT)).toBe(true);
  }, 240_000);

  test('a putter that exits right after put loses nothing (no feeder thread to flush)', async () => {
    const q = new Queue<number>();
    const p = start((q: Queue<number>) => {
      for (let i = 0; i < 1000; i++) q.putSync(i);
      process.exit(0);
    }, [q]);
    expect(await p.join(WAIT)).toBe(true);
    expect(q.qsize()).toBe(1000);
    const got = Array.from({ length: 1000 }, () => q.getNowait());
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  }, WAIT);
});

describe('items', () => {
  test('a Lock and a Value sent inside a queue item work in the other process', async () => {
    const q = new Queue<{ lock: Lock; value: Value<number> }>();
    const back = new Queue<string>();
    const lock = new Lock();
    const value = new Value('i', 0);
    start((q: Queue<{ lock: Lock; value: Value<number> }>, back: Queue<string>) => {
      const { lock, value } = q.getSync();
      lock.acquireSync();
      value.value = 42;
      back.putSync('done');
    }, [q, back]);
    q.putSync({ lock, value });
    expect(await back.get(WAIT)).toBe('done');
    expect(lock.locked()).toBe(true);
    expect(value.value).toBe(42);
    lock.release();
  }, WAIT);

  test('a threading Lock inside an item is a TypeError that names the multiprocessing Lock', () => {
    const q = new Queue<unknown>();
    expect(() => q.putSync({ lock: new threading.Lock() })).toThrow(/^item \(item\.lock\) cannot be sent to another process: threading\.Lock .* use Lock from threadkit\/multiprocessing/);
    expect(q.empty()).toBe(true);
  });

  test('a 64 MiB item goes through a Queue to a child process', async () => {
    const q = new Queue<Uint8Array>();
    const back = new Queue<number[]>();
    const big = new Uint8Array(64 << 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
    big[big.length - 1] = 9;
    let expected = 0;
    for (let i = 0; i < big.length; i += 4096) expected += big[i];
    start((q: Queue<Uint8Array>, back: Queue<number[]>) => {
      const item = q.getSync();
      let sum = 0;
      for (let i = 0; i < item.length; i += 4096) sum += item[i];
      back.putSync([item.length, sum, item[item.length - 1]]);
    }, [q, back]);
    await q.put(big);
    expect(await back.get(120_000)).toEqual([64 << 20, expected, 9]);
  }, 180_000);
});

describe('a process that dies', () => {
  /** The pid of a process that has ended. */
  function deadPid(): number {
    return spawnSync(process.execPath, ['-e', '0']).pid!;
  }

  test('a queue whose internal lock was held by a process that died is taken over within about a second; its state is intact', async () => {
    const q = new Queue<string>();
    q.putSync('a');
    q.putSync('b');
    const { core } = reviveArenaQueue((q as unknown as { [kShare](): { data: unknown } })[kShare]().data, 'test');
    const i32 = core.ring.i32;
    // The dead holder was in the middle of an operation: it holds the lock and scribbled over the
    // state copy it would have committed next.
    const inactive = 16 + ((Atomics.load(i32, VERSION) + 1) & 1) * 12;
    for (let k = 0; k < 12; k++) i32[inactive + k] = -1;
    Atomics.store(i32, LOCK, deadPid() * 2);
    const started = performance.now();
    expect(await q.get(10_000)).toBe('a');
    expect(performance.now() - started).toBeLessThan(8000);
    expect(q.getSync(0)).toBe('b');
    q.putSync('c');
    expect(q.getSync(0)).toBe('c');
  }, WAIT);

  test('consumers SIGKILLed mid-stream: no item is taken twice, at most one per killed consumer is lost, and the rest still come out', async () => {
    const N = 30_000;
    const q = new Queue<number>();
    for (let i = 0; i < N; i++) q.putSync(i);
    const survivorSeen = new SharedArray('i', N, { lock: false });
    const progress = new Value('i', 0, { lock: false });
    const victims: SharedArray<number>[] = [];
    for (let round = 0; round < 3; round++) {
      const seen = new SharedArray('i', N, { lock: false });
      victims.push(seen);
      progress.value = 0;
      const victim = start((q: Queue<number>, seen: SharedArray<number>, progress: Value<number>) => {
        for (let n = 1; ; n++) {
          const x = q.getSync();
          seen.set(x, seen.get(x) + 1);
          progress.value = n;
        }
      }, [q, seen, progress]);
      await until(() => progress.value >= 200 * (round + 1), 'the victim took items');
      victim.kill();
      expect(await victim.join(WAIT)).toBe(true);
      expect(victim.exitcode).toBe(-9);
    }
    // The survivor drains the rest (taking the lock over if a victim died holding it).
    const left = q.qsize();
    q.putSync(-1);
    const survivor = start((q: Queue<number>, seen: SharedArray<number>) => {
      for (let x; (x = q.getSync()) >= 0;) seen.set(x, seen.get(x) + 1);
    }, [q, survivorSeen]);
    expect(await survivor.join(WAIT)).toBe(true);
    expect(survivor.exitcode).toBe(0);
    const totals = new Int32Array(N);
    for (const seen of [...victims, survivorSeen]) {
      const counts = seen.toArray();
      for (let i = 0; i < N; i++) totals[i] += counts[i];
    }
    expect(totals.filter((n) => n > 1).length).toBe(0);
    expect(totals.filter((n) => n === 0).length).toBeLessThanOrEqual(3);
    expect(left).toBeGreaterThan(0);
    expect(q.qsize()).toBe(0);
    // And it goes on working for everyone.
    q.putSync(7);
    expect(await pool.apply((q: Queue<number>) => q.getSync(5000), [q])).toBe(7);
  }, 180_000);
});

describe('memory', () => {
  test('when the shared memory is full, a put with timeout 0 is refused (QueueFullError) and a waiting put goes in once a consumer takes items', () => {
    // In a process of its own: it fills its arena, which this jest worker's other tests need.
    const root = path.resolve(__dirname, '../..');
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'spec/fixtures/queue-memory-full.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.put).toBeGreaterThan(20); // ~100 MiB of 1 MiB items went in before it was full
    expect(out.refused).toBe('QueueFullError: queue is full: no shared memory came free for the item in time');
    expect(out).toMatchObject({ exitcode: 0, left: 0 });
  }, 150_000);
});

describe('passing queues', () => {
  test('Pool tasks and ProcessPoolExecutor tasks put into and get from one queue', async () => {
    const q = new SimpleQueue<number>();
    await pool.map((q: SimpleQueue<number>) => q.putSync(process.pid), [q, q, q]);
    const pids = [q.getSync(0), q.getSync(0), q.getSync(0)];
    expect(pids.every((pid) => Number.isInteger(pid) && pid !== process.pid)).toBe(true);
    const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    try {
      const jq = new JoinableQueue<string>();
      jq.putSync('work');
      expect(await executor.submit((jq: JoinableQueue<string>) => {
        const item = jq.getSync();
        jq.taskDone();
        return item.toUpperCase();
      }, jq)).toBe('WORK');
      jq.joinSync();
    } finally {
      await executor.shutdown();
    }
  }, WAIT);

  test('threads of a child process share the queue too', async () => {
    const q = new Queue<number>();
    const p = start(async (q: Queue<number>) => {
      const { Thread } = require('threadkit/threading');
      const threads = [1, 2].map((k) => new Thread({ target: (q: Queue<number>, k: number) => q.putSync(k), args: [q, k] }));
      threads.forEach((t: threading.Thread) => t.start());
      for (const t of threads) await t.join();
    }, [q]);
    expect(await p.join(WAIT)).toBe(true);
    expect([q.getSync(0), q.getSync(0)].sort()).toEqual([1, 2]);
  }, WAIT);

  test('queues print their kind and size; maxsize is read-only here', () => {
    const q = new Queue<number>(4);
    q.putSync(1);
    expect(inspect(q)).toBe('<Queue size=1 maxsize=4>');
    expect(q.maxsize).toBe(4);
    const j = new JoinableQueue();
    j.close();
    expect(inspect(j)).toBe('<JoinableQueue size=0 closed>');
    expect(inspect(new SimpleQueue())).toBe('<SimpleQueue size=0>');
  });
});
