import { afterEach, describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { BoundedSemaphore, Semaphore } from 'threadkit/threading';
import { ValueError } from 'threadkit/errors';
import { WAITERS } from '../../lib/internal/shm/counting-semaphore';
import { counters, memoryOf, spawn, stopAll, until } from '../fixtures/shm-threads';

afterEach(stopAll);

describe('Semaphore on one thread', () => {
  test('the value starts at 1 by default and counts acquires and releases', async () => {
    const sem = new Semaphore();
    expect(inspect(sem)).toBe('<Semaphore value=1>');
    expect(sem.acquireSync()).toBe(true);
    expect(sem.acquireSync(0)).toBe(false);
    sem.release(3);
    expect(inspect(sem)).toBe('<Semaphore value=3>');
    expect(await sem.acquire()).toBe(true);
    expect(await sem.acquire(0)).toBe(true);
    expect(sem.acquireSync(0)).toBe(true);
    expect(await sem.acquire(0)).toBe(false);
  });

  test('a bad initial value is a RangeError or TypeError', () => {
    expect(() => new Semaphore(-1)).toThrow(RangeError);
    expect(() => new Semaphore(-1)).toThrow('`value`');
    expect(() => new Semaphore(1.5)).toThrow(TypeError);
    expect(() => new Semaphore(NaN)).toThrow(TypeError);
    expect(() => new Semaphore('2' as never)).toThrow(TypeError);
    expect(() => new BoundedSemaphore(-3)).toThrow(RangeError);
    expect(inspect(new Semaphore(0))).toBe('<Semaphore value=0>');
  });

  test('bad timeouts and release counts are rejected and change nothing', async () => {
    const sem = new Semaphore(2);
    expect(() => sem.acquireSync(-1)).toThrow(RangeError);
    expect(() => sem.acquireSync(NaN)).toThrow(RangeError);
    await expect(sem.acquire(-0.5)).rejects.toThrow(RangeError);
    expect(() => sem.release(0)).toThrow(RangeError);
    expect(() => sem.release(-1)).toThrow(RangeError);
    expect(() => sem.release(1.5)).toThrow(TypeError);
    expect(sem.value).toBe(2);
  });

  test('a timed acquire of an empty semaphore returns false after about the timeout', async () => {
    const sem = new Semaphore(0);
    const t0 = performance.now();
    expect(sem.acquireSync(40)).toBe(false);
    expect(await sem.acquire(40)).toBe(false);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(78);
    expect(elapsed).toBeLessThan(10_000);
    expect(memoryOf(sem)[WAITERS]).toBe(0);
  });

  test('withLock holds a permit during fn and gives it back when fn throws', async () => {
    const sem = new Semaphore(1);
    expect(await sem.withLock(() => sem.value)).toBe(0);
    await expect(sem.withLock(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(() => sem.withLockSync(() => { throw new Error('no'); })).toThrow('no');
    expect(sem.value).toBe(1);
  });

  test('a BoundedSemaphore released above its initial value throws ValueError and keeps its value', () => {
    const sem = new BoundedSemaphore(2);
    expect(() => sem.release()).toThrow(ValueError);
    sem.acquireSync();
    expect(() => sem.release(2)).toThrow('semaphore released too many times');
    sem.release();
    expect(inspect(sem)).toBe('<BoundedSemaphore value=2/2>');
    expect(sem).toBeInstanceOf(Semaphore);
    // An unbounded Semaphore may go above its initial value.
    const plain = new Semaphore(1);
    plain.release(5);
    expect(plain.value).toBe(6);
  });

  test('async waiters on the main thread are each woken by one release', async () => {
    const sem = new Semaphore(0);
    let done = 0;
    const waiters = [0, 1, 2].map(() => sem.acquire(20_000).then((ok) => { expect(ok).toBe(true); done++; }));
    await until(() => memoryOf(sem)[WAITERS] === 3, 'three async waiters sleep');
    sem.release();
    await until(() => done === 1, 'one waiter got the permit');
    sem.release(2);
    await Promise.all(waiters);
    expect(sem.value).toBe(0);
  });
});

describe('Semaphore across threads', () => {
  test('Semaphore(7) with 10 threads admits exactly 6, then 13, then 19 as permits are released', async () => {
    // lock_tests' test_acquire_contended. c[PHASE] is the phase; c[PER_PHASE + p] counts acquisitions
    // in phase p; c[DONE] counts workers that got both their permits.
    const PHASE = 0;
    const PER_PHASE = 1;
    const DONE = 4;
    const c = counters(8);
    const sem = new Semaphore(7);
    sem.acquireSync();
    const N = 10;
    const workers = Array.from({ length: N }, () =>
      spawn((sem: Semaphore, c: Int32Array) => {
        const PHASE = 0, PER_PHASE = 1, DONE = 4;
        const results: boolean[] = [];
        for (let k = 0; k < 2; k++) {
          results.push(sem.acquireSync(30_000));
          Atomics.add(c, PER_PHASE + Atomics.load(c, PHASE), 1);
        }
        Atomics.add(c, DONE, 1);
        return results;
      }, sem, c),
    );
    const mem = memoryOf(sem);
    const total = () => Atomics.load(c, PER_PHASE) + Atomics.load(c, PER_PHASE + 1) + Atomics.load(c, PER_PHASE + 2);
    const phaseCounts = () => [c[PER_PHASE], c[PER_PHASE + 1], c[PER_PHASE + 2]];
    // Quiescent: every worker is done or asleep in an acquire, and no permit is left.
    const settled = (n: number) =>
      until(() => total() === n && Atomics.load(mem, WAITERS) + Atomics.load(c, DONE) === N && sem.value === 0, `${n} are admitted and the rest wait`);

    await settled(6);
    expect(phaseCounts()).toEqual([6, 0, 0]);

    Atomics.store(c, PHASE, 1);
    for (let i = 0; i < 7; i++) sem.release();
    await settled(13);
    expect(phaseCounts()).toEqual([6, 7, 0]);

    Atomics.store(c, PHASE, 2);
    for (let i = 0; i < 6; i++) sem.release();
    await settled(19);
    expect(phaseCounts()).toEqual([6, 7, 6]);
    expect(sem.acquireSync(0)).toBe(false);

    sem.release();
    const results = await Promise.all(workers);
    expect(results.flat()).toEqual(Array(20).fill(true));
  });

  test('release(n) wakes n sleeping threads at once', async () => {
    const sem = new Semaphore(0);
    const workers = Array.from({ length: 4 }, () => spawn((sem: Semaphore) => sem.acquireSync(30_000), sem));
    await until(() => memoryOf(sem)[WAITERS] === 4, 'four workers sleep');
    sem.release(4);
    expect(await Promise.all(workers)).toEqual([true, true, true, true]);
    expect(sem.value).toBe(0);
  });

  test('at most `value` threads hold a Semaphore at once', async () => {
    const sem = new Semaphore(2);
    const c = counters(2); // [inside now, most inside ever]
    const work = (sem: Semaphore, c: Int32Array) => {
      for (let i = 0; i < 500; i++) {
        sem.acquireSync();
        const inside = Atomics.add(c, 0, 1) + 1;
        for (let most = Atomics.load(c, 1); inside > most; most = Atomics.load(c, 1)) Atomics.compareExchange(c, 1, most, inside);
        Atomics.sub(c, 0, 1);
        sem.release();
      }
    };
    const mainLoop = async () => {
      for (let i = 0; i < 500; i++) await sem.withLock(() => { expect(Atomics.add(c, 0, 1) + 1).toBeLessThanOrEqual(2); Atomics.sub(c, 0, 1); });
    };
    await Promise.all([spawn(work, sem, c), spawn(work, sem, c), spawn(work, sem, c), mainLoop()]);
    expect(c[1]).toBeLessThanOrEqual(2);
    expect(sem.value).toBe(2);
  });

  test('a BoundedSemaphore passed to a worker stays bounded there', async () => {
    const sem = new BoundedSemaphore(1);
    expect(await spawn((sem: BoundedSemaphore) => {
      try {
        sem.release();
        return 'released';
      } catch (e) {
        return (e as Error).name;
      }
    }, sem)).toBe('ValueError');
  });
});
