import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { Pool } from 'threadkit/multiprocessing';
import { BrokenProcessPoolError, RuntimeError, TimeoutError, ValueError, fromModule } from 'threadkit';
import { RENDEZVOUS, Rendezvous } from '../fixtures/process-rendezvous';

const hold = fromModule<[string, number], Promise<number>>(RENDEZVOUS, 'hold');

describe('AsyncResult (CPython test_async, test_async_timeout)', () => {
  let pool: Pool;
  let rendezvous: Rendezvous;
  beforeAll(async () => {
    pool = new Pool(2);
    rendezvous = await Rendezvous.open();
  });
  afterAll(async () => {
    await rendezvous.close();
    await pool.terminate();
  });

  test('while the task runs: not ready, successful() is a ValueError, get(timeout) a TimeoutError, wait(timeout) just returns', async () => {
    const result = pool.applyAsync<number>(hold, [rendezvous.path, 5]);
    await rendezvous.arrivals(1);
    expect(result.ready()).toBe(false);
    expect(() => result.successful()).toThrow(ValueError);
    await expect(result.get(20)).rejects.toThrow(TimeoutError);
    await expect(result.get(0)).rejects.toThrow(TimeoutError);
    await expect(result.wait(20)).resolves.toBeUndefined();
    expect(result.ready()).toBe(false);
    expect(inspect(result)).toBe('<AsyncResult pending>');
    rendezvous.release();
    expect(await result.get(10_000)).toBe(5);
    expect(result.ready()).toBe(true);
    expect(result.successful()).toBe(true);
    expect(inspect(result)).toBe('<AsyncResult returned number>');
  });

  test("a timeout beyond setTimeout's limit (2^31 ms) still waits", async () => {
    const gate = await Rendezvous.open();
    try {
      const result = pool.applyAsync<number>(hold, [gate.path, 7]);
      await gate.arrivals(1);
      const got = result.get(3e9);
      const waited = result.wait(3e9);
      const early = await Promise.race([got.then(() => 'settled', () => 'settled'), new Promise((resolve) => setTimeout(resolve, 50, 'pending'))]);
      expect(early).toBe('pending');
      gate.release();
      expect(await got).toBe(7);
      await expect(waited).resolves.toBeUndefined();
    } finally {
      await gate.close();
    }
  });

  test('a failed task: successful() is false and get() rejects with its error every time', async () => {
    const result = pool.applyAsync(() => {
      throw new RangeError('out of range');
    });
    await result.wait();
    expect(result.ready()).toBe(true);
    expect(result.successful()).toBe(false);
    await expect(result.get()).rejects.toThrow(RangeError);
    await expect(result.get(0)).rejects.toThrow('out of range');
    expect(inspect(result)).toBe('<AsyncResult raised RangeError>');
  });

  test('a thrown non-Error value comes back as it was', async () => {
    const result = pool.applyAsync(() => {
      throw undefined;
    });
    await result.wait();
    expect(result.successful()).toBe(false);
    await expect(result.get()).rejects.toBeUndefined();
  });

  test('a negative or NaN timeout is a RangeError', async () => {
    const result = pool.applyAsync(() => 1);
    await expect(result.get(-1)).rejects.toThrow(RangeError);
    await expect(result.wait(Number.NaN)).rejects.toThrow(RangeError);
    expect(await result.get()).toBe(1);
  });

  test('a failed result that nobody asks for raises no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      pool.applyAsync(() => {
        throw new Error('ignored');
      });
      await pool.apply(() => 0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('AsyncResult never hangs (unlike Python)', () => {
  test('get() rejects with BrokenProcessPoolError when the child running the task dies', async () => {
    const pool = new Pool(1);
    try {
      const result = pool.applyAsync(() => process.kill(process.pid, 'SIGKILL'));
      await expect(result.get()).rejects.toThrow(BrokenProcessPoolError);
      await expect(result.get()).rejects.toThrow(/SIGKILL/);
    } finally {
      await pool.terminate();
    }
  });

  test('get() rejects after terminate(), for running and queued tasks alike', async () => {
    const rendezvous = await Rendezvous.open();
    const pool = new Pool(1);
    try {
      const running = pool.applyAsync(hold, [rendezvous.path, 1]);
      await rendezvous.arrivals(1);
      const queued = pool.applyAsync(() => 2);
      const waiting = expect(running.get()).rejects.toThrow(RuntimeError);
      await pool.terminate();
      await waiting;
      await expect(queued.get()).rejects.toThrow(RuntimeError);
    } finally {
      await pool.terminate();
      await rendezvous.close();
    }
  });
});
