/**
 * threadkit/multiprocessing's Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event and Barrier
 * across processes (Pool children) and their threads; scenarios ported from CPython's
 * `_test_multiprocessing.py` (_TestLock, _TestSemaphore, _TestCondition, _TestEvent, _TestBarrier).
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { Barrier, BoundedSemaphore, Condition, Event, Lock, Pool, RLock, Semaphore, Value } from 'threadkit/multiprocessing';
import * as threading from 'threadkit/threading';
import { BrokenProcessPoolError, RuntimeError, ValueError } from 'threadkit/errors';
import { stopAll } from '../fixtures/shm-threads';

/** Waiters of a Condition, from its printed form. */
const waitersOf = (cond: Condition): number => Number(/waiters=(\d+)/.exec(inspect(cond))![1]);

async function until(predicate: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Warnings emitted (process.emitWarning) while `fn` runs, as [message, type]. */
async function warningsDuring(fn: () => Promise<void>): Promise<{ message: string; type: string }[]> {
  const seen: { message: string; type: string }[] = [];
  // Spied, not listened to: jest's `process` does not receive the real process's 'warning' events.
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(((message: string | Error, options?: { type?: string } | string) => {
    seen.push({ message: String(message), type: typeof options === 'string' ? options : options?.type ?? 'Warning' });
  }) as typeof process.emitWarning);
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return seen;
}

let pool: Pool;
beforeAll(() => {
  pool = new Pool(4);
});
afterAll(() => pool.terminate());
afterEach(stopAll);

describe('Lock and RLock (CPython _TestLock)', () => {
  test('a Lock acquires, refuses a second acquire, and releases; releasing it unlocked is a RuntimeError', () => {
    const lock = new Lock();
    expect(lock.acquireSync()).toBe(true);
    expect(lock.acquireSync(0)).toBe(false);
    expect(lock.locked()).toBe(true);
    lock.release();
    expect(() => lock.release()).toThrow(RuntimeError);
    expect(lock).toBeInstanceOf(threading.Lock);
  });

  test('an RLock is reentrant, and only its owner releases it', () => {
    const lock = new RLock();
    expect(lock.acquireSync()).toBe(true);
    expect(lock.acquireSync()).toBe(true);
    expect(lock.acquireSync()).toBe(true);
    lock.release();
    lock.release();
    lock.release();
    expect(() => lock.release()).toThrow(RuntimeError);
  });

  test('a Lock acquired in a child is locked for the parent, and the parent can release it', async () => {
    const lock = new Lock();
    expect(await pool.apply((l: Lock) => l.acquireSync(0), [lock])).toBe(true);
    expect(lock.locked()).toBe(true);
    expect(lock.acquireSync(0)).toBe(false);
    lock.release();
    expect(await pool.apply((l: Lock) => [l.locked(), l.acquireSync(0)], [lock])).toEqual([false, true]);
    lock.release();
  });

  test("an RLock's owner is one thread of one process: a child cannot release the parent's hold, nor re-enter it", async () => {
    const lock = new RLock();
    lock.acquireSync();
    const seen = await pool.apply((l: RLock) => {
      let released = 'released';
      try {
        l.release();
      } catch (e) {
        released = (e as Error).name;
      }
      return [released, l.acquireSync(0)];
    }, [lock]);
    expect(seen).toEqual(['RuntimeError', false]);
    lock.release();
    expect(await pool.apply((l: RLock) => { const ok = l.acquireSync(0) && l.acquireSync(0); l.release(); l.release(); return ok; }, [lock])).toBe(true);
  });

  test('4 processes × 10 000 locked increments of a Value total exactly 40 000', async () => {
    const counter = new Value('i', 0);
    await pool.map((c: Value) => {
      const lock = c.getLock();
      for (let i = 0; i < 10_000; i++) lock.withLockSync(() => { c.value += 1; });
    }, [counter, counter, counter, counter], 1);
    expect(counter.value).toBe(40_000);
  });

  test('the same with two threads inside each of two processes', async () => {
    const counter = new Value('i', 0);
    await pool.map(async (c: Value) => {
      const { Thread } = require('threadkit/threading');
      const work = (c: Value) => {
        const lock = c.getLock();
        for (let i = 0; i < 10_000; i++) lock.withLockSync(() => { c.value += 1; });
      };
      const threads = [new Thread({ target: work, args: [c] }), new Thread({ target: work, args: [c] })];
      threads.forEach((t) => t.start());
      for (const t of threads) await t.join();
    }, [counter, counter], 1);
    expect(counter.value).toBe(40_000);
  });

  test('a parent blocked in acquireSync() does not stall a child that uses another Lock', async () => {
    const held = new Lock();
    const other = new Lock();
    const go = new Event();
    held.acquireSync();
    // The child takes `other` many times, then releases `held`, which the parent waits for, blocked.
    const child = pool.apply((held: Lock, other: Lock, go: Event) => {
      go.waitSync(20_000);
      for (let i = 0; i < 1000; i++) other.withLockSync(() => {});
      held.release();
      return 'done';
    }, [held, other, go]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    go.set();
    expect(held.acquireSync(20_000)).toBe(true); // the whole event loop of this process is blocked meanwhile
    held.release();
    expect(await child).toBe('done');
  });

  test('a child SIGKILLed while holding an RLock: a waiter in the parent gets it within about a second, with an AbandonedLockWarning naming the pid', async () => {
    const lock = new RLock();
    const holder = new Value('i', 0);
    let got = false;
    const warnings = await warningsDuring(async () => {
      const killed = pool.apply((l: RLock, who: Value) => {
        l.acquireSync();
        who.value = process.pid;
        process.kill(process.pid, 'SIGKILL');
      }, [lock, holder]);
      await expect(killed).rejects.toThrow(BrokenProcessPoolError);
      const t0 = Date.now();
      got = await lock.acquire(10_000);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });
    expect(got).toBe(true);
    expect(lock.acquireSync(0)).toBe(true); // now ours: reentrant
    lock.release();
    lock.release();
    const abandoned = warnings.filter((w) => w.type === 'AbandonedLockWarning');
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0].message).toContain(`process ${holder.value}`);
  });

  test('a child SIGKILLed while holding a Lock: the parent\'s timed acquire returns false, with the warning once', async () => {
    const lock = new Lock();
    const holder = new Value('i', 0);
    let got: boolean | undefined;
    const warnings = await warningsDuring(async () => {
      const killed = pool.apply((l: Lock, who: Value) => {
        l.acquireSync();
        who.value = process.pid;
        process.kill(process.pid, 'SIGKILL');
      }, [lock, holder]);
      await expect(killed).rejects.toThrow(BrokenProcessPoolError);
      got = lock.acquireSync(2_500);
    });
    expect(got).toBe(false);
    expect(lock.locked()).toBe(true);
    const abandoned = warnings.filter((w) => w.type === 'AbandonedLockWarning');
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0].message).toContain(`process ${holder.value}`);
    lock.release(); // no owner: anyone may release it
  });
});

describe('Semaphore (CPython _TestSemaphore)', () => {
  test('acquire and release count across processes; timeouts hold', async () => {
    const sem = new Semaphore(2);
    expect(await pool.apply((s: Semaphore) => [s.acquireSync(0), s.acquireSync(0), s.acquireSync(0)], [sem])).toEqual([true, true, false]);
    expect(sem.value).toBe(0);
    const t0 = Date.now();
    expect(sem.acquireSync(50)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    sem.release(2);
    expect(sem.value).toBe(2);
  });

  test('a BoundedSemaphore released above its initial value is a ValueError, also after a trip through a child', async () => {
    const sem = new BoundedSemaphore(2);
    expect(() => sem.release()).toThrow(ValueError);
    expect(await pool.apply((s: BoundedSemaphore) => { s.acquireSync(); s.release(); try { s.release(); return 'released'; } catch (e) { return (e as Error).name; } }, [sem])).toBe('ValueError');
  });

  test('a release in the parent wakes a waiter in a child', async () => {
    const sem = new Semaphore(0);
    const waiting = pool.apply((s: Semaphore) => s.acquireSync(20_000), [sem]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    sem.release();
    expect(await waiting).toBe(true);
  });
});

describe('Event (CPython _TestEvent)', () => {
  test('set-then-clear wakes waiters in other processes', async () => {
    const event = new Event();
    const ready = new Semaphore(0);
    const waiters = [0, 1, 2].map(() => pool.apply((e: Event, ready: Semaphore) => { ready.release(); return e.waitSync(20_000); }, [event, ready]));
    for (let i = 0; i < 3; i++) expect(await ready.acquire(20_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50)); // let them fall asleep (not needed for correctness)
    event.set();
    event.clear();
    expect(await Promise.all(waiters)).toEqual([true, true, true]);
    expect(event.isSet()).toBe(false);
  });

  test('wait times out when nobody sets it, and returns at once when set', async () => {
    const event = new Event();
    expect(await pool.apply((e: Event) => e.waitSync(30), [event])).toBe(false);
    event.set();
    expect(await pool.apply((e: Event) => e.waitSync(), [event])).toBe(true);
    expect(await event.wait(0)).toBe(true);
  });
});

describe('Condition (CPython _TestCondition)', () => {
  test('notify(n) wakes exactly n waiters spread over 3 processes', async () => {
    const cond = new Condition();
    const waiters = [0, 1, 2].map(() => pool.apply((c: Condition) => c.withLockSync(() => c.waitSync(20_000)), [cond]));
    await until(() => waitersOf(cond) === 3, 'three children wait');
    cond.withLockSync(() => cond.notify(2));
    await until(() => waitersOf(cond) === 1, 'two were woken');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(waitersOf(cond)).toBe(1);
    cond.withLockSync(() => cond.notifyAll());
    expect(await Promise.all(waiters)).toEqual([true, true, true]);
  });

  test('waitFor with a timeout, and a waiter in the parent woken by a child', async () => {
    const cond = new Condition(new Lock());
    const state = new Value('i', 0);
    const mine = cond.withLock(() => cond.waitFor(() => state.value === 3, 20_000));
    await pool.map((args: [Condition, Value]) => args[0].withLockSync(() => { args[1].value += 1; args[0].notifyAll(); }), [[cond, state], [cond, state], [cond, state]], 1);
    expect(await mine).toBe(true);
    expect(cond.withLockSync(() => cond.waitForSync(() => state.value === 4, 20))).toBe(false);
  });

  test('a threading Lock is refused with a TypeError that names the multiprocessing one', () => {
    expect(() => new Condition(new threading.Lock() as never)).toThrow(/Lock or RLock of threadkit\/multiprocessing, got a threadkit\/threading Lock/);
  });
});

describe('Barrier (CPython _TestBarrier)', () => {
  test('2 processes × 2 threads meet for 100 rounds, with every arrival index once per round', async () => {
    const barrier = new Barrier(4);
    const counts = new Value('i', 0);
    const results = await pool.map(async (args: [Barrier, Value]) => {
      const { Thread } = require('threadkit/threading');
      const work = (b: Barrier, sum: Value) => {
        for (let round = 0; round < 100; round++) {
          const index = b.waitSync(20_000);
          sum.getLock().withLockSync(() => { sum.value += index; });
        }
      };
      const threads = [0, 1].map(() => new Thread({ target: work, args }));
      threads.forEach((t) => t.start());
      for (const t of threads) await t.join();
      return 'ok';
    }, [[barrier, counts], [barrier, counts]], 1);
    expect(results).toEqual(['ok', 'ok']);
    expect(counts.value).toBe(100 * (0 + 1 + 2 + 3));
  });

  test('the action runs once per round in the thread of the last process to arrive', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-barrier-'));
    try {
      const log = path.join(dir, 'action.log');
      const action = new Function(`require('node:fs').appendFileSync(${JSON.stringify(log)}, process.pid + '\\n');`) as () => void;
      const barrier = new Barrier(3, { action });
      for (let round = 1; round <= 2; round++) {
        const seen = (await pool.map((b: Barrier) => [b.waitSync(20_000), process.pid], [barrier, barrier, barrier], 1)) as [number, number][];
        expect(seen.map(([i]) => i).sort()).toEqual([0, 1, 2]);
        const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
        expect(lines).toHaveLength(round);
        expect(lines[round - 1]).toBe(String(seen.find(([i]) => i === 2)![1]));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('abort and a timeout break it for the waiters in other processes', async () => {
    const barrier = new Barrier(3);
    const waiters = [0, 1].map(() => pool.apply((b: Barrier) => { try { return b.waitSync(20_000); } catch (e) { return (e as Error).name; } }, [barrier]));
    await until(() => barrier.nWaiting === 2, 'two children wait');
    barrier.abort();
    expect(await Promise.all(waiters)).toEqual(['BrokenBarrierError', 'BrokenBarrierError']);
    barrier.reset();
    expect(barrier.broken).toBe(false);
    expect(await pool.apply((b: Barrier) => { try { return b.waitSync(20); } catch (e) { return (e as Error).name; } }, [barrier])).toBe('BrokenBarrierError');
    expect(barrier.broken).toBe(true);
  });
});

describe('passing', () => {
  test('objects nested in arrays and objects arrive working, at any time', async () => {
    const lock = new Lock();
    const event = new Event();
    const out = await pool.apply((box: { items: [Lock, { e: Event }] }) => {
      box.items[1].e.set();
      return box.items[0].acquireSync(0);
    }, [{ items: [lock, { e: event }] }]);
    expect(out).toBe(true);
    expect(lock.locked()).toBe(true);
    expect(event.isSet()).toBe(true);
  });

  test('a threadkit/threading object sent to a process is a TypeError naming the multiprocessing equivalent', async () => {
    await expect(pool.apply((l: unknown) => l, [new threading.Lock()])).rejects.toThrow(/threading\.Lock .*use Lock from threadkit\/multiprocessing/);
    await expect(pool.apply((l: unknown) => l, [[{ e: new threading.Event() }]])).rejects.toThrow(/use Event from threadkit\/multiprocessing/);
  });

  test('they print usefully', () => {
    expect(inspect(new Lock())).toBe('<Lock unlocked>');
    expect(inspect(new Semaphore(3))).toBe('<Semaphore value=3>');
    expect(inspect(new BoundedSemaphore(2))).toBe('<BoundedSemaphore value=2/2>');
    expect(inspect(new Barrier(2))).toBe('<Barrier waiters=0/2>');
    expect(inspect(new RLock())).toBe('<RLock owner=none count=0>');
  });
});
