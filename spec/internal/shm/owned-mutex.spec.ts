/**
 * The owned mutex (lib/internal/shm/owned-mutex.ts): the word names the holding process, waiters
 * mark it and sleep on the marked value, and a holder whose process is gone is taken over.
 */
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { FREE, ownedHolder, ownedLock, ownedLockSync, ownedTryLock, ownedUnlock } from '../../../lib/internal/shm/owned-mutex';
import { allocate } from '../../../lib/internal/shm/memory';
import { runAsync, runSync } from '../../../lib/internal/shm/steps';
import { deadlineFor, FOREVER } from '../../../lib/internal/shm/deadline';
import { WATCH_MS } from '../../../lib/internal/arena/watch';

const AT = 1;

/** The pid of a process that has ended (and was reaped). */
function deadPid(): number {
  const run = spawnSync(process.execPath, ['-e', '0']);
  expect(run.status).toBe(0);
  return run.pid!;
}

describe('the owned mutex word', () => {
  test('the word holds the holder\'s pid while locked, and 0 when free', () => {
    const b = allocate(2);
    expect(ownedTryLock(b, AT)).toBe(true);
    expect(b.i32[AT]).toBe(process.pid * 2);
    expect(ownedHolder(b, AT)).toBe(process.pid);
    expect(ownedTryLock(b, AT)).toBe(false);
    ownedUnlock(b, AT);
    expect(b.i32[AT]).toBe(FREE);
    expect(b.i32[0]).toBe(0);
  });

  test('a try-once on a held lock neither waits nor marks the word', () => {
    const b = allocate(2);
    ownedTryLock(b, AT);
    const started = performance.now();
    expect(runSync(ownedLock(b, AT, deadlineFor(0)))).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(b.i32[AT]).toBe(process.pid * 2);
  });

  test('a waiter marks the word (bit 0) before it parks, and sleeps only on the marked value', () => {
    const b = allocate(2);
    ownedTryLock(b, AT);
    const steps = ownedLock(b, AT, FOREVER);
    let step = steps.next();
    // It may spin first and see nothing change: then it marks and parks.
    expect(step.done).toBe(false);
    expect(step.value).toMatchObject({ index: AT, expected: process.pid * 2 + 1 });
    expect(b.i32[AT]).toBe(process.pid * 2 + 1);
    ownedUnlock(b, AT);
    step = steps.next('ok');
    expect(step).toEqual({ done: true, value: 'locked' });
    expect(b.i32[AT]).toBe(process.pid * 2 + 1); // taken with the waiters bit: one needless wake at most
    ownedUnlock(b, AT);
    expect(b.i32[AT]).toBe(FREE);
  });

  test('a lock whose holder process is gone is taken over after about a second, and says so', async () => {
    const b = allocate(2);
    const dead = deadPid();
    b.i32[AT] = dead * 2; // held by a process that was killed inside its critical section
    const started = performance.now();
    expect(await runAsync(ownedLock(b, AT, deadlineFor(10_000)))).toBe('taken-over');
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(WATCH_MS - 50);
    expect(took).toBeLessThan(WATCH_MS * 5);
    expect(ownedHolder(b, AT)).toBe(process.pid);
    ownedUnlock(b, AT);
    expect(ownedLockSync(b, AT)).toBe('locked');
  });

  test('a lock held by a live process is never taken over: the waiter times out', () => {
    const b = allocate(2);
    b.i32[AT] = process.ppid * 2; // our parent: alive for the whole test
    expect(runSync(ownedLock(b, AT, deadlineFor(WATCH_MS * 1.5)))).toBeUndefined();
    expect(ownedHolder(b, AT)).toBe(process.ppid);
  });
});
