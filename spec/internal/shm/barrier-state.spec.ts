import { describe, expect, test } from '@jest/globals';
import {
  ACTION, BARRIER_WORDS, BROKEN, DRAINING, FILLING, RESETTING, STATE, barrierAbort, barrierInit, barrierReset, barrierWait,
  barrierWaiting,
} from '../../../lib/internal/shm/barrier-state';
import { allocate } from '../../../lib/internal/shm/memory';
import type { Block } from '../../../lib/internal/shm/block';
import { FOREVER } from '../../../lib/internal/shm/deadline';
import { sleepSync } from '../../../lib/threading/sleep';

function barrier(parties: number): Block {
  const b = allocate(BARRIER_WORDS);
  barrierInit(b, 0, parties);
  return b;
}

describe('the barrier state machine', () => {
  test('the last arrival runs the action outside the lock, then releases the round', () => {
    const b = barrier(2);
    const first = barrierWait(b, 0, FOREVER, true);
    expect(first.next().value).toMatchObject({ park: true });
    const last = barrierWait(b, 0, FOREVER, true);
    expect(last.next().value).toEqual({ runAction: true });
    expect(b.i32[STATE]).toBe(ACTION);
    expect(barrierWaiting(b, 0)).toBe(2);
    expect(last.next({ ok: true })).toEqual({ done: true, value: { index: 1 } });
    expect(b.i32[STATE]).toBe(DRAINING);
    expect(first.next('ok')).toEqual({ done: true, value: { index: 0 } });
    expect(b.i32[STATE]).toBe(FILLING);
  });

  test('a party whose deadline passes while the action runs waits for its outcome (with no deadline) and passes', () => {
    const b = barrier(2);
    const first = barrierWait(b, 0, performance.now() + 1, true);
    expect(first.next().value).toMatchObject({ park: true });
    const last = barrierWait(b, 0, FOREVER, true);
    expect(last.next().value).toEqual({ runAction: true });
    sleepSync(5); // the first party's deadline passes while the action runs
    // Woken with its time spent, the first party re-parks without a deadline instead of breaking the round.
    expect(first.next('timed-out').value).toMatchObject({ park: true, deadline: FOREVER });
    expect(b.i32[STATE]).toBe(ACTION);
    expect(last.next({ ok: true })).toEqual({ done: true, value: { index: 1 } });
    expect(first.next('ok')).toEqual({ done: true, value: { index: 0 } });
    expect(b.i32[STATE]).toBe(FILLING);
  });

  test('an abort while the action runs breaks the round for the party that ran it too', () => {
    const b = barrier(1);
    const last = barrierWait(b, 0, FOREVER, true);
    expect(last.next().value).toEqual({ runAction: true });
    barrierAbort(b, 0); // must not wait for the action
    expect(last.next({ ok: true })).toEqual({ done: true, value: { index: 0, failure: { broken: true } } });
    expect(b.i32[STATE]).toBe(BROKEN);
  });

  test('a reset while the action runs breaks that round and opens the next', () => {
    const b = barrier(1);
    const last = barrierWait(b, 0, FOREVER, true);
    last.next();
    barrierReset(b, 0);
    expect(b.i32[STATE]).toBe(RESETTING);
    expect(last.next({ ok: true }).value).toEqual({ index: 0, failure: { broken: true } });
    expect(b.i32[STATE]).toBe(FILLING);
  });

  test('an action that failed gives its error to that party and breaks the barrier', () => {
    const b = barrier(1);
    const last = barrierWait(b, 0, FOREVER, true);
    last.next();
    const error = new Error('x');
    expect(last.next({ ok: false, error }).value).toEqual({ index: 0, failure: { broken: false, error } });
    expect(b.i32[STATE]).toBe(BROKEN);
  });

  test('a newcomer waits while the previous round drains, so it is never counted in it', () => {
    const blk = barrier(2);
    const a = barrierWait(blk, 0, FOREVER, false);
    a.next();
    const b = barrierWait(blk, 0, FOREVER, false);
    expect(b.next().done).toBe(true); // b released the round and left
    expect(blk.i32[STATE]).toBe(DRAINING);
    const lapper = barrierWait(blk, 0, FOREVER, false);
    expect(lapper.next().value).toMatchObject({ park: true }); // waits for the drain
    expect(barrierWaiting(blk, 0)).toBe(0);
    expect(a.next('ok').value).toEqual({ index: 0 });
    expect(lapper.next('ok').value).toMatchObject({ park: true }); // now filling, as index 0 of round 2
    expect(barrierWaiting(blk, 0)).toBe(1);
  });
});
