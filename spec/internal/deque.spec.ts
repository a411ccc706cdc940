/**
 * The one deque (lib/internal/deque.ts): a growable ring buffer. Its only tricky parts are the wrap
 * of the head around the end of the buffer, growing while wrapped, and putting a batch back in order.
 */
import { describe, expect, test } from '@jest/globals';
import { Deque } from '../../lib/internal/deque';

describe('Deque', () => {
  test('is FIFO through push and shift, and empty gives undefined', () => {
    const d = new Deque<number>();
    expect(d.shift()).toBeUndefined();
    expect(d.peek()).toBeUndefined();
    for (let i = 0; i < 5; i++) d.push(i);
    expect(d.length).toBe(5);
    expect(d.peek()).toBe(0);
    expect([d.shift(), d.shift(), d.shift(), d.shift(), d.shift(), d.shift()]).toEqual([0, 1, 2, 3, 4, undefined]);
    expect(d.length).toBe(0);
  });

  test('unshift puts an item in front, also when the head wraps around the buffer', () => {
    const d = new Deque<number>();
    d.push(1);
    d.unshift(0); // head wraps to the last slot of the initial buffer
    d.unshift(-1);
    expect([...d]).toEqual([-1, 0, 1]);
    expect(d.shift()).toBe(-1);
  });

  test('grows while wrapped and keeps the order', () => {
    const d = new Deque<number>();
    const model: number[] = [];
    // Interleave so that the head sits in the middle of the buffer when it grows.
    for (let i = 0; i < 10; i++) {
      d.push(i);
      model.push(i);
    }
    for (let i = 0; i < 7; i++) expect(d.shift()).toBe(model.shift());
    for (let i = 10; i < 100; i++) {
      if (i % 3 === 0) {
        d.unshift(-i);
        model.unshift(-i);
      } else {
        d.push(i);
        model.push(i);
      }
    }
    expect(d.length).toBe(model.length);
    expect([...d]).toEqual(model);
    const drained: number[] = [];
    for (let x = d.shift(); x !== undefined; x = d.shift()) drained.push(x);
    expect(drained).toEqual(model);
  });

  test('unshiftAll puts a batch back at the front in its own order', () => {
    const d = new Deque<string>();
    d.push('c');
    d.push('d');
    d.unshiftAll(['a', 'b']);
    expect(d.drain()).toEqual(['a', 'b', 'c', 'd']);
    expect(d.length).toBe(0);
  });

  test('drain empties it, and it works again afterwards, also after a large burst', () => {
    const d = new Deque<number>();
    for (let i = 0; i < 5000; i++) d.push(i);
    for (let i = 0; i < 5000; i++) expect(d.shift()).toBe(i);
    d.push(1);
    d.unshift(0);
    expect(d.drain()).toEqual([0, 1]);
    d.push(7);
    expect([...d]).toEqual([7]);
  });
});
