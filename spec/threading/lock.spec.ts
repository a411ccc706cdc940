import { afterEach, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { Lock, Thread } from 'threadkit/threading';
import { RuntimeError } from 'threadkit/errors';
import { counters, spawn, stopAll, until } from '../fixtures/shm-threads';

afterEach(stopAll);

describe('Lock on one thread', () => {
  test('a new lock is unlocked and prints its state', () => {
    const lock = new Lock();
    expect(lock.locked()).toBe(false);
    expect(inspect(lock)).toBe('<Lock unlocked>');
    lock.acquireSync();
    expect(lock.locked()).toBe(true);
    expect(inspect(lock)).toBe('<Lock locked>');
  });

  test('acquire and release in turn, sync and async', async () => {
    const lock = new Lock();
    expect(lock.acquireSync()).toBe(true);
    lock.release();
    expect(await lock.acquire()).toBe(true);
    lock.release();
    expect(lock.locked()).toBe(false);
  });

  test('a timeout of 0 tries once and never blocks', async () => {
    const lock = new Lock();
    expect(lock.acquireSync(0)).toBe(true);
    expect(lock.acquireSync(0)).toBe(false);
    expect(await lock.acquire(0)).toBe(false);
    lock.release();
    expect(await lock.acquire(0)).toBe(true);
  });

  test('a timed acquire of a held lock returns false after about the timeout', async () => {
    const lock = new Lock();
    lock.acquireSync();
    let t0 = performance.now();
    expect(lock.acquireSync(50)).toBe(false);
    let elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(49);
    expect(elapsed).toBeLessThan(5000);
    t0 = performance.now();
    expect(await lock.acquire(50)).toBe(false);
    elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(49);
    expect(elapsed).toBeLessThan(5000);
    // The timed-out waiters left the lock usable (lock_tests' test_state_after_timeout).
    lock.release();
    expect(lock.acquireSync(0)).toBe(true);
  });

  test('releasing an unlocked lock is a RuntimeError and leaves it unlocked', () => {
    const lock = new Lock();
    expect(() => lock.release()).toThrow(RuntimeError);
    expect(() => lock.release()).toThrow('cannot release un-acquired lock');
    expect(lock.locked()).toBe(false);
  });

  test('negative, NaN and non-number timeouts are rejected before anything changes', async () => {
    const lock = new Lock();
    expect(() => lock.acquireSync(-1)).toThrow(RangeError);
    expect(() => lock.acquireSync(NaN)).toThrow(RangeError);
    expect(() => lock.acquireSync('1' as never)).toThrow(TypeError);
    await expect(lock.acquire(-1)).rejects.toThrow(RangeError);
    await expect(lock.acquire(NaN)).rejects.toThrow(RangeError);
    expect(lock.locked()).toBe(false);
  });

  test('withLock holds the lock during fn and releases it when fn throws', async () => {
    const lock = new Lock();
    expect(await lock.withLock(async () => lock.locked())).toBe(true);
    await expect(lock.withLock(() => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(lock.locked()).toBe(false);
    expect(lock.withLockSync(() => 7)).toBe(7);
    expect(() => lock.withLockSync(() => { throw new TypeError('bad'); })).toThrow(TypeError);
    expect(lock.locked()).toBe(false);
    expect(() => lock.withLockSync(42 as never)).toThrow(TypeError);
    expect(lock.locked()).toBe(false);
  });

  test('async waiters on one thread are served as the holder releases', async () => {
    const lock = new Lock();
    await lock.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((i) => lock.acquire().then(() => { order.push(i); lock.release(); }));
    lock.release();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(lock.locked()).toBe(false);
  });
});

describe('Lock across threads', () => {
  test('4 threads × 10 000 increments under the lock give the exact total', async () => {
    const lock = new Lock();
    const c = counters(1);
    const work = (lock: Lock, c: Int32Array) => {
      for (let i = 0; i < 10_000; i++) {
        lock.acquireSync();
        // A non-atomic read-modify-write: only the lock makes it safe.
        const v = c[0];
        c[0] = v + 1;
        lock.release();
      }
    };
    const threads = Array.from({ length: 4 }, () => new Thread({ target: work, args: [lock, c] }));
    for (const t of threads) t.start();
    for (const t of threads) expect(await t.join(20_000)).toBe(true);
    expect(c[0]).toBe(40_000);
    expect(lock.locked()).toBe(false);
  });

  test('a lock acquired in a worker is locked for the main thread, and a worker may release a lock main acquired', async () => {
    const lock = new Lock();
    const c = counters(2);
    const holder = spawn((lock: Lock, c: Int32Array) => {
      lock.acquireSync();
      Atomics.store(c, 0, 1);
      Atomics.notify(c, 0);
      Atomics.wait(c, 1, 0); // until main says release
      lock.release();
    }, lock, c);
    await until(() => Atomics.load(c, 0) === 1, 'the worker holds the lock');
    expect(lock.locked()).toBe(true);
    expect(lock.acquireSync(0)).toBe(false);
    expect(await lock.acquire(0)).toBe(false);
    Atomics.store(c, 1, 1);
    Atomics.notify(c, 1);
    await holder;
    // lock_tests' test_different_thread: released by a thread that did not acquire it.
    lock.acquireSync();
    await spawn((lock: Lock) => lock.release(), lock);
    expect(lock.locked()).toBe(false);
  });

  test('threads blocked in acquireSync all get the lock after main releases it', async () => {
    const lock = new Lock();
    const c = counters(2);
    lock.acquireSync();
    const N = 5;
    const waiters = Array.from({ length: N }, () =>
      spawn((lock: Lock, c: Int32Array) => {
        Atomics.add(c, 0, 1);
        lock.acquireSync();
        Atomics.add(c, 1, 1);
        lock.release();
      }, lock, c),
    );
    await until(() => Atomics.load(c, 0) === N, 'every worker is about to block');
    expect(Atomics.load(c, 1)).toBe(0);
    lock.release();
    await Promise.all(waiters);
    expect(Atomics.load(c, 1)).toBe(N);
  });

  test('main blocked in acquireSync wakes when a worker releases the lock', async () => {
    const lock = new Lock();
    const c = counters(1);
    const holder = spawn((lock: Lock, c: Int32Array) => {
      lock.acquireSync();
      Atomics.store(c, 0, 1);
      Atomics.notify(c, 0);
      // Spin a little while main goes to sleep; correctness does not depend on it.
      for (let i = 0; i < 1e6; i++) Atomics.load(c, 0);
      lock.release();
    }, lock, c);
    await until(() => Atomics.load(c, 0) === 1, 'the worker holds the lock');
    expect(lock.acquireSync(20_000)).toBe(true);
    lock.release();
    await holder;
  });

  test('main async waiters and worker sync waiters share the lock without losing a wake-up', async () => {
    const lock = new Lock();
    const c = counters(1);
    const work = (lock: Lock, c: Int32Array) => {
      for (let i = 0; i < 2_000; i++) {
        lock.acquireSync();
        c[0] = c[0] + 1;
        lock.release();
      }
    };
    const mainLoop = async () => {
      for (let i = 0; i < 2_000; i++) {
        await lock.acquire();
        c[0] = c[0] + 1;
        lock.release();
      }
    };
    await Promise.all([spawn(work, lock, c), spawn(work, lock, c), mainLoop(), mainLoop()]);
    expect(c[0]).toBe(8_000);
  });

  test('a worker timed out on a held lock leaves it usable', async () => {
    const lock = new Lock();
    lock.acquireSync();
    expect(await spawn((lock: Lock) => lock.acquireSync(20), lock)).toBe(false);
    expect(await spawn((lock: Lock) => lock.acquire(20), lock)).toBe(false);
    lock.release();
    expect(await spawn((lock: Lock) => { const ok = lock.acquireSync(0); lock.release(); return ok; }, lock)).toBe(true);
  });
});

describe('Lock keeps the process alive', () => {
  test('a process whose only pending work is await lock.acquire() stays alive until a worker releases it', async () => {
    const child = path.join(__dirname, '../fixtures/shm-keepalive-child.ts');
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--require', require.resolve('tsx/cjs'), child], { timeout: 20_000 }, (error, out) =>
        error ? reject(error) : resolve(out),
      );
    });
    expect(stdout.trim()).toBe('acquired');
  });
});
