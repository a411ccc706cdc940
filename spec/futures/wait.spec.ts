/**
 * wait(): CPython's test_wait.py scenarios over futures in every state (the same scenarios with
 * real executor tasks are in executor-suite.ts).
 */
import { describe, expect, test } from '@jest/globals';
import { ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, Future, wait } from 'threadkit/futures';

const successful = (v: unknown = 42): Future => {
  const f = new Future();
  f.setResult(v);
  return f;
};
const failed = (e: unknown = new Error('x')): Future => {
  const f = new Future();
  f.setException(e);
  return f;
};
const cancelledAndNotified = (): Future => {
  const f = new Future();
  f.cancel();
  f.setRunningOrNotifyCancel();
  return f;
};
const running = (): Future => {
  const f = new Future();
  f.setRunningOrNotifyCancel();
  return f;
};

describe('wait', () => {
  test('FIRST_COMPLETED returns when one future completes', async () => {
    const f1 = running();
    const f2 = running();
    setTimeout(() => f1.setResult(1), 5);
    const { done, notDone } = await wait([f1, f2], { returnWhen: FIRST_COMPLETED });
    expect(done).toEqual(new Set([f1]));
    expect(notDone).toEqual(new Set([f2]));
  });

  test('FIRST_COMPLETED returns at once when a future is already done', async () => {
    const ok = successful();
    const pend = running();
    const { done, notDone } = await wait([ok, pend, cancelledAndNotified()].slice(0, 2), { returnWhen: FIRST_COMPLETED });
    expect(done).toEqual(new Set([ok]));
    expect(notDone).toEqual(new Set([pend]));
  });

  test('FIRST_EXCEPTION returns at the first failure, not at a success', async () => {
    const ok = running();
    const bad = running();
    const slow = running();
    setTimeout(() => ok.setResult(1), 2);
    setTimeout(() => bad.setException(new Error('bad')), 10);
    const { done, notDone } = await wait([ok, bad, slow], { returnWhen: FIRST_EXCEPTION });
    expect(done).toEqual(new Set([ok, bad]));
    expect(notDone).toEqual(new Set([slow]));
  });

  test('FIRST_EXCEPTION counts a thrown undefined as an exception', async () => {
    const bad = failed(undefined);
    const slow = running();
    const { done } = await wait([bad, slow], { returnWhen: FIRST_EXCEPTION });
    expect(done).toEqual(new Set([bad]));
  });

  test('FIRST_EXCEPTION with no failure waits for all', async () => {
    const a = running();
    const b = new Future();
    setTimeout(() => a.setResult(1), 2);
    setTimeout(() => {
      b.cancel();
      b.setRunningOrNotifyCancel();
    }, 4);
    const { done, notDone } = await wait([a, b], { returnWhen: FIRST_EXCEPTION });
    expect(done).toEqual(new Set([a, b]));
    expect(notDone.size).toBe(0);
  });

  test('a cancelled future is not done until its cancellation is notified (test_first_completed)', async () => {
    const cancelled = new Future();
    cancelled.cancel();
    const f1 = running();
    const f2 = running();
    setTimeout(() => f1.setResult(42), 2);
    const first = await wait([cancelled, f1, f2], { returnWhen: FIRST_COMPLETED });
    expect(first.done).toEqual(new Set([f1]));
    expect(first.notDone).toEqual(new Set([cancelled, f2]));
    // Notifying completes it: a waiter already waiting wakes up.
    const all = wait([cancelled]);
    setTimeout(() => expect(cancelled.setRunningOrNotifyCancel()).toBe(false), 2);
    expect((await all).done).toEqual(new Set([cancelled]));
  });

  test('FIRST_EXCEPTION with some already complete leaves a cancelled, unnotified future pending (test_first_exception_some_already_complete)', async () => {
    const ok = successful();
    const cancelled = new Future();
    cancelled.cancel();
    const notified = cancelledAndNotified();
    const bad = running();
    const slow = running();
    setTimeout(() => bad.setException(new RangeError('division by zero')), 2);
    const { done, notDone } = await wait([ok, cancelled, notified, bad, slow], { returnWhen: FIRST_EXCEPTION });
    expect(done).toEqual(new Set([ok, notified, bad]));
    expect(notDone).toEqual(new Set([cancelled, slow]));
  });

  test('ALL_COMPLETED (the default) waits for every future, cancelled and failed ones included', async () => {
    const fs = [successful(), cancelledAndNotified(), failed(), running(), running()];
    setTimeout(() => fs[3].setResult(3), 2);
    setTimeout(() => fs[4].setException(new Error('4')), 4);
    const { done, notDone } = await wait(fs);
    expect(done).toEqual(new Set(fs));
    expect(notDone.size).toBe(0);
    expect((await wait(fs, { returnWhen: ALL_COMPLETED })).done.size).toBe(5);
  });

  test('a timeout returns the partition as it is then, without throwing', async () => {
    const ok = successful();
    const stuck = running();
    const { done, notDone } = await wait([ok, stuck], { timeout: 20 });
    expect(done).toEqual(new Set([ok]));
    expect(notDone).toEqual(new Set([stuck]));
  });

  test('a zero timeout only looks', async () => {
    const stuck = running();
    const { done, notDone } = await wait([stuck], { timeout: 0 });
    expect(done.size).toBe(0);
    expect(notDone.size).toBe(1);
  });

  test('duplicates count once and an empty input returns at once', async () => {
    const ok = successful();
    const { done, notDone } = await wait([ok, ok, ok]);
    expect(done.size).toBe(1);
    expect(notDone.size).toBe(0);
    const empty = await wait([]);
    expect(empty.done.size + empty.notDone.size).toBe(0);
  });

  test('bad arguments are rejected with TypeError or RangeError', async () => {
    await expect(wait(42 as never)).rejects.toThrow(TypeError);
    await expect(wait([1] as never)).rejects.toThrow(TypeError);
    await expect(wait([], { timeout: -1 })).rejects.toThrow(RangeError);
    await expect(wait([], { returnWhen: 'SOMETIMES' as never })).rejects.toThrow(RangeError);
  });
});
