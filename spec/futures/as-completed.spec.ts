/**
 * asCompleted(): CPython's test_as_completed.py scenarios over futures in every state (with real
 * executor tasks in executor-suite.ts).
 */
import { describe, expect, test } from '@jest/globals';
import { asCompleted, Future, type CompletedFuture } from 'threadkit/futures';
import { TimeoutError } from 'threadkit/errors';

const successful = (v: unknown = 42): Future => {
  const f = new Future();
  f.setResult(v);
  return f;
};
const failed = (): Future => {
  const f = new Future();
  f.setException(new Error('x'));
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

async function collect<T>(it: AsyncIterable<CompletedFuture<T>>): Promise<Array<CompletedFuture<T>>> {
  const out: Array<CompletedFuture<T>> = [];
  for await (const f of it) out.push(f);
  return out;
}

describe('asCompleted', () => {
  test('yields futures (not values), already-done ones first, then in completion order', async () => {
    const done1 = successful(1);
    const later = running();
    const sooner = running();
    setTimeout(() => sooner.setResult('sooner'), 2);
    setTimeout(() => later.setResult('later'), 15);
    const seen = await collect(asCompleted([later, done1, sooner]));
    expect(seen).toEqual([done1, sooner, later]);
    expect(seen[0]).toBeInstanceOf(Future);
  });

  test('a zero timeout yields the done futures, then throws TimeoutError naming the unfinished count', async () => {
    const fs = [cancelledAndNotified(), failed(), successful(), running()];
    const seen: unknown[] = [];
    const run = async (): Promise<void> => {
      for await (const f of asCompleted(fs, 0)) seen.push(f);
    };
    await expect(run()).rejects.toThrow(TimeoutError);
    await expect(collect(asCompleted(fs, 0))).rejects.toThrow('1 (of 4) futures unfinished');
    expect(new Set(seen)).toEqual(new Set(fs.slice(0, 3)));
  });

  test('a duplicate future is yielded once', async () => {
    const a = successful();
    const b = running();
    setTimeout(() => b.setResult(2), 2);
    const seen = await collect(asCompleted([a, a, b, b, a]));
    expect(seen).toEqual([a, b]);
  });

  test('a future cancelled and notified while waiting counts as completed', async () => {
    const f = running();
    const g = new Future();
    setTimeout(() => {
      g.cancel();
      g.setRunningOrNotifyCancel();
    }, 2);
    setTimeout(() => f.setResult(1), 6);
    expect(await collect(asCompleted([f, g]))).toEqual([g, f]);
  });

  test('a future cancelled but never notified is not yielded (as Python)', async () => {
    const ok = successful();
    const cancelled = new Future();
    cancelled.cancel();
    const seen: unknown[] = [];
    const run = async (): Promise<void> => {
      for await (const f of asCompleted([ok, cancelled], 20)) seen.push(f);
    };
    await expect(run()).rejects.toThrow('1 (of 2) futures unfinished');
    expect(seen).toEqual([ok]);
  });

  test('the timeout counts from the call', async () => {
    const stuck = running();
    const it = asCompleted([stuck], 20)[Symbol.asyncIterator]();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await expect(it.next()).rejects.toThrow('1 (of 1) futures unfinished');
  });

  test('leaving the loop early stops listening', async () => {
    const a = successful();
    const b = running();
    for await (const f of asCompleted([a, b])) {
      expect(f).toBe(a);
      break;
    }
    b.setResult(1);
    expect(b.done()).toBe(true);
  });

  test('bad arguments are a TypeError or RangeError at the call', () => {
    expect(() => asCompleted(5 as never)).toThrow(TypeError);
    expect(() => asCompleted([{}] as never)).toThrow(TypeError);
    expect(() => asCompleted([], -1)).toThrow(RangeError);
  });
});
