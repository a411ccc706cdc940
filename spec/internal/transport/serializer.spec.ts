/**
 * The serializer for shared memory (lib/internal/transport/serializer.ts): the kinds that skip v8,
 * v8 with typed arrays as host objects, SharedArrayBuffers through a shelf, handles of shared
 * objects, and the TypeErrors for what cannot go.
 */
import { describe, expect, test } from '@jest/globals';
import {
  BUFFER, BYTES, FALSE, NULL, NUMBER, STRING, TRUE, UNDEFINED, V8, V8_BUFFERS, deserialize, serialize,
  type BufferShelf, type SerializeOptions,
} from '../../../lib/internal/transport/serializer';
import { Lock } from 'threadkit/threading';

/** A shelf over a Map (the native one is tested through the queues). */
function mapShelf(): BufferShelf & { readonly size: number } {
  const map = new Map<number, SharedArrayBuffer>();
  let next = 1;
  return {
    get size() {
      return map.size;
    },
    put: (b) => {
      map.set(next, b);
      return next++;
    },
    take: (id) => {
      const b = map.get(id);
      map.delete(id);
      return b;
    },
    drop: (id) => {
      map.delete(id);
    },
  };
}

/** Serializes `value`, writes it at `offset` of a fresh buffer, reads it back. */
function roundTrip(value: unknown, options?: SerializeOptions, offset = 8): { kind: number; length: number; out: unknown } {
  const encoded = serialize(value, options);
  const u8 = Buffer.alloc(offset + encoded.length + 8);
  encoded.write({ u8 }, offset);
  return { kind: encoded.kind, length: encoded.length, out: deserialize(encoded.kind, { u8 }, offset, encoded.length, options) };
}

describe('kinds that skip v8', () => {
  test.each([
    ['undefined', undefined, UNDEFINED, 0],
    ['null', null, NULL, 0],
    ['true', true, TRUE, 0],
    ['false', false, FALSE, 0],
    ['a number', 1.5, NUMBER, 8],
    ['NaN', NaN, NUMBER, 8],
    ['-Infinity', -Infinity, NUMBER, 8],
    ['a string', 'héllo wörld ✓', STRING, Buffer.byteLength('héllo wörld ✓')],
    ['the empty string', '', STRING, 0],
  ])('%s comes back as it went, with kind and length as documented', (_, value, kind, length) => {
    const { kind: k, length: l, out } = roundTrip(value);
    expect(k).toBe(kind);
    expect(l).toBe(length);
    expect(Object.is(out, value)).toBe(true);
  });

  test('a number is written and read at any offset, aligned or not (batch slots use odd offsets)', () => {
    for (const offset of [0, 5, 8, 13]) expect(roundTrip(-0.1, undefined, offset).out).toBe(-0.1);
  });

  test('a Uint8Array and a Buffer come back as copies of their own bytes, with their class', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const a = roundTrip(bytes);
    expect(a.kind).toBe(BYTES);
    expect(a.out).toEqual(bytes);
    expect(a.out).not.toBe(bytes);
    expect(Object.prototype.toString.call(a.out)).toBe('[object Uint8Array]');
    const buf = Buffer.from('pooled and small'); // a view into Node's 8 KiB pool
    const b = roundTrip(buf);
    expect(b.kind).toBe(BUFFER);
    expect(b.length).toBe(buf.length);
    expect(Buffer.isBuffer(b.out)).toBe(true);
    expect((b.out as Buffer).toString()).toBe('pooled and small');
  });
});

describe('values through v8', () => {
  test('objects, arrays, Maps, Sets, Dates, RegExps, BigInts and errors are structured-cloned', () => {
    const value = {
      list: [1, 'two', { three: 3 }], map: new Map([[1, 'a']]), set: new Set(['x']), when: new Date(5),
      re: /ab+c/gi, big: 2n ** 70n, err: new RangeError('bad'),
    };
    const { kind, out } = roundTrip(value);
    expect(kind).toBe(V8);
    const o = out as typeof value;
    expect(o.list).toEqual(value.list);
    expect([...o.map]).toEqual([[1, 'a']]);
    expect([...o.set]).toEqual(['x']);
    expect(o.when.getTime()).toBe(5);
    expect(String(o.re)).toBe('/ab+c/gi');
    expect(o.big).toBe(2n ** 70n);
    expect(o.err.name).toBe('RangeError');
    expect(o.err.message).toBe('bad');
  });

  test('cycles and shared references survive', () => {
    const shared = { n: 1 };
    const value: Record<string, unknown> = { a: shared, b: shared };
    value.self = value;
    const out = roundTrip(value).out as Record<string, unknown>;
    expect(out.a).toBe(out.b);
    expect(out.self).toBe(out);
  });

  test('a typed array over part of an ArrayBuffer carries only its own bytes', () => {
    const big = new ArrayBuffer(1 << 20);
    const view = new Float64Array(big, 8, 2);
    view.set([1.5, 2.5]);
    const { length, out } = roundTrip({ view });
    expect(length).toBeLessThan(200);
    expect(Array.from((out as { view: Float64Array }).view)).toEqual([1.5, 2.5]);
  });
});

describe('shared memory', () => {
  test('SharedArrayBuffers and views over them arrive as the same memory, through the shelf', () => {
    const buffers = mapShelf();
    const sab = new SharedArrayBuffer(16);
    const value = { sab, again: sab, view: new Int32Array(sab, 4, 2), bytes: Buffer.from(sab, 8, 4) };
    const encoded = serialize(value, { buffers });
    expect(encoded.kind).toBe(V8_BUFFERS);
    expect(buffers.size).toBe(1); // one buffer, named once however often it appears
    const u8 = Buffer.alloc(encoded.length);
    encoded.write({ u8 }, 0);
    const out = deserialize(encoded.kind, { u8 }, 0, encoded.length, { buffers }) as typeof value;
    expect(buffers.size).toBe(0); // taken off the shelf
    expect(out.sab).toBe(sab);
    expect(out.again).toBe(sab);
    expect(out.view.buffer).toBe(sab);
    expect([out.view.byteOffset, out.view.length]).toEqual([4, 2]);
    out.view[0] = 7;
    expect(new Int32Array(sab)[1]).toBe(7);
    expect(Buffer.isBuffer(out.bytes)).toBe(true);
    expect(out.bytes.buffer).toBe(sab);
  });

  test('a threading Lock inside a value arrives as a working Lock over the same word', () => {
    const lock = new Lock();
    const { out } = roundTrip({ lock }, { buffers: mapShelf() });
    const revived = (out as { lock: Lock }).lock;
    expect(revived).toBeInstanceOf(Lock);
    lock.acquireSync();
    expect(revived.locked()).toBe(true);
    revived.release();
    expect(lock.locked()).toBe(false);
  });

  test('a write that is abandoned gives its buffers back to the shelf', () => {
    const buffers = mapShelf();
    const encoded = serialize([new SharedArrayBuffer(8), new SharedArrayBuffer(8)], { buffers });
    expect(buffers.size).toBe(2);
    encoded.abandon({ buffers });
    expect(buffers.size).toBe(0);
  });

  test('without a shelf, shared memory is refused with a TypeError', () => {
    expect(() => serialize({ x: new Int32Array(new SharedArrayBuffer(4)) }, { what: 'result' })).toThrow(TypeError);
    expect(() => serialize({ x: new Int32Array(new SharedArrayBuffer(4)) }, { what: 'result' })).toThrow(/^result cannot be sent to another thread/);
  });

  test('across processes, threading objects and SharedArrayBuffers are refused, naming what to use instead', () => {
    const opts = { crossProcess: true, what: 'item', buffers: mapShelf() };
    expect(() => serialize({ a: [1, new Lock()] }, opts)).toThrow(/^item \(item\.a\[1\]\) cannot be sent to another process: threading\.Lock .* use Lock from threadkit\/multiprocessing/);
    expect(() => serialize({ s: new SharedArrayBuffer(4) }, opts)).toThrow(/use Value or Array from threadkit\/multiprocessing/);
  });
});

describe('what cannot be sent', () => {
  test('a function or a symbol inside a value is a TypeError naming where it is', () => {
    expect(() => serialize({ a: { f() {} } }, { what: 'item' })).toThrow(TypeError);
    expect(() => serialize({ a: { f() {} } }, { what: 'item' })).toThrow(/^item \(item\.a\.f\) cannot be sent to another thread: functions cannot be cloned/);
    expect(() => serialize([Symbol('s')], { what: 'item' })).toThrow(/^item \(item\[0\]\) cannot be sent/);
  });
});
