import { afterEach, describe, expect, test } from '@jest/globals';
import {
  OVERFLOW, conditionEnqueue, conditionNotify, conditionSleep, conditionWaiting, conditionWords,
} from '../../../lib/internal/shm/condition-queue';
import { allocate } from '../../../lib/internal/shm/memory';
import type { Block } from '../../../lib/internal/shm/block';
import { runSync } from '../../../lib/internal/shm/steps';
import { FOREVER, deadlineFor } from '../../../lib/internal/shm/deadline';
import { counters, spawn, stopAll } from '../../fixtures/shm-threads';

afterEach(stopAll);

const CAP = 4;
const block = () => allocate(conditionWords(CAP));

/** A deadline 5 ms ahead, and a way to let it pass (busy, so no timer is involved). */
const soon = () => deadlineFor(5);
function passDeadlines(): void {
  const end = performance.now() + 6;
  while (performance.now() < end);
}

/** Drives a waiter's sleep up to its first park; returns the generator. */
function parked(b: Block, deadline = FOREVER) {
  const ticket = conditionEnqueue(b, 0, CAP);
  const steps = conditionSleep(b, 0, CAP, ticket, deadline);
  const first = steps.next();
  expect(first.done).toBe(false);
  return { ticket, steps };
}

describe('the condition waiter queue', () => {
  test('notify(n) wakes min(n, waiting) waiters in the order they queued', () => {
    const b = block();
    const waiters = [parked(b), parked(b), parked(b)];
    expect(conditionWaiting(b, 0)).toBe(3);
    expect(conditionNotify(b, 0, CAP, 2)).toBe(2);
    expect(waiters.map((w) => w.steps.next('ok').done)).toEqual([true, true, false]);
    expect(conditionNotify(b, 0, CAP, 5)).toBe(1);
    expect(waiters[2].steps.next('ok')).toEqual({ done: true, value: true });
    expect(conditionNotify(b, 0, CAP, 1)).toBe(0);
    expect(conditionWaiting(b, 0)).toBe(0);
  });

  test('a waiter that timed out is removed and not counted by the next notify', () => {
    const b = block();
    const first = parked(b, soon());
    const second = parked(b);
    passDeadlines();
    expect(first.steps.next('timed-out')).toEqual({ done: true, value: false });
    expect(conditionWaiting(b, 0)).toBe(1);
    expect(conditionNotify(b, 0, CAP, 1)).toBe(1);
    expect(second.steps.next('ok')).toEqual({ done: true, value: true });
  });

  test('a notify that picks a waiter just as its timeout passes makes its wait return true', () => {
    const b = block();
    const waiter = parked(b, soon());
    passDeadlines();
    // The notify wins the race: it counted this waiter, so the waiter must report being notified.
    expect(conditionNotify(b, 0, CAP, 1)).toBe(1);
    expect(waiter.steps.next('timed-out')).toEqual({ done: true, value: true });
    expect(conditionWaiting(b, 0)).toBe(0);
  });

  test('timed-out waiters in the middle are skipped, and the ring is reclaimed at its ends', () => {
    const blk = block();
    const a = parked(blk);
    const b = parked(blk, soon());
    const c = parked(blk);
    passDeadlines();
    expect(b.steps.next('timed-out').value).toBe(false);
    expect(conditionNotify(blk, 0, CAP, 2)).toBe(2); // a and c; b is not counted
    expect(a.steps.next('ok').done).toBe(true);
    expect(c.steps.next('ok').done).toBe(true);
    // Many timed waits in a row never fill the ring.
    for (let i = 0; i < 50; i++) expect(runSync(conditionSleep(blk, 0, CAP, conditionEnqueue(blk, 0, CAP), deadlineFor(0)))).toBe(false);
    expect(conditionEnqueue(blk, 0, CAP)).not.toBe(OVERFLOW);
  });

  test('waiters beyond the slot capacity overflow, and every one is still counted exactly once', () => {
    const b = block();
    const waiters = Array.from({ length: CAP + 2 }, () => parked(b));
    expect(waiters.slice(CAP).every((w) => w.ticket === OVERFLOW)).toBe(true);
    expect(conditionWaiting(b, 0)).toBe(CAP + 2);
    expect(conditionNotify(b, 0, CAP, CAP + 1)).toBe(CAP + 1);
    const done = waiters.map((w) => w.steps.next('ok').done);
    expect(done.filter(Boolean).length).toBe(CAP + 1);
    // The one left is an overflow waiter, and is still counted.
    const left = waiters[done.indexOf(false)];
    expect(left.ticket).toBe(OVERFLOW);
    expect(conditionWaiting(b, 0)).toBe(1);
    expect(conditionNotify(b, 0, CAP, 1)).toBe(1);
    expect(left.steps.next('ok')).toEqual({ done: true, value: true });
  });

  test('across threads, every wake a notify counts is a wait that returns true, with timeouts racing', async () => {
    // 4 workers each run 300 waits with 0–2 ms timeouts on a 2-slot queue (so overflow is used too);
    // main notifies one at a time and sums what notify reports. With the timeout-vs-notify race
    // settled right, the two totals are equal.
    const words = conditionWords(2);
    const b = allocate(words);
    const c = counters(2); // [trues, workers done]
    const worker = (i32: Int32Array, c: Int32Array) => {
      const { LocalBlock } = require('threadkit/internal/shm/block');
      const b = new LocalBlock(i32);
      const q = require('threadkit/internal/shm/condition-queue');
      const { runSync } = require('threadkit/internal/shm/steps');
      const { deadlineFor } = require('threadkit/internal/shm/deadline');
      for (let i = 0; i < 300; i++) {
        const ticket = q.conditionEnqueue(b, 0, 2);
        if (runSync(q.conditionSleep(b, 0, 2, ticket, deadlineFor(i % 3)))) Atomics.add(c, 0, 1);
      }
      Atomics.add(c, 1, 1);
    };
    const workers = Array.from({ length: 4 }, () => spawn(worker, b.i32, c));
    let counted = 0;
    while (Atomics.load(c, 1) < 4) {
      counted += conditionNotify(b, 0, 2, 1);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(workers);
    expect(conditionWaiting(b, 0)).toBe(0);
    expect(counted).toBe(Atomics.load(c, 0));
    expect(counted).toBeGreaterThan(0);
  });
});
