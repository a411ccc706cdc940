import { afterEach, describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { Event } from 'threadkit/threading';
import { WAITERS } from '../../lib/internal/shm/event-word';
import { counters, memoryOf, spawn, stopAll, until } from '../fixtures/shm-threads';

afterEach(stopAll);

describe('Event on one thread', () => {
  test('set, clear and isSet move the flag', async () => {
    const e = new Event();
    expect(e.isSet()).toBe(false);
    expect(inspect(e)).toBe('<Event unset>');
    e.set();
    expect(e.isSet()).toBe(true);
    expect(inspect(e)).toBe('<Event set>');
    e.set();
    expect(e.isSet()).toBe(true);
    expect(e.waitSync()).toBe(true);
    expect(await e.wait()).toBe(true);
    expect(await e.wait(0)).toBe(true);
    e.clear();
    expect(e.isSet()).toBe(false);
    e.clear();
    expect(e.waitSync(0)).toBe(false);
  });

  test('a wait on a clear flag times out with false after about the timeout', async () => {
    const e = new Event();
    const t0 = performance.now();
    expect(e.waitSync(40)).toBe(false);
    expect(await e.wait(40)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(78);
    expect(memoryOf(e)[WAITERS]).toBe(0);
  });

  test('bad timeouts are RangeError or TypeError', async () => {
    const e = new Event();
    expect(() => e.waitSync(-1)).toThrow(RangeError);
    expect(() => e.waitSync(NaN)).toThrow(RangeError);
    expect(() => e.waitSync('1' as never)).toThrow(TypeError);
    await expect(e.wait(-1)).rejects.toThrow(RangeError);
    e.set();
    expect(() => e.waitSync(-1)).toThrow(RangeError); // even when set
  });

  test('async waiters return true when the flag is set then cleared at once', async () => {
    const e = new Event();
    const waiters = [e.wait(20_000), e.wait(20_000), e.wait()];
    await until(() => memoryOf(e)[WAITERS] === 3, 'three async waiters sleep');
    e.set();
    e.clear();
    expect(await Promise.all(waiters)).toEqual([true, true, true]);
    expect(e.isSet()).toBe(false);
  });
});

describe('Event across threads', () => {
  test('every waiting thread returns true when the flag is set then cleared at once', async () => {
    const e = new Event();
    const waiters = Array.from({ length: 4 }, () => spawn((e: Event) => e.waitSync(20_000), e));
    const asyncWaiter = e.wait(20_000);
    await until(() => memoryOf(e)[WAITERS] === 5, 'four threads and one async waiter sleep');
    e.set();
    e.clear();
    expect(await Promise.all([...waiters, asyncWaiter])).toEqual([true, true, true, true, true]);
  });

  test('a set from a worker wakes the main thread blocked in waitSync', async () => {
    const e = new Event();
    const c = counters(1);
    const worker = spawn((e: Event, c: Int32Array) => {
      Atomics.wait(c, 0, 0); // until main is about to block
      e.set();
    }, e, c);
    Atomics.store(c, 0, 1);
    Atomics.notify(c, 0);
    expect(e.waitSync(20_000)).toBe(true);
    await worker;
  });

  test('1 000 rounds of ping-pong with two events lose no wake-up', async () => {
    const ping = new Event();
    const pong = new Event();
    const ROUNDS = 1_000;
    const worker = spawn((ping: Event, pong: Event, rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        if (!ping.waitSync(10_000)) throw new Error(`lost wake-up in round ${i}`);
        ping.clear();
        pong.set();
      }
    }, ping, pong, ROUNDS);
    for (let i = 0; i < ROUNDS; i++) {
      ping.set();
      if (!(await pong.wait(10_000))) throw new Error(`lost wake-up in round ${i}`);
      pong.clear();
    }
    await worker;
  });

  test('1 000 rounds between two sync workers lose no wake-up', async () => {
    const ping = new Event();
    const pong = new Event();
    const player = (mine: Event, theirs: Event, first: boolean) => {
      for (let i = 0; i < 1_000; i++) {
        if (first) theirs.set();
        if (!mine.waitSync(10_000)) throw new Error(`lost wake-up in round ${i}`);
        mine.clear();
        if (!first) theirs.set();
      }
    };
    await Promise.all([spawn(player, pong, ping, true), spawn(player, ping, pong, false)]);
  });
});
