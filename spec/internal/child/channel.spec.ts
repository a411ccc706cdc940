/**
 * The children's IPC channel codec: on a 'json' channel, JSON as it is when exact, else v8's
 * serialization as text; on an 'advanced' one, the message itself. Always what was sent.
 */
import { describe, expect, test } from '@jest/globals';
import { fromChannel, toChannel } from '../../../lib/internal/child/channel';

/** What a 'json' channel delivers: JSON.parse of what was written. */
const overJson = (message: unknown): unknown => fromChannel(JSON.parse(JSON.stringify(toChannel(message, 'json'))), 'json');

describe("a 'json' channel", () => {
  test('a message JSON carries exactly goes as the same object', () => {
    const message = { type: 'results', results: [[3, { ok: true, value: [1, 'a', null, { b: false }] }, 0.25]] };
    expect(toChannel(message, 'json')).toBe(message);
    expect(overJson(message)).toEqual(message);
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
    expect(typeof toChannel(message, 'json')).toBe('string');
    const received = overJson(message);
    expect(received).toEqual(message);
    if (typeof message === 'object' && 'value' in message) expect(Object.is((received as { value: unknown }).value, message.value)).toBe(true);
  });

  test('a value v8 cannot serialize throws at the send (so the sender can tell which task it was)', () => {
    expect(() => toChannel({ type: 'results', results: [[1, { ok: true, value: () => 1 }, 0]] }, 'json')).toThrow();
  });
});

describe("an 'advanced' channel", () => {
  test('messages go and arrive as they are, strings included', () => {
    const message = { m: new Map([[1, 2]]) };
    expect(toChannel(message, 'advanced')).toBe(message);
    expect(toChannel('vAAA', 'advanced')).toBe('vAAA');
    expect(fromChannel('vAAA', 'advanced')).toBe('vAAA');
  });
});
