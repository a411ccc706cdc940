import { describe, expect, test } from '@jest/globals';
import { VALUE, WAITERS, semAcquire, semRelease, semTryAcquire } from '../../../lib/internal/shm/counting-semaphore';
import { allocate } from '../../../lib/internal/shm/memory';
import type { Block } from '../../../lib/internal/shm/block';
import { runSync } from '../../../lib/internal/shm/steps';
import { FOREVER, deadlineFor } from '../../../lib/internal/shm/deadline';

describe('the counting semaphore', () => {
  test('acquire takes permits until none are left', () => {
    const b = allocate(2);
    semRelease(b, 0, 2, 10);
    expect(semTryAcquire(b, 0)).toBe(true);
    expect(semTryAcquire(b, 0)).toBe(true);
    expect(semTryAcquire(b, 0)).toBe(false);
    expect(b.i32[VALUE]).toBe(0);
  });

  test('a release that would pass the maximum is refused whole', () => {
    const b = allocate(2);
    expect(semRelease(b, 0, 3, 3)).toBe(true);
    expect(semRelease(b, 0, 1, 3)).toBe(false);
    expect(b.i32[VALUE]).toBe(3);
  });

  test('a waiter is counted while it parks and uncounted after, even when it times out', () => {
    const b = allocate(2);
    const steps = semAcquire(b, 0, FOREVER);
    expect(steps.next().value).toMatchObject({ index: VALUE, expected: 0 });
    expect(b.i32[WAITERS]).toBe(1);
    semRelease(b, 0, 1, 10);
    expect(steps.next('ok')).toEqual({ done: true, value: true });
    expect(b.i32[WAITERS]).toBe(0);
    expect(runSync(semAcquire(b, 0, deadlineFor(5)))).toBe(false);
    expect(b.i32[WAITERS]).toBe(0);
  });

  test('a waiter whose permit was taken by a newcomer parks again', () => {
    const b = allocate(2);
    const steps = semAcquire(b, 0, FOREVER);
    steps.next();
    semRelease(b, 0, 1, 10);
    expect(semTryAcquire(b, 0)).toBe(true); // barging newcomer
    const again = steps.next('ok');
    expect(again.done).toBe(false);
    expect(b.i32[WAITERS]).toBe(1);
  });
});
