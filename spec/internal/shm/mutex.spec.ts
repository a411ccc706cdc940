import { describe, expect, test } from '@jest/globals';
import { CONTENDED, LOCKED, UNLOCKED, mutexLock, mutexLocked, mutexTryLock, mutexUnlock } from '../../../lib/internal/shm/mutex';
import { allocate } from '../../../lib/internal/shm/memory';
import { runSync, type ParkRequest } from '../../../lib/internal/shm/steps';
import { FOREVER, deadlineFor } from '../../../lib/internal/shm/deadline';

const AT = 1; // not at 0, so offsets are exercised

describe('the three-state mutex word', () => {
  test('an uncontended lock and unlock go UNLOCKED → LOCKED → UNLOCKED', () => {
    const i32 = allocate(2);
    expect(mutexTryLock(i32, AT)).toBe(true);
    expect(i32[AT]).toBe(LOCKED);
    expect(mutexTryLock(i32, AT)).toBe(false);
    expect(mutexLocked(i32, AT)).toBe(true);
    expect(mutexUnlock(i32, AT)).toBe(true);
    expect(i32[AT]).toBe(UNLOCKED);
    expect(i32[0]).toBe(0);
  });

  test('unlocking an unlocked mutex reports it and changes nothing', () => {
    const i32 = allocate(2);
    expect(mutexUnlock(i32, AT)).toBe(false);
    expect(i32[AT]).toBe(UNLOCKED);
  });

  test('a try-once on a held mutex does not mark it contended', () => {
    const i32 = allocate(2);
    mutexTryLock(i32, AT);
    expect(runSync(mutexLock(i32, AT, deadlineFor(0)))).toBe(false);
    expect(i32[AT]).toBe(LOCKED);
  });

  test('a waiter marks the word CONTENDED before it parks, and sleeps only on CONTENDED', () => {
    const i32 = allocate(2);
    mutexTryLock(i32, AT);
    const steps = mutexLock(i32, AT, FOREVER);
    const first = steps.next();
    expect(first.done).toBe(false);
    expect(first.value).toMatchObject({ index: AT, expected: CONTENDED });
    expect(i32[AT]).toBe(CONTENDED);
    // The owner unlocks (and would wake us); our wait returns; the retry takes the lock.
    expect(mutexUnlock(i32, AT)).toBe(true);
    expect(i32[AT]).toBe(UNLOCKED);
    const second = steps.next('ok');
    expect(second).toEqual({ done: true, value: true });
    expect(i32[AT]).toBe(CONTENDED); // owned, conservatively marked contended
  });

  test('a waiter that timed out leaves the word locked and usable', () => {
    const i32 = allocate(2);
    mutexTryLock(i32, AT);
    expect(runSync(mutexLock(i32, AT, deadlineFor(5)))).toBe(false);
    expect(mutexLocked(i32, AT)).toBe(true);
    expect(mutexUnlock(i32, AT)).toBe(true); // a needless wake at most
    expect(mutexTryLock(i32, AT)).toBe(true);
  });

  test('the park request names the word, the value and the deadline', () => {
    const i32 = allocate(2);
    mutexTryLock(i32, AT);
    const deadline = deadlineFor(10_000);
    const req = mutexLock(i32, AT, deadline).next().value as ParkRequest;
    expect(req.i32).toBe(i32);
    expect(req.deadline).toBe(deadline);
  });
});
