import { describe, expect, test } from '@jest/globals';
import { CONTENDED, LOCKED, UNLOCKED, mutexLock, mutexLocked, mutexTryLock, mutexUnlock } from '../../../lib/internal/shm/mutex';
import { allocate } from '../../../lib/internal/shm/memory';
import type { Block } from '../../../lib/internal/shm/block';
import { runSync, type ParkRequest } from '../../../lib/internal/shm/steps';
import { FOREVER, deadlineFor } from '../../../lib/internal/shm/deadline';

const AT = 1; // not at 0, so offsets are exercised

describe('the three-state mutex word', () => {
  test('an uncontended lock and unlock go UNLOCKED → LOCKED → UNLOCKED', () => {
    const b = allocate(2);
    expect(mutexTryLock(b, AT)).toBe(true);
    expect(b.i32[AT]).toBe(LOCKED);
    expect(mutexTryLock(b, AT)).toBe(false);
    expect(mutexLocked(b, AT)).toBe(true);
    expect(mutexUnlock(b, AT)).toBe(true);
    expect(b.i32[AT]).toBe(UNLOCKED);
    expect(b.i32[0]).toBe(0);
  });

  test('unlocking an unlocked mutex reports it and changes nothing', () => {
    const b = allocate(2);
    expect(mutexUnlock(b, AT)).toBe(false);
    expect(b.i32[AT]).toBe(UNLOCKED);
  });

  test('a try-once on a held mutex does not mark it contended', () => {
    const b = allocate(2);
    mutexTryLock(b, AT);
    expect(runSync(mutexLock(b, AT, deadlineFor(0)))).toBe(false);
    expect(b.i32[AT]).toBe(LOCKED);
  });

  test('a waiter marks the word CONTENDED before it parks, and sleeps only on CONTENDED', () => {
    const b = allocate(2);
    mutexTryLock(b, AT);
    const steps = mutexLock(b, AT, FOREVER);
    const first = steps.next();
    expect(first.done).toBe(false);
    expect(first.value).toMatchObject({ index: AT, expected: CONTENDED });
    expect(b.i32[AT]).toBe(CONTENDED);
    // The owner unlocks (and would wake us); our wait returns; the retry takes the lock.
    expect(mutexUnlock(b, AT)).toBe(true);
    expect(b.i32[AT]).toBe(UNLOCKED);
    const second = steps.next('ok');
    expect(second).toEqual({ done: true, value: true });
    expect(b.i32[AT]).toBe(CONTENDED); // owned, conservatively marked contended
  });

  test('a waiter that timed out leaves the word locked and usable', () => {
    const b = allocate(2);
    mutexTryLock(b, AT);
    expect(runSync(mutexLock(b, AT, deadlineFor(5)))).toBe(false);
    expect(mutexLocked(b, AT)).toBe(true);
    expect(mutexUnlock(b, AT)).toBe(true); // a needless wake at most
    expect(mutexTryLock(b, AT)).toBe(true);
  });

  test('the park request names the word, the value and the deadline', () => {
    const b = allocate(2);
    mutexTryLock(b, AT);
    const deadline = deadlineFor(10_000);
    const req = mutexLock(b, AT, deadline).next().value as ParkRequest;
    expect(req.block).toBe(b);
    expect(req.deadline).toBe(deadline);
  });
});
