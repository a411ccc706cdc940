import { describe, expect, test } from '@jest/globals';
import { VALUE, WAITERS, semAcquire, semRelease, semTryAcquire } from '../../../lib/internal/shm/counting-semaphore';
import { allocate } from '../../../lib/internal/shm/memory';
import { runSync } from '../../../lib/internal/shm/steps';
import { FOREVER, deadlineFor } from '../../../lib/internal/shm/deadline';

describe('the counting semaphore', () => {
  test('acquire takes permits until none are left', () => {
    const i32 = allocate(2);
    semRelease(i32, 0, 2, 10);
    expect(semTryAcquire(i32, 0)).toBe(true);
    expect(semTryAcquire(i32, 0)).toBe(true);
    expect(semTryAcquire(i32, 0)).toBe(false);
    expect(i32[VALUE]).toBe(0);
  });

  test('a release that would pass the maximum is refused whole', () => {
    const i32 = allocate(2);
    expect(semRelease(i32, 0, 3, 3)).toBe(true);
    expect(semRelease(i32, 0, 1, 3)).toBe(false);
    expect(i32[VALUE]).toBe(3);
  });

  test('a waiter is counted while it parks and uncounted after, even when it times out', () => {
    const i32 = allocate(2);
    const steps = semAcquire(i32, 0, FOREVER);
    expect(steps.next().value).toMatchObject({ index: VALUE, expected: 0 });
    expect(i32[WAITERS]).toBe(1);
    semRelease(i32, 0, 1, 10);
    expect(steps.next('ok')).toEqual({ done: true, value: true });
    expect(i32[WAITERS]).toBe(0);
    expect(runSync(semAcquire(i32, 0, deadlineFor(5)))).toBe(false);
    expect(i32[WAITERS]).toBe(0);
  });

  test('a waiter whose permit was taken by a newcomer parks again', () => {
    const i32 = allocate(2);
    const steps = semAcquire(i32, 0, FOREVER);
    steps.next();
    semRelease(i32, 0, 1, 10);
    expect(semTryAcquire(i32, 0)).toBe(true); // barging newcomer
    const again = steps.next('ok');
    expect(again.done).toBe(false);
    expect(i32[WAITERS]).toBe(1);
  });
});
