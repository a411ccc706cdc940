/**
 * The batch slot (lib/internal/executor/batch-slot.ts): the claim word that the worker claims items
 * from and the main thread steals the unstarted tail from, and the results arena.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import {
  allocateSlots, claim, claimRange, closeClaims, isReady, markReady, readResults, resetSlot, slotViews, stealable, stealTail, writeResult,
  ARENA_BYTES, BYTES, type SlotViews,
} from '../../../lib/internal/executor/batch-slot';
import { encodeError, type EncodedOutcome } from '../../../lib/internal/transport';
import { HANDLE_TAG } from '../../../lib/internal/transport/shareable';
import { startTargetThread } from '../../helpers/target-thread';
import { shutdownIdleThreads } from '../../../lib/internal/thread/warm-pool';

afterAll(shutdownIdleThreads);

function fresh(length: number, slots = 1, index = 0): SlotViews {
  const views = slotViews(allocateSlots(slots), index);
  resetSlot(views, length);
  return views;
}

function results(views: SlotViews): Array<{ outcome: EncodedOutcome; ms: number; index: number }> {
  const out: Array<{ outcome: EncodedOutcome; ms: number; index: number }> = [];
  readResults(views, { count: 0, offset: 0 }, (outcome, ms, index) => out.push({ outcome, ms, index }));
  return out;
}

describe('claim word', () => {
  test('the worker claims items 0, 1, … in order until the batch is done', () => {
    const { header } = fresh(3);
    expect([claim(header), claim(header), claim(header), claim(header)]).toEqual([0, 1, 2, -1]);
    expect(claimRange(header)).toEqual({ next: 3, end: 3 });
  });

  test('a steal takes half of the unstarted tail, never item 0 before anything is claimed', () => {
    const { header } = fresh(10);
    expect(stealable(0, 10)).toBe(9);
    expect(stealTail(header)).toEqual({ from: 5, to: 10 }); // ceil(9 / 2) items from the end
    expect(claimRange(header)).toEqual({ next: 0, end: 5 });
    expect(claim(header)).toBe(0);
    expect(claim(header)).toBe(1);
    expect(stealTail(header)).toEqual({ from: 3, to: 5 }); // 2, 3, 4 unstarted: ceil(3 / 2)
    expect([claim(header), claim(header)]).toEqual([2, -1]);
    expect(stealTail(header)).toBeUndefined();
  });

  test('a lone item cannot be stolen', () => {
    const { header } = fresh(1);
    expect(stealTail(header)).toBeUndefined();
    expect(claim(header)).toBe(0);
  });

  test('closeClaims ends the batch at the next item: nothing more is claimed, the rest is unstarted', () => {
    const { header } = fresh(5);
    claim(header);
    claim(header);
    closeClaims(header);
    expect(claim(header)).toBe(-1);
    expect(claimRange(header)).toEqual({ next: 2, end: 2 });
    expect(stealTail(header)).toBeUndefined();
  });

  test('READY is clear when a batch is sent and set by the worker', () => {
    const views = fresh(2);
    expect(isReady(views.header)).toBe(false);
    markReady(views.header);
    expect(isReady(views.header)).toBe(true);
    resetSlot(views, 1);
    expect(isReady(views.header)).toBe(false);
  });

  test('a worker claiming while the main thread steals: every item goes to exactly one of them', async () => {
    // Both sides slowed down (a pause per claim, a longer one per steal), so that a round lasts long
    // enough for the two threads to overlap even on a busy machine, and steals land between claims.
    const ITEMS = 4000;
    const ROUNDS = 40;
    const FAILED = -1;
    const buffer = allocateSlots(1);
    const { header } = slotViews(buffer, 0);
    // control[0]: the round the main thread started; control[1]: the round the worker finished (FAILED: it threw).
    const control = new Int32Array(new SharedArrayBuffer(8));
    const marks = new Int32Array(new SharedArrayBuffer(4 * ITEMS));
    const worker = startTargetThread((slots: SharedArrayBuffer, ctl: Int32Array, seen: Int32Array, rounds: number) => {
      const slot = require('threadkit/internal/executor/batch-slot');
      const h = slot.slotViews(slots, 0).header;
      try {
        for (let round = 1; round <= rounds; round++) {
          while (Atomics.load(ctl, 0) < round) {
            if (Atomics.wait(ctl, 0, round - 1, 10_000) === 'timed-out') throw new Error(`round ${round} never started`);
          }
          let last = -1;
          for (let i = slot.claim(h); i >= 0; i = slot.claim(h)) {
            if (i <= last) throw new Error(`claimed ${i} after ${last}`);
            last = i;
            Atomics.add(seen, i, 1);
            for (let spin = 0; spin < 300; spin++) Atomics.load(ctl, 1);
          }
          Atomics.store(ctl, 1, round);
          Atomics.notify(ctl, 1);
        }
      } catch (error) {
        Atomics.store(ctl, 1, -1);
        Atomics.notify(ctl, 1);
        throw error;
      }
    }, [buffer, control, marks, ROUNDS]);
    let stolen = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      marks.fill(0);
      resetSlot(slotViews(buffer, 0), ITEMS);
      Atomics.store(control, 0, round);
      Atomics.notify(control, 0);
      // Steal while the worker claims: once it has started, with a pause between steals.
      while (Atomics.load(marks, 0) === 0 && Atomics.load(control, 1) < round && Atomics.load(control, 1) !== FAILED);
      for (let range = stealTail(header); range !== undefined; range = stealTail(header)) {
        stolen += range.to - range.from;
        for (let i = range.from; i < range.to; i++) Atomics.add(marks, i, 1);
        for (let spin = 0; spin < 50_000; spin++) Atomics.load(control, 1);
      }
      for (let done = Atomics.load(control, 1); done < round && done !== FAILED; done = Atomics.load(control, 1)) {
        expect(await Atomics.waitAsync(control, 1, done, 10_000).value).not.toBe('timed-out');
      }
      if (Atomics.load(control, 1) === FAILED) break;
      const wrong = marks.findIndex((count) => count !== 1);
      expect(wrong === -1 ? 'every item once' : `item ${wrong} taken ${marks[wrong]} times in round ${round}`).toBe('every item once');
    }
    expect(await worker.join()).toEqual({ ok: true, value: undefined });
    expect(stolen).toBeGreaterThan(0);
  });
});

describe('results arena', () => {
  test('outcomes come back in order with the time they ran: numbers, strings and undefined raw, anything else through v8, errors encoded', () => {
    const views = fresh(6);
    const error = encodeError(new RangeError('far'));
    const outcomes: EncodedOutcome[] = [
      { ok: true, value: 42.5 },
      { ok: true, value: undefined },
      { ok: true, value: { a: [1, 'two'], when: new Date(0) } },
      { ok: false, error },
      { ok: true, value: -0 },
      { ok: true, value: 'text' },
    ];
    outcomes.forEach((outcome, i) => expect(writeResult(views, outcome, i + 0.5)).toBe('written'));
    const back = results(views);
    expect(back.map((r) => r.outcome)).toEqual(outcomes);
    expect(Object.is((back[4].outcome as { value: number }).value, -0)).toBe(true);
    expect(back.map((r) => r.ms)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
    expect(back.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('they go through the shared-memory serializer of the queues: bytes keep their class, and the encoded form of a shared object is left for the caller to decode', () => {
    const views = fresh(4);
    const handle = { [HANDLE_TAG]: 'threading.Lock', data: { memory: 7 } }; // a made-up handle: decoding it would throw
    const outcomes: EncodedOutcome[] = [
      { ok: true, value: Buffer.from('buf') },
      { ok: true, value: new Uint8Array([1, 2, 3]) },
      { ok: true, value: { nested: new Float64Array([1.5, -2]) } },
      { ok: true, value: [handle] },
    ];
    outcomes.forEach((outcome) => expect(writeResult(views, outcome, 0)).toBe('written'));
    const back = results(views).map((r) => (r.outcome as { value: unknown }).value);
    expect(Buffer.isBuffer(back[0]) && back[0].toString()).toBe('buf');
    expect(Object.prototype.toString.call(back[1])).toBe('[object Uint8Array]');
    expect(Array.from(back[1] as Uint8Array)).toEqual([1, 2, 3]);
    expect(Array.from((back[2] as { nested: Float64Array }).nested)).toEqual([1.5, -2]);
    expect(back[3]).toEqual([handle]);
  });

  test('a result too big for what is left is refused and nothing is published for it', () => {
    const views = fresh(2);
    expect(writeResult(views, { ok: true, value: 'x'.repeat(ARENA_BYTES - 100) }, 0)).toBe('written');
    expect(writeResult(views, { ok: true, value: 'y'.repeat(200) }, 0)).toBe('full');
    expect(results(views)).toHaveLength(1);
  });

  test('shared memory and values v8 cannot serialize are refused (they go by message)', () => {
    const views = fresh(2);
    expect(writeResult(views, { ok: true, value: new Int32Array(new SharedArrayBuffer(8)) }, 0)).toBe('unserializable');
    expect(writeResult(views, { ok: true, value: () => 1 }, 0)).toBe('unserializable');
    expect(results(views)).toEqual([]);
  });

  test('a read cursor visits each result once: a second read sees only what was written after the first', () => {
    const views = fresh(4);
    const cursor = { count: 0, offset: 0 };
    const seen: Array<[unknown, number]> = [];
    const visit = (outcome: EncodedOutcome, _ms: number, index: number): void => void seen.push([(outcome as { value: unknown }).value, index]);
    writeResult(views, { ok: true, value: 'first' }, 0);
    expect(readResults(views, cursor, visit)).toBe(1);
    expect(readResults(views, cursor, visit)).toBe(1); // nothing new
    writeResult(views, { ok: true, value: { second: 2 } }, 0);
    writeResult(views, { ok: true, value: 3 }, 0);
    expect(readResults(views, cursor, visit)).toBe(3);
    expect(seen).toEqual([['first', 0], [{ second: 2 }, 1], [3, 2]]);
    // After the last entry: the cursor stands where the next one would be written.
    expect(cursor.offset).toBe(Atomics.load(views.header, BYTES));
  });

  test('a visit that reads again (as a callback of a settled future may) does not see the same result twice', () => {
    const views = fresh(3);
    const cursor = { count: 0, offset: 0 };
    const seen: number[] = [];
    const visit = (_outcome: EncodedOutcome, _ms: number, index: number): void => {
      seen.push(index);
      if (index === 0) readResults(views, cursor, visit);
    };
    for (let i = 0; i < 3; i++) writeResult(views, { ok: true, value: i }, 0);
    readResults(views, cursor, visit);
    expect(seen).toEqual([0, 1, 2]);
  });

  test('each slot of a pool buffer is its own memory', () => {
    const buffer = allocateSlots(2);
    const a = slotViews(buffer, 0);
    const b = slotViews(buffer, 1);
    resetSlot(a, 1);
    resetSlot(b, 1);
    writeResult(a, { ok: true, value: 1 }, 0);
    writeResult(b, { ok: true, value: 2 }, 0);
    expect(claim(a.header)).toBe(0);
    expect(claim(b.header)).toBe(0);
    expect(results(a).map((r) => r.outcome)).toEqual([{ ok: true, value: 1 }]);
    expect(results(b).map((r) => r.outcome)).toEqual([{ ok: true, value: 2 }]);
  });
});
