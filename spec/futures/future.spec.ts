/**
 * Future: CPython's Lib/test/test_concurrent_futures/test_future.py, ported. Every test starts from
 * a fixture future in each of Python's states.
 */
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { inspect } from 'node:util';
import { Future, asCompleted, wait } from 'threadkit/futures';
import { CancelledError, InvalidStateError, RuntimeError, TimeoutError } from 'threadkit/errors';

type State = 'PENDING' | 'RUNNING' | 'CANCELLED' | 'CANCELLED_AND_NOTIFIED' | 'FINISHED';

/** Python's `create_future(state, exception, result)`. */
function createFuture<T = unknown>(state: State, options: { exception?: unknown; result?: T } = {}): Future<T> {
  const f = new Future<T>();
  if (state === 'RUNNING') f.setRunningOrNotifyCancel();
  if (state === 'CANCELLED') f.cancel();
  if (state === 'CANCELLED_AND_NOTIFIED') {
    f.cancel();
    f.setRunningOrNotifyCancel();
  }
  if (state === 'FINISHED') {
    if ('exception' in options) f.setException(options.exception);
    else f.setResult(options.result as T);
  }
  return f;
}

const pending = () => createFuture('PENDING');
const running = () => createFuture('RUNNING');
const cancelled = () => createFuture('CANCELLED');
const cancelledAndNotified = () => createFuture('CANCELLED_AND_NOTIFIED');
const exceptionFuture = () => createFuture('FINISHED', { exception: new Error('os error') });
const successful = () => createFuture('FINISHED', { result: 42 });

describe('Future', () => {
  let errorSpy: ReturnType<typeof jest.spyOn>;
  beforeEach(() => {
    errorSpy = jest.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    errorSpy.mockRestore();
  });

  test('every fixture is in the state its name says', () => {
    expect(pending()._state).toBe('PENDING');
    expect(running()._state).toBe('RUNNING');
    expect(cancelled()._state).toBe('CANCELLED');
    expect(cancelledAndNotified()._state).toBe('CANCELLED_AND_NOTIFIED');
    expect(exceptionFuture()._state).toBe('FINISHED');
    expect(successful()._state).toBe('FINISHED');
  });

  test("the InvalidStateError names the state and the future, as Python's (test_multiple_set_result)", async () => {
    const f = pending();
    f.setResult(1);
    expect(() => f.setResult(2)).toThrow(/FINISHED: <Future state=finished returned number>/);
    const g = pending();
    g.setException(new RangeError('x'));
    expect(() => g.setException(new Error('y'))).toThrow(/FINISHED: <Future state=finished raised RangeError>/);
    expect(() => cancelled().setResult(1)).toThrow(/CANCELLED: <Future state=cancelled>/);
    await expect(f.result()).resolves.toBe(1);
  });

  test("timeouts beyond setTimeout's limit (2^31 ms) still wait, in result, exception, wait and asCompleted", async () => {
    const f = pending();
    const settledWithin = async (p: Promise<unknown>): Promise<string> =>
      Promise.race([p.then(() => 'settled', () => 'settled'), new Promise<string>((resolve) => setTimeout(resolve, 50, 'pending'))]);
    const result = f.result(3e9);
    const exception = f.exception(3e9);
    const waited = wait([f], { timeout: 3e9 });
    const completed = (async () => {
      // Wrapped: an async function returning the Future itself would unwrap it.
      for await (const done of asCompleted([f], 3e9)) return { done };
      return undefined;
    })();
    expect(await settledWithin(Promise.any([result, exception, waited, completed]))).toBe('pending');
    f.setResult(5);
    expect(await result).toBe(5);
    expect(await exception).toBeNull();
    expect((await waited).done).toEqual(new Set([f]));
    expect((await completed)?.done).toBe(f);
  });

  test('cancel() wakes result() waiters and runs the done callbacks at once, before any notification', async () => {
    const f = pending();
    const calls: string[] = [];
    f.addDoneCallback(() => calls.push('callback'));
    const untimed = f.result().catch((e: unknown) => e);
    const timed = f.exception(60_000).catch((e: unknown) => e);
    expect(f.cancel()).toBe(true);
    expect(calls).toEqual(['callback']);
    expect(await untimed).toBeInstanceOf(CancelledError);
    expect(await timed).toBeInstanceOf(CancelledError);
    expect(f._state).toBe('CANCELLED');
  });

  describe('done callbacks', () => {
    test('a callback gets the future after a result is set', () => {
      const f = new Future<number>();
      let seen: number | undefined;
      f.addDoneCallback((fut) => {
        seen = fut === f ? 5 : -1;
      });
      f.setResult(5);
      expect(seen).toBe(5);
    });

    test('a callback is called after an exception is set', async () => {
      const f = new Future();
      let got: unknown;
      f.addDoneCallback(async (fut) => {
        got = await fut.exception();
      });
      const error = new Error('test');
      f.setException(error);
      await new Promise((resolve) => setImmediate(resolve));
      expect(got).toBe(error);
    });

    test('a callback is called on cancel, once', () => {
      const f = new Future();
      let calls = 0;
      f.addDoneCallback(() => calls++);
      expect(f.cancel()).toBe(true);
      expect(f.cancel()).toBe(true);
      expect(calls).toBe(1);
    });

    test('callbacks run in the order added', () => {
      const f = new Future();
      const order: number[] = [];
      for (let i = 0; i < 5; i++) f.addDoneCallback(() => order.push(i));
      f.setResult(null);
      expect(order).toEqual([0, 1, 2, 3, 4]);
    });

    test('an error raised by a callback is reported and the next callbacks still run', () => {
      const f = new Future();
      let raisingWasCalled = false;
      let fnWasCalled = false;
      f.addDoneCallback(() => {
        raisingWasCalled = true;
        throw new Error('doh!');
      });
      f.addDoneCallback(() => {
        fnWasCalled = true;
      });
      expect(() => f.setResult(5)).not.toThrow();
      expect(raisingWasCalled).toBe(true);
      expect(fnWasCalled).toBe(true);
      expect(errorSpy).toHaveBeenCalled();
      expect(String(errorSpy.mock.calls[0][0])).toContain('exception calling callback for');
      expect((errorSpy.mock.calls[0][1] as Error).message).toBe('doh!');
    });

    test('a rejection of an async callback is reported, not left unhandled', async () => {
      const f = new Future();
      f.addDoneCallback(async () => {
        throw new Error('async doh');
      });
      f.setResult(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect((errorSpy.mock.calls[0][1] as Error).message).toBe('async doh');
    });

    test('a callback added to an already successful future is called at once', async () => {
      const f = successful();
      let value: unknown;
      let sync = false;
      f.addDoneCallback(() => {
        sync = true;
      });
      expect(sync).toBe(true);
      f.addDoneCallback(async (fut) => {
        value = await fut.result();
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(value).toBe(42);
    });

    test('a callback added to an already failed or cancelled future is called at once', () => {
      let calls = 0;
      exceptionFuture().addDoneCallback(() => calls++);
      cancelled().addDoneCallback((fut) => {
        if (fut.cancelled()) calls++;
      });
      expect(calls).toBe(2);
    });

    test('a callback that is not a function is a TypeError', () => {
      expect(() => pending().addDoneCallback(42 as never)).toThrow(TypeError);
    });
  });

  test('inspect names the state and what it returned or raised', () => {
    expect(inspect(pending())).toBe('<Future state=pending>');
    expect(inspect(running())).toBe('<Future state=running>');
    expect(inspect(cancelled())).toBe('<Future state=cancelled>');
    expect(inspect(cancelledAndNotified())).toBe('<Future state=cancelled>');
    expect(inspect(exceptionFuture())).toBe('<Future state=finished raised Error>');
    expect(inspect(createFuture('FINISHED', { exception: new TypeError('x') }))).toBe('<Future state=finished raised TypeError>');
    expect(inspect(successful())).toBe('<Future state=finished returned number>');
    expect(inspect(createFuture('FINISHED', { result: [1] }))).toBe('<Future state=finished returned Array>');
    expect(inspect(createFuture('FINISHED', { exception: undefined }))).toBe('<Future state=finished raised undefined>');
  });

  test('cancel succeeds only while pending (or already cancelled)', () => {
    const f1 = pending(), f2 = running(), f3 = cancelled(), f4 = cancelledAndNotified(), f5 = exceptionFuture(), f6 = successful();
    expect(f1.cancel()).toBe(true);
    expect(f1._state).toBe('CANCELLED');
    expect(f2.cancel()).toBe(false);
    expect(f2._state).toBe('RUNNING');
    expect(f3.cancel()).toBe(true);
    expect(f3._state).toBe('CANCELLED');
    expect(f4.cancel()).toBe(true);
    expect(f4._state).toBe('CANCELLED_AND_NOTIFIED');
    expect(f5.cancel()).toBe(false);
    expect(f5._state).toBe('FINISHED');
    expect(f6.cancel()).toBe(false);
    expect(f6._state).toBe('FINISHED');
  });

  test('cancelled() is true only in the cancelled states', () => {
    expect([pending(), running(), cancelled(), cancelledAndNotified(), exceptionFuture(), successful()].map((f) => f.cancelled()))
      .toEqual([false, false, true, true, false, false]);
  });

  test('done() is true when finished or cancelled', () => {
    expect([pending(), running(), cancelled(), cancelledAndNotified(), exceptionFuture(), successful()].map((f) => f.done()))
      .toEqual([false, false, true, true, true, true]);
  });

  test('running() is true only while running', () => {
    expect([pending(), running(), cancelled(), cancelledAndNotified(), exceptionFuture(), successful()].map((f) => f.running()))
      .toEqual([false, true, false, false, false, false]);
  });

  describe('result', () => {
    test('with a zero timeout rejects at once with TimeoutError unless done', async () => {
      await expect(pending().result(0)).rejects.toThrow(TimeoutError);
      await expect(running().result(0)).rejects.toThrow(TimeoutError);
      await expect(cancelled().result(0)).rejects.toThrow(CancelledError);
      await expect(cancelledAndNotified().result(0)).rejects.toThrow(CancelledError);
      await expect(exceptionFuture().result(0)).rejects.toThrow('os error');
      expect(await successful().result(0)).toBe(42);
    });

    test('with a timeout rejects with TimeoutError once it passes', async () => {
      const started = performance.now();
      await expect(pending().result(20)).rejects.toThrow(TimeoutError);
      expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    });

    test('resolves when a result is set later', async () => {
      const f = createFuture<number>('PENDING');
      setTimeout(() => f.setResult(42), 5);
      expect(await f.result(5000)).toBe(42);
    });

    test('an untimed wait made while pending resumes in the first microtask after the future is settled', async () => {
      const order: string[] = [];
      const ok = createFuture<number>('PENDING');
      const failed = createFuture<number>('PENDING');
      void ok.result().then((value) => order.push(`value ${value}`));
      void failed.result().catch((error: Error) => order.push(`error ${error.message}`));
      ok.setResult(42);
      failed.setException(new Error('no'));
      queueMicrotask(() => order.push('next microtask'));
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(order).toEqual(['value 42', 'error no', 'next microtask']);
    });

    test('rejects with CancelledError when cancelled while waiting', async () => {
      const f = createFuture('PENDING');
      setTimeout(() => f.cancel(), 5);
      await expect(f.result(5000)).rejects.toThrow(CancelledError);
    });

    test('a negative or NaN timeout is a RangeError; a non-number a TypeError', async () => {
      await expect(pending().result(-1)).rejects.toThrow(RangeError);
      await expect(pending().result(NaN)).rejects.toThrow(RangeError);
      await expect(pending().exception(-5)).rejects.toThrow(RangeError);
      await expect(pending().result('1' as never)).rejects.toThrow(TypeError);
    });

    test('await future gives the result or throws its error', async () => {
      expect(await successful()).toBe(42);
      await expect((async () => await exceptionFuture())()).rejects.toThrow('os error');
      await expect((async () => await cancelled())()).rejects.toThrow(CancelledError);
    });
  });

  describe('exception', () => {
    test('with a zero timeout', async () => {
      await expect(pending().exception(0)).rejects.toThrow(TimeoutError);
      await expect(running().exception(0)).rejects.toThrow(TimeoutError);
      await expect(cancelled().exception(0)).rejects.toThrow(CancelledError);
      await expect(cancelledAndNotified().exception(0)).rejects.toThrow(CancelledError);
      expect(await exceptionFuture().exception(0)).toBeInstanceOf(Error);
      expect(await successful().exception(0)).toBeNull();
    });

    test('resolves when an exception is set later', async () => {
      const f = createFuture('PENDING');
      setTimeout(() => f.setException(new Error('later')), 5);
      expect(((await f.exception(5000)) as Error).message).toBe('later');
    });

    test('a thrown undefined or 0 is still an exception', async () => {
      const u = createFuture('FINISHED', { exception: undefined });
      const z = createFuture('FINISHED', { exception: 0 });
      expect(await u.exception()).toBeUndefined();
      await expect(u.result()).rejects.toBeUndefined();
      expect(await z.exception()).toBe(0);
      await expect(z.result()).rejects.toBe(0);
    });
  });

  test('setting a result or exception twice is an InvalidStateError', () => {
    for (const f of [successful(), exceptionFuture(), cancelled(), cancelledAndNotified()]) {
      expect(() => f.setResult(1)).toThrow(InvalidStateError);
      expect(() => f.setException(new Error('x'))).toThrow(InvalidStateError);
    }
    expect(successful()._state).toBe('FINISHED');
  });

  test('setRunningOrNotifyCancel moves pending to running, cancelled to notified, and refuses the rest', () => {
    const p = pending();
    expect(p.setRunningOrNotifyCancel()).toBe(true);
    expect(p.running()).toBe(true);
    const c = cancelled();
    expect(c.setRunningOrNotifyCancel()).toBe(false);
    expect(c._state).toBe('CANCELLED_AND_NOTIFIED');
    expect(() => running().setRunningOrNotifyCancel()).toThrow(RuntimeError);
    expect(() => successful().setRunningOrNotifyCancel()).toThrow(RuntimeError);
  });

  test('a failed future that nobody awaits raises no unhandled rejection', async () => {
    const seen: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void seen.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const f = new Future();
      f.setException(new Error('nobody looks'));
      f.addDoneCallback(() => {});
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(seen).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
