/**
 * Timeout arguments, checked the same way by every blocking call (internal/shm/deadline.ts).
 */
import { describe, expect, test } from '@jest/globals';
import { Event, Lock } from 'threadkit/threading';
import { Future } from 'threadkit/futures';
import { ValueError } from 'threadkit/errors';

describe('timeout arguments', () => {
  test('a negative timeout is a ValueError that says to omit it to wait forever, as Python spells it -1', async () => {
    const lock = new Lock();
    for (const call of [() => lock.acquireSync(-1), () => new Event().waitSync(-0.5)]) {
      expect(call).toThrow(ValueError);
      expect(call).toThrow(/^Expected `timeout` to be a non-negative number of milliseconds, got -(1|0\.5); to wait forever, omit it or pass undefined \(Python's timeout=-1 or None\)$/);
    }
    await expect(new Future<number>().result(-1)).rejects.toThrow('to wait forever, omit it or pass undefined');
    expect(lock.locked()).toBe(false);
  });

  test('NaN is a ValueError without the hint (it is not a way of saying forever)', () => {
    expect(() => new Lock().acquireSync(NaN)).toThrow(ValueError);
    expect(() => new Lock().acquireSync(NaN)).toThrow(/^Expected `timeout` to be a non-negative number of milliseconds, got NaN$/);
  });
});
