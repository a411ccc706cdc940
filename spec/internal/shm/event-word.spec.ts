import { describe, expect, test } from '@jest/globals';
import { SET_BIT, WAITERS, WORD, eventClear, eventIsSet, eventSet, eventWait } from '../../../lib/internal/shm/event-word';
import { allocate } from '../../../lib/internal/shm/memory';
import type { Block } from '../../../lib/internal/shm/block';
import { runSync } from '../../../lib/internal/shm/steps';
import { FOREVER, deadlineFor } from '../../../lib/internal/shm/deadline';

describe('the event word', () => {
  test('set raises the flag and starts a new generation; clear keeps the generation', () => {
    const b = allocate(2);
    eventSet(b, 0);
    const afterSet = b.i32[WORD];
    expect(afterSet & SET_BIT).toBe(SET_BIT);
    eventSet(b, 0); // already set: no new generation
    expect(b.i32[WORD]).toBe(afterSet);
    eventClear(b, 0);
    expect(eventIsSet(b, 0)).toBe(false);
    expect(b.i32[WORD]).toBe(afterSet & ~SET_BIT);
    eventSet(b, 0);
    expect(b.i32[WORD]).not.toBe(afterSet);
  });

  test('a waiter that had not yet been scheduled sees a set-then-clear as a set', () => {
    const b = allocate(2);
    const steps = eventWait(b, 0, FOREVER);
    const req = steps.next();
    expect(req.value).toMatchObject({ index: WORD, expected: 0 });
    expect(b.i32[WAITERS]).toBe(1);
    eventSet(b, 0);
    eventClear(b, 0);
    // The wait returns (woken, or the word no longer equals the expected value): true.
    expect(steps.next('ok')).toEqual({ done: true, value: true });
    expect(b.i32[WAITERS]).toBe(0);
  });

  test('a spurious wake-up with no set parks again', () => {
    const b = allocate(2);
    const steps = eventWait(b, 0, FOREVER);
    steps.next();
    eventClear(b, 0);
    expect(steps.next('ok').done).toBe(false);
  });

  test('a timed wait on a clear flag returns false and uncounts itself', () => {
    const b = allocate(2);
    expect(runSync(eventWait(b, 0, deadlineFor(5)))).toBe(false);
    expect(runSync(eventWait(b, 0, deadlineFor(0)))).toBe(false);
    expect(b.i32[WAITERS]).toBe(0);
  });
});
