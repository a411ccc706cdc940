import { afterEach, describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { threadId } from 'node:worker_threads';
import { RLock } from 'threadkit/threading';
import { RuntimeError } from 'threadkit/errors';
import { counters, spawn, stopAll, until } from '../fixtures/shm-threads';

afterEach(stopAll);

describe('RLock on one thread', () => {
  test('the owner may acquire it again and must release it as many times', async () => {
    const rlock = new RLock();
    expect(rlock.acquireSync()).toBe(true);
    expect(rlock.acquireSync(0)).toBe(true);
    expect(await rlock.acquire()).toBe(true);
    expect(inspect(rlock)).toBe(`<RLock owner=${threadId} count=3>`);
    rlock.release();
    rlock.release();
    rlock.release();
    expect(inspect(rlock)).toBe('<RLock owner=none count=0>');
    expect(() => rlock.release()).toThrow(RuntimeError);
  });

  test('releasing an unacquired RLock is a RuntimeError', () => {
    const rlock = new RLock();
    expect(() => rlock.release()).toThrow('cannot release un-acquired lock');
    rlock.acquireSync();
    rlock.acquireSync();
    rlock.release();
    rlock.release();
    expect(() => rlock.release()).toThrow(RuntimeError);
  });

  test('bad timeouts are rejected even when the RLock is already owned', async () => {
    const rlock = new RLock();
    rlock.acquireSync();
    expect(() => rlock.acquireSync(-5)).toThrow(RangeError);
    expect(() => rlock.acquireSync(NaN)).toThrow(RangeError);
    await expect(rlock.acquire(-1)).rejects.toThrow(RangeError);
    expect(inspect(rlock)).toBe(`<RLock owner=${threadId} count=1>`);
    rlock.release();
  });

  test('withLock nests and releases on throw', async () => {
    const rlock = new RLock();
    const depth = await rlock.withLock(() => rlock.withLockSync(() => inspect(rlock)));
    expect(depth).toBe(`<RLock owner=${threadId} count=2>`);
    expect(() => rlock.withLockSync(() => { throw new Error('x'); })).toThrow('x');
    expect(inspect(rlock)).toBe('<RLock owner=none count=0>');
  });

  test('an RLock has no locked() method', () => {
    expect((new RLock() as unknown as { locked?: unknown }).locked).toBeUndefined();
  });
});

describe('RLock across threads', () => {
  test('another thread cannot acquire it while it is owned, nor release it', async () => {
    const rlock = new RLock();
    rlock.acquireSync();
    rlock.acquireSync();
    const seen = await spawn((rlock: RLock) => {
      let releaseError = '';
      try {
        rlock.release();
      } catch (e) {
        releaseError = (e as Error).name;
      }
      return { tryAcquire: rlock.acquireSync(0), releaseError };
    }, rlock);
    expect(seen).toEqual({ tryAcquire: false, releaseError: 'RuntimeError' });
    rlock.release();
    rlock.release();
    expect(await spawn((rlock: RLock) => { const ok = rlock.acquireSync(0); rlock.release(); return ok; }, rlock)).toBe(true);
  });

  test('the main thread cannot release an RLock a worker owns', async () => {
    const rlock = new RLock();
    const c = counters(2);
    const holder = spawn((rlock: RLock, c: Int32Array) => {
      rlock.acquireSync();
      Atomics.store(c, 0, 1);
      Atomics.wait(c, 1, 0);
      rlock.release();
    }, rlock, c);
    await until(() => Atomics.load(c, 0) === 1, 'the worker owns the rlock');
    expect(() => rlock.release()).toThrow(RuntimeError);
    expect(await rlock.acquire(0)).toBe(false);
    Atomics.store(c, 1, 1);
    Atomics.notify(c, 1);
    await holder;
    expect(rlock.acquireSync(10_000)).toBe(true);
    rlock.release();
  });

  test('4 threads × 5 000 nested increments give the exact total', async () => {
    const rlock = new RLock();
    const c = counters(1);
    const work = (rlock: RLock, c: Int32Array) => {
      for (let i = 0; i < 5_000; i++) {
        rlock.acquireSync();
        rlock.acquireSync();
        const v = c[0];
        c[0] = v + 1;
        rlock.release();
        rlock.release();
      }
    };
    await Promise.all([spawn(work, rlock, c), spawn(work, rlock, c), spawn(work, rlock, c), spawn(work, rlock, c)]);
    expect(c[0]).toBe(20_000);
    expect(inspect(rlock)).toBe('<RLock owner=none count=0>');
  });
});
