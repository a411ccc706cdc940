/**
 * A Process and the shared objects of threadkit/multiprocessing: every kind passed as an argument
 * (also nested in arrays and objects, and as a subclass's fields) arrives as a working instance over
 * the same shared memory, and is passed on again to a grandchild; a threadkit/threading object is a
 * TypeError that names the multiprocessing equivalent, before anything starts. (The same for Pool
 * and ProcessPoolExecutor tasks is in synchronize.spec.ts and sharedctypes.spec.ts.)
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import * as threading from 'threadkit/threading';
import {
  Array as SharedArray,
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  Process,
  RLock,
  Semaphore,
  Value,
  activeChildren,
} from 'threadkit/multiprocessing';

/** Every wait in these tests is bounded by this (a broken share fails, it does not hang). */
const DEADLINE_MS = 20_000;

const started: Process[] = [];

afterEach(async () => {
  for (const p of started.splice(0)) {
    if (p.exitcode === null && p.pid !== null) p.kill();
    await p.join();
  }
});

function start<P extends Process>(p: P): P {
  p.start();
  started.push(p);
  return p;
}

async function joined(p: Process): Promise<void> {
  expect(await p.join(DEADLINE_MS)).toBe(true);
  expect(p.exitcode).toBe(0);
}

describe('Process: multiprocessing objects as arguments', () => {
  test('4 processes × 2 000 increments of a Value under its own lock total exactly 8 000', async () => {
    const counter = new Value('i', 0);
    const procs = Array.from({ length: 4 }, () =>
      start(new Process({
        target: (v: Value<number>, n: number) => {
          const lock = v.getLock();
          for (let i = 0; i < n; i++) {
            lock.acquireSync();
            v.value += 1;
            lock.release();
          }
        },
        args: [counter, 2_000],
      })),
    );
    for (const p of procs) await joined(p);
    expect(counter.value).toBe(8_000);
  });

  test('a Value made with lock: false and a separate Lock, nested in objects and arrays', async () => {
    const shared = { counters: [{ value: new Value('q', 0n, { lock: false }) }], guard: { lock: new Lock() } };
    const procs = Array.from({ length: 3 }, () =>
      start(new Process({
        target: (s: typeof shared) => {
          for (let i = 0; i < 1_000; i++) s.guard.lock.withLockSync(() => (s.counters[0].value.value += 1n));
        },
        args: [shared],
      })),
    );
    for (const p of procs) await joined(p);
    expect(shared.counters[0].value.value).toBe(3_000n);
  });

  test('every kind nested in one argument works in the child over the same state: Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier, Value, Array', async () => {
    const objects = {
      sync: [new Lock(), new RLock(), new Semaphore(0), new BoundedSemaphore(2)],
      signals: { event: new Event(), cond: new Condition(), barrier: new Barrier(2) },
      data: { value: new Value('d', 0), array: new SharedArray('i', 4) },
    } as const;
    const deadline = DEADLINE_MS;
    const child = start(new Process({
      target: (o: typeof objects, ms: number) => {
        const [lock, rlock, sem, bounded] = o.sync;
        const { event, cond, barrier } = o.signals;
        // Round 1: the parent sees this Lock held by another process.
        lock.acquireSync();
        barrier.waitSync(ms);
        barrier.waitSync(ms);
        lock.release();
        // An RLock taken twice by this process and given back twice.
        rlock.acquireSync();
        rlock.acquireSync();
        rlock.release();
        rlock.release();
        // Semaphores: two permits for the parent; the bounded one taken to zero.
        sem.release(2);
        bounded.acquireSync(ms);
        bounded.acquireSync(ms);
        for (let i = 0; i < o.data.array.length; i++) o.data.array.set(i, i * i);
        cond.withLockSync(() => {
          o.data.value.value = 2.5;
          cond.notifyAll();
        });
        event.set();
      },
      args: [objects, deadline],
    }));
    const [lock, rlock, sem, bounded] = objects.sync;
    const { event, cond, barrier } = objects.signals;
    await barrier.wait(DEADLINE_MS);
    expect(lock.locked()).toBe(true);
    expect(await lock.acquire(0)).toBe(false);
    await barrier.wait(DEADLINE_MS);
    expect(await lock.acquire(DEADLINE_MS)).toBe(true);
    lock.release();
    expect(await cond.withLock(() => cond.waitFor(() => objects.data.value.value === 2.5, DEADLINE_MS))).toBe(true);
    expect(await event.wait(DEADLINE_MS)).toBe(true);
    await joined(child);
    expect(await rlock.acquire(0)).toBe(true);
    rlock.release();
    expect([await sem.acquire(0), await sem.acquire(0), await sem.acquire(0)]).toEqual([true, true, false]);
    expect(await bounded.acquire(0)).toBe(false);
    bounded.release(2);
    expect(() => bounded.release()).toThrow(/semaphore released too many times/);
    expect(objects.data.array.toArray()).toEqual([0, 1, 4, 9]);
  });

  test("a subclass's fields may be shared objects; the child passes them on to a Process of its own", async () => {
    class Doubler extends Process {
      constructor(readonly counter: Value<number>, readonly done: Event) {
        super();
      }
      override async run(): Promise<void> {
        const { Process: Child } = require('threadkit/multiprocessing') as typeof import('threadkit/multiprocessing');
        this.counter.value += 1;
        const grandchild = new Child({ target: (v: Value<number>, e: Event) => {
          v.getLock().withLockSync(() => (v.value *= 10));
          e.set();
        }, args: [this.counter, this.done] });
        grandchild.start();
        await grandchild.join();
      }
    }
    const counter = new Value('i', 4);
    const done = new Event();
    const p = start(new Doubler(counter, done));
    expect(await done.wait(DEADLINE_MS)).toBe(true);
    await joined(p);
    expect(counter.value).toBe(50);
  });
});

describe('Process: threadkit/threading objects are refused', () => {
  const cases: [string, () => unknown, string][] = [
    ['Lock', () => new threading.Lock(), 'Lock'],
    ['RLock', () => new threading.RLock(), 'RLock'],
    ['Semaphore', () => new threading.Semaphore(1), 'Semaphore'],
    ['BoundedSemaphore', () => new threading.BoundedSemaphore(1), 'BoundedSemaphore'],
    ['Event', () => new threading.Event(), 'Event'],
    ['Condition', () => new threading.Condition(), 'Condition'],
    ['Barrier', () => new threading.Barrier(2), 'Barrier'],
  ];

  test.each(cases)('a threading %s, nested, is a TypeError naming the multiprocessing one; nothing starts', (_, make, equivalent) => {
    let error: unknown;
    try {
      new Process({ target: (x: unknown) => x, args: [{ deep: [make()] }] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(new RegExp(`threading\\.${equivalent} .*use ${equivalent} from threadkit/multiprocessing`));
    expect(activeChildren()).toEqual([]);
  });

  test('as a subclass field: a TypeError at start(), naming the multiprocessing one, and nothing starts', () => {
    class Holder extends Process {
      readonly lock = new threading.Lock();
      override run(): void {}
    }
    const p = new Holder();
    expect(() => p.start()).toThrow(/use Lock from threadkit\/multiprocessing/);
    expect(p.pid).toBeNull();
    expect(activeChildren()).toEqual([]);
  });
});
