import { describe, expect, test } from '@jest/globals';
import { SET_BIT, WAITERS, WORD, eventClear, eventIsSet, eventSet, eventWait } from '../../../lib/internal/shm/event-word';
import { allocate } from '../../../lib/internal/shm/memory';
import { runSync } from '../../../lib/internal/shm/steps';
import { FOREVER, deadlineFor } from '../../../lib/internal/shm/deadline';

describe('the event word', () => {
  test('set raises the flag and starts a new generation; clear keeps the generation', () => {
    const i32 = allocate(2);
    eventSet(i32, 0);
    const afterSet = i32[WORD];
    expect(afterSet & SET_BIT).toBe(SET_BIT);
    eventSet(i32, 0); // already set: no new generation
    expect(i32[WORD]).toBe(afterSet);
    eventClear(i32, 0);
    expect(eventIsSet(i32, 0)).toBe(false);
    expect(i32[WORD]).toBe(afterSet & ~SET_BIT);
    eventSet(i32, 0);
    expect(i32[WORD]).not.toBe(afterSet);
  });

  test('a waiter that had not yet been scheduled sees a set-then-clear as a set', () => {
    const i32 = allocate(2);
    const steps = eventWait(i32, 0, FOREVER);
    const req = steps.next();
    expect(req.value).toMatchObject({ index: WORD, expected: 0 });
    expect(i32[WAITERS]).toBe(1);
    eventSet(i32, 0);
    eventClear(i32, 0);
    // The wait returns (woken, or the word no longer equals the expected value): true.
    expect(steps.next('ok')).toEqual({ done: true, value: true });
    expect(i32[WAITERS]).toBe(0);
  });

  test('a spurious wake-up with no set parks again', () => {
    const i32 = allocate(2);
    const steps = eventWait(i32, 0, FOREVER);
    steps.next();
    eventClear(i32, 0);
    expect(steps.next('ok').done).toBe(false);
  });

  test('a timed wait on a clear flag returns false and uncounts itself', () => {
    const i32 = allocate(2);
    expect(runSync(eventWait(i32, 0, deadlineFor(5)))).toBe(false);
    expect(runSync(eventWait(i32, 0, deadlineFor(0)))).toBe(false);
    expect(i32[WAITERS]).toBe(0);
  });
});
