/** The children's IPC channel codec: JSON as it is when exact, else v8's serialization as text; always what was sent. */
import { describe, expect, test } from '@jest/globals';
import { fromChannel, toChannel } from '../../../lib/internal/child/channel';

describe('toChannel / fromChannel', () => {
  test('a message JSON carries exactly goes as the same object', () => {
    const message = { type: 'results', results: [[3, { ok: true, value: [1, 'a', null, { b: false }] }, 0.25]] };
    expect(toChannel(message)).toBe(message);
    expect(fromChannel(JSON.parse(JSON.stringify(toChannel(message))))).toEqual(message);
  });

  test.each([
    ['a Map', { type: 'tasks', args: [new Map([[1, 2]])] }],
    ['undefined', { type: 'results', results: [[1, { ok: true, value: undefined }, 1]] }],
    ['-0', { value: -0 }],
    ['NaN', [NaN]],
    ['a BigInt', { n: 2n ** 70n }],
    ['a typed array', { a: new Float32Array([1.5]) }],
    ['a Date', { d: new Date(7) }],
    ['a sparse array', { s: [1, , 3] }],
    ['a string', 'j{"not":"json"}'],
  ])('a message with %s goes as a string and arrives equal, types kept', (_, message) => {
    const onWire = toChannel(message);
    expect(typeof onWire).toBe('string');
    // The channel itself is JSON: what it delivers is JSON.parse of what was written.
    const received = fromChannel(JSON.parse(JSON.stringify(onWire)));
    expect(received).toEqual(message);
    if (typeof message === 'object' && 'value' in message) expect(Object.is((received as { value: unknown }).value, message.value)).toBe(true);
  });

  test('a value v8 cannot serialize throws at the send (so the sender can tell which task it was)', () => {
    expect(() => toChannel({ type: 'results', results: [[1, { ok: true, value: () => 1 }, 0]] })).toThrow();
  });
});
