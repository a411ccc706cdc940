/**
 * threadkit/multiprocessing's Value and Array (SharedArray) across processes; scenarios ported from
 * CPython's `_test_multiprocessing.py` (_TestValue, _TestArray).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { Array as MpArray, Lock, Pool, RLock, SharedArray, Value, type Typecode } from 'threadkit/multiprocessing';
import { RuntimeError } from 'threadkit/errors';

let pool: Pool;
beforeAll(() => {
  pool = new Pool(4);
});
afterAll(() => pool.terminate());

/** For each typecode: a value to store, and what reads back (C wraps integers, as ctypes does). */
const SAMPLES: [Typecode, number | bigint, number | bigint][] = [
  ['b', -100, -100], ['B', 250, 250], ['h', -30_000, -30_000], ['H', 65_000, 65_000],
  ['i', -2_000_000_000, -2_000_000_000], ['I', 4_000_000_000, 4_000_000_000],
  ['l', -(2n ** 62n), -(2n ** 62n)], ['L', 2n ** 63n + 5n, 2n ** 63n + 5n],
  ['q', -123_456_789_012_345n, -123_456_789_012_345n], ['Q', 2n ** 64n - 1n, 2n ** 64n - 1n],
  ['f', 1.5, 1.5], ['d', Math.PI, Math.PI],
];

describe('Value (CPython _TestValue)', () => {
  test('every typecode: the initial value, defaults 0 / 0n, and a value written by a child read by the parent', async () => {
    for (const [code, v, back] of SAMPLES) {
      const big = typeof v === 'bigint';
      const zero = new Value(code as never);
      expect(zero.value).toBe(big ? 0n : 0);
      const value = new Value(code as never, v as never);
      expect(value.value).toBe(back);
      // The child doubles it (or, for unsigned wrap-around codes, writes a fixed value).
      const written = await pool.apply((val: Value<number | bigint>, w: number | bigint) => {
        val.value = w;
        return val.value;
      }, [value, big ? 7n : 7]);
      expect(written).toBe(big ? 7n : 7);
      expect(value.value).toBe(big ? 7n : 7);
    }
  });

  test('integers wrap as C integers do; wrong kinds of values are TypeErrors naming the argument', () => {
    expect(new Value('b', 300).value).toBe(44);
    expect(new Value('B', -1).value).toBe(255);
    expect(() => new Value('i', 1.5)).toThrow(/`initial` to be an integer/);
    expect(() => new Value('q', 1 as never)).toThrow(/`initial` to be a bigint/);
    expect(() => new Value('x' as never)).toThrow(TypeError);
    const v = new Value('d', 0);
    expect(() => (v.value = 'a' as never)).toThrow(/`value` to be a number/);
  });

  test('getLock: a new RLock by default, the given lock, and RuntimeError with lock: false (test_getobj_getlock)', () => {
    expect(new Value('i', 0).getLock()).toBeInstanceOf(RLock);
    const lock = new Lock();
    expect(new Value('i', 0, { lock }).getLock()).toBe(lock);
    expect(() => new Value('i', 0, { lock: false }).getLock()).toThrow(RuntimeError);
    expect(() => new Value('i', 0, { lock: 'yes' as never })).toThrow(/options\.lock/);
  });

  test('Value(lock: false) with an explicit Lock: 4 processes × 5 000 increments total exactly 20 000', async () => {
    const counter = new Value('i', 0, { lock: false });
    const lock = new Lock();
    await pool.map((args: [Value, Lock]) => {
      const [c, l] = args;
      for (let i = 0; i < 5_000; i++) l.withLockSync(() => { c.value += 1; });
    }, [[counter, lock], [counter, lock], [counter, lock], [counter, lock]], 1);
    expect(counter.value).toBe(20_000);
  });

  test('a Value and its lock travel together: the child holds the same lock', async () => {
    const value = new Value('i', 5);
    value.getLock().acquireSync();
    expect(await pool.apply((v: Value) => v.getLock().acquireSync(0), [value])).toBe(false);
    value.getLock().release();
    expect(inspect(value)).toBe("<Value 'i' 5>");
  });
});

describe('Array (CPython _TestArray)', () => {
  test('Array and SharedArray are the same class', () => {
    expect(MpArray).toBe(SharedArray);
  });

  test('every typecode: get, set, toArray and iteration in a child and the parent', async () => {
    for (const [code, v, back] of SAMPLES) {
      const big = typeof v === 'bigint';
      const zero = big ? 0n : 0;
      const arr = new SharedArray(code as never, 4);
      expect(arr.length).toBe(4);
      expect(arr.toArray()).toEqual([zero, zero, zero, zero]);
      arr.set(1, v as never);
      expect(arr.get(1)).toBe(back);
      const seen = await pool.apply((a: SharedArray<number | bigint>, w: number | bigint) => {
        a.set(-1, w); // from the end, as Python
        return [a.get(1), [...a], a.toArray(), a.length];
      }, [arr, big ? 9n : 9]);
      expect(seen).toEqual([back, [zero, back, zero, big ? 9n : 9], [zero, back, zero, big ? 9n : 9], 4]);
      expect([...arr]).toEqual([zero, back, zero, big ? 9n : 9]);
    }
  });

  test('from an iterable (test_array_from_size / from a list), with bad sizes, indices and elements refused', () => {
    expect(new SharedArray('i', [1, 2, 3]).toArray()).toEqual([1, 2, 3]);
    expect(new SharedArray('d', new Set([0.5, 1.5])).toArray()).toEqual([0.5, 1.5]);
    expect(new SharedArray('Q', [1n]).get(0)).toBe(1n);
    expect(() => new SharedArray('i', 0)).toThrow(RangeError);
    expect(() => new SharedArray('i', -1)).toThrow(RangeError);
    expect(() => new SharedArray('i', 1.5)).toThrow(TypeError);
    expect(() => new SharedArray('i', [1, 'a' as never])).toThrow(/sizeOrInitial\[1\]/);
    const arr = new SharedArray('i', 3);
    expect(() => arr.get(3)).toThrow(RangeError);
    expect(() => arr.get(-4)).toThrow(RangeError);
    expect(() => arr.set(0, 2n as never)).toThrow(TypeError);
    expect(inspect(new SharedArray('i', [1, 2]))).toBe("<Array 'i' [1, 2]>");
  });

  test('lock: false has no lock; a large array (1M doubles) is shared too', async () => {
    const raw = new SharedArray('d', 1_000_000, { lock: false });
    expect(() => raw.getLock()).toThrow(RuntimeError);
    await pool.apply((a: SharedArray) => { for (let i = 0; i < a.length; i += 1000) a.set(i, i / 2); }, [raw]);
    expect(raw.get(999_000)).toBe(499_500);
  });
});
