import { afterEach, describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { threadId } from 'node:worker_threads';
import { Condition, Lock, RLock } from 'threadkit/threading';
import { RuntimeError } from 'threadkit/errors';
import { conditionWaiting } from '../../lib/internal/shm/condition-queue';
import { blockOf, counters, memoryOf, spawn, stopAll, until } from '../fixtures/shm-threads';

afterEach(stopAll);

const waiting = (cond: Condition) => conditionWaiting(blockOf(cond), 0);

describe('Condition on one thread', () => {
  test('its lock is a new RLock by default, and acquire/release/withLock act on it', async () => {
    const cond = new Condition();
    expect(cond.acquireSync()).toBe(true);
    expect(await cond.acquire()).toBe(true); // reentrant
    expect(inspect(cond)).toBe(`<Condition <RLock owner=${threadId} count=2> waiters=0>`);
    cond.release();
    cond.release();
    expect(await cond.withLock(() => 1)).toBe(1);
    expect(cond.withLockSync(() => 2)).toBe(2);
    const lock = new Lock();
    const withLock = new Condition(lock);
    withLock.acquireSync();
    expect(lock.locked()).toBe(true);
    expect(withLock.acquireSync(0)).toBe(false);
    withLock.release();
    expect(lock.locked()).toBe(false);
  });

  test('wait and notify without holding the lock are RuntimeErrors', async () => {
    const cond = new Condition();
    await expect(cond.wait()).rejects.toThrow(RuntimeError);
    expect(() => cond.waitSync(0)).toThrow('cannot wait on un-acquired lock');
    expect(() => cond.notify()).toThrow('cannot notify on un-acquired lock');
    expect(() => cond.notifyAll()).toThrow(RuntimeError);
    expect(waiting(cond)).toBe(0);
  });

  test('bad arguments are TypeError or RangeError and leave no waiter behind', async () => {
    expect(() => new Condition({} as never)).toThrow(TypeError);
    const cond = new Condition(new Lock());
    cond.acquireSync();
    expect(() => cond.waitSync(-1)).toThrow(RangeError);
    expect(() => cond.waitSync(NaN)).toThrow(RangeError);
    await expect(cond.wait(-1)).rejects.toThrow(RangeError);
    expect(() => cond.waitForSync(() => true, -1)).toThrow(RangeError);
    expect(() => cond.waitForSync(42 as never)).toThrow(TypeError);
    expect(() => cond.notify(-1)).toThrow(RangeError);
    expect(() => cond.notify(NaN)).toThrow(RangeError);
    expect(waiting(cond)).toBe(0);
    cond.release();
  });

  test('a timed wait returns false, holds the lock again, and leaves no waiter', async () => {
    const cond = new Condition(new Lock());
    cond.acquireSync();
    const t0 = performance.now();
    expect(cond.waitSync(30)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    expect(await cond.wait(0)).toBe(false);
    expect(await cond.wait(20)).toBe(false);
    expect(waiting(cond)).toBe(0);
    expect(cond.acquireSync(0)).toBe(false); // still held by us
    cond.release();
  });

  test('waitFor returns the last predicate value, and a falsy one after the timeout', async () => {
    const cond = new Condition();
    await cond.acquire();
    expect(await cond.waitFor(() => 'ready')).toBe('ready');
    expect(await cond.waitFor(() => 0, 20)).toBe(0);
    expect(cond.waitForSync(() => null, 20)).toBe(null);
    cond.release();
  });

  test('many timed-out waits never fill the waiter queue', () => {
    const cond = new Condition(new Lock());
    cond.acquireSync();
    for (let i = 0; i < 300; i++) expect(cond.waitSync(0)).toBe(false);
    expect(waiting(cond)).toBe(0);
    cond.release();
  });

  test('async waiters on the main thread are notified one at a time', async () => {
    // A Lock, not the default RLock: RLock ownership is per thread, so async tasks of one thread
    // would all count as its owner.
    const cond = new Condition(new Lock());
    const woken: number[] = [];
    const waiters = [0, 1, 2].map(async (i) => {
      await cond.acquire();
      try {
        expect(await cond.wait(20_000)).toBe(true);
        woken.push(i);
      } finally {
        cond.release();
      }
    });
    await until(() => waiting(cond) === 3, 'three waiters are queued');
    await cond.withLock(() => cond.notify());
    await until(() => woken.length === 1, 'one waiter woke');
    expect(waiting(cond)).toBe(2);
    await cond.withLock(() => cond.notifyAll());
    await Promise.all(waiters);
    expect(woken.sort()).toEqual([0, 1, 2]);
  });
});

/**
 * Starts `n` workers that queue on `cond` in a known order: worker i waits for its turn, takes the
 * lock, bumps TURN, and waits; the next takes the lock only after the previous is queued. Each
 * woken worker records its index in c[WOKEN_AT + k] and counts itself in c[WOKEN].
 */
const TURN = 0;
const WOKEN = 1;
const WOKEN_AT = 2;
function queueInOrder(cond: Condition, c: Int32Array, n: number, timeouts: (number | null)[] = []) {
  return Array.from({ length: n }, (_, i) =>
    spawn((cond: Condition, c: Int32Array, i: number, timeout: number | null) => {
      const TURN = 0, WOKEN = 1, WOKEN_AT = 2;
      while (Atomics.load(c, TURN) !== i) Atomics.wait(c, TURN, Atomics.load(c, TURN), 50);
      cond.acquireSync();
      Atomics.add(c, TURN, 1);
      Atomics.notify(c, TURN);
      const notified = cond.waitSync(timeout ?? 20_000);
      if (notified) Atomics.store(c, WOKEN_AT + Atomics.add(c, WOKEN, 1), i);
      cond.release();
      return notified;
    }, cond, c, i, timeouts[i] ?? null),
  );
}

describe('Condition across threads', () => {
  test('notify(n) wakes exactly min(n, waiting) waiters, longest-waiting first', async () => {
    const cond = new Condition(new Lock());
    const c = counters(16);
    const N = 5;
    const workers = queueInOrder(cond, c, N);
    await until(() => waiting(cond) === N, 'five waiters are queued');
    await cond.withLock(() => cond.notify(2));
    await until(() => Atomics.load(c, WOKEN) === 2, 'two waiters woke');
    expect([c[WOKEN_AT], c[WOKEN_AT + 1]].sort()).toEqual([0, 1]);
    expect(waiting(cond)).toBe(3);
    await cond.withLock(() => cond.notify(1));
    await until(() => Atomics.load(c, WOKEN) === 3, 'a third waiter woke');
    expect(c[WOKEN_AT + 2]).toBe(2);
    expect(waiting(cond)).toBe(2);
    cond.acquireSync();
    cond.notify(10); // more than are waiting
    cond.release();
    expect(await Promise.all(workers)).toEqual([true, true, true, true, true]);
    expect(waiting(cond)).toBe(0);
  });

  test('a waiter that timed out is not counted by a later notify', async () => {
    const cond = new Condition(new Lock());
    const c = counters(16);
    // Worker 0 queues first with a short timeout; worker 1 queues after it and waits long.
    const [first, second] = queueInOrder(cond, c, 2, [30, 20_000]);
    expect(await first).toBe(false);
    expect(waiting(cond)).toBe(1);
    await cond.withLock(() => cond.notify(1));
    expect(await second).toBe(true);
    expect(c[WOKEN_AT]).toBe(1);
  });

  test('an RLock held at depth 3 is fully released during wait and held at depth 3 after', async () => {
    const rlock = new RLock();
    const cond = new Condition(rlock);
    const c = counters(2);
    const worker = spawn((cond: Condition, rlock: RLock, c: Int32Array) => {
      const { inspect } = require('node:util');
      const { threadId } = require('node:worker_threads');
      rlock.acquireSync();
      rlock.acquireSync();
      rlock.acquireSync();
      Atomics.store(c, 0, 1);
      const notified = cond.waitSync(20_000);
      const after = inspect(rlock);
      const expected = `<RLock owner=${threadId} count=3>`;
      rlock.release();
      rlock.release();
      rlock.release();
      let extra = '';
      try {
        rlock.release();
      } catch (e) {
        extra = (e as Error).name;
      }
      return { notified, restored: after === expected, extra };
    }, cond, rlock, c);
    await until(() => Atomics.load(c, 0) === 1 && waiting(cond) === 1, 'the worker waits holding depth 3');
    // The worker is waiting: its RLock must be free for us.
    expect(rlock.acquireSync(10_000)).toBe(true);
    cond.notify();
    rlock.release();
    expect(await worker).toEqual({ notified: true, restored: true, extra: 'RuntimeError' });
  });

  test('1 000 rounds of ping-pong between main (async) and a worker (sync) lose no wake-up', async () => {
    const cond = new Condition();
    const c = counters(1);
    const ROUNDS = 1_000;
    const worker = spawn((cond: Condition, c: Int32Array, rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        cond.acquireSync();
        if (!cond.waitForSync(() => c[0] % 2 === 1, 10_000)) throw new Error(`lost wake-up in round ${i}`);
        c[0]++;
        cond.notify();
        cond.release();
      }
    }, cond, c, ROUNDS);
    for (let i = 0; i < ROUNDS; i++) {
      await cond.acquire();
      try {
        if (!(await cond.waitFor(() => c[0] % 2 === 0, 10_000))) throw new Error(`lost wake-up in round ${i}`);
        c[0]++;
        cond.notify();
      } finally {
        cond.release();
      }
    }
    await worker;
    expect(c[0]).toBe(2 * ROUNDS);
  });

  test('1 000 rounds between two sync workers with notifyAll and short timeouts lose no wake-up', async () => {
    const cond = new Condition(new Lock());
    const c = counters(1);
    const player = (cond: Condition, c: Int32Array, parity: number) => {
      for (let i = 0; i < 1_000; i++) {
        cond.acquireSync();
        // A 1 ms timeout races the notify constantly; the loop must still see every turn.
        while (c[0] % 2 !== parity) cond.waitSync(1);
        c[0]++;
        cond.notifyAll();
        cond.release();
      }
    };
    await Promise.all([spawn(player, cond, c, 0), spawn(player, cond, c, 1)]);
    expect(c[0]).toBe(2_000);
    expect(waiting(cond)).toBe(0);
  });
});
