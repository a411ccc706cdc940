/**
 * A batch slot: the shared memory through which ThreadPoolExecutor's main thread and one pool
 * thread run a batch of jobs. Used on both sides (imports nothing public). The pool's slots are
 * one SharedArrayBuffer, handed to every pool thread once (in its `workerData`); a batch message
 * then names its slot by index, so no message carries shared memory.
 *
 * Why: a postMessage round trip costs ≈ 40 µs, so trivial tasks are sent in batches — but a batch
 * must not turn one dead worker into many failed tasks, nor hide a task behind a blocked one. The
 * slot lets both sides agree, without messages, on which items the worker has started and which
 * results it has produced:
 *
 * - CLAIM word = `next | end << 16`. The worker claims item `next` by CAS (`next + 1`), while
 *   `next < end`. The main thread steals the unstarted tail for an idle worker by CAS-lowering
 *   `end`; the worker stops itself early (a result too big for the arena) by CAS-setting
 *   `end = next`. One word, so a claim and a steal cannot both win item `next` (the race a pair
 *   of separate counters would have). When the batch is over, items `[next, end)` were never
 *   started: the main side puts them back in the queue.
 * - READY word: 0 when the batch is sent; the worker stores 1 once its initializer has run, before
 *   it claims anything. A worker that dies with READY still 0 never became ready (it could not
 *   start, or its initializer killed it): the pool is broken rather than respawning it forever.
 * - Results arena: after each item the worker appends `[u32 length][u8 flags][u8 kind][f32 ms]
 *   [payload]` — `ms` is how long the item ran (the scheduler's fast/slow measure); `kind` and the
 *   payload are the shared-memory serializer's (transport/serializer.ts, the one the queues use:
 *   a number, a string, bytes or undefined skip v8's serializer on both sides) for the value or the
 *   encoded error — and then publishes COUNT (release order: bytes first, count last). If the
 *   worker dies in item `COUNT`, the results before it are still readable; only that item fails.
 *
 * Memory ordering: every access to the header words is an Atomics operation; the arena bytes are
 * written before the COUNT store and read after the COUNT load, so the load makes them visible.
 */
import type { EncodedError, EncodedOutcome } from '../transport';
import { deserialize, serialize, type Encoded, type SerializeOptions } from '../transport/serializer';

/** Header word: `next | end << 16` (see above). */
export const CLAIM = 0;
/** Header word: number of results in the arena. */
export const COUNT = 1;
/** Header word: bytes of the arena in use. */
export const BYTES = 2;
/** Header word: 1 once the worker's initializer has run (see above). */
export const READY = 3;
const HEADER_WORDS = 4;
const HEADER_BYTES = HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT;
/** Arena bytes per slot; a result that does not fit goes back in the reply message instead. */
export const ARENA_BYTES = 64 * 1024;
/** Bytes of one slot in the pool's buffer. */
const SLOT_BYTES = HEADER_BYTES + ARENA_BYTES;
/** Largest batch a slot can describe (16 bits per half of CLAIM). */
export const MAX_SLOT_ITEMS = 0xffff;
/** `[u32 length][u8 flags][u8 kind][f32 ms]` */
const ENTRY_HEADER = 10;
const FLAGS_AT = 4;
const KIND_AT = 5;
const MS_AT = 6;
const HALF = 0xffff;
/** Entry flags: the item returned (else it threw). */
const FLAG_OK = 1;

/** A slot's views, made once per buffer (`u8`: the results arena, as the serializer writes it). */
export interface SlotViews {
  readonly header: Int32Array;
  readonly u8: Uint8Array;
  readonly data: DataView;
}

/** The memory of `count` slots (untouched pages cost nothing until a result is written there). */
export function allocateSlots(count: number): SharedArrayBuffer {
  return new SharedArrayBuffer(count * SLOT_BYTES);
}

/** The views of slot `index` of a pool's buffer; made once per slot on each side. */
export function slotViews(buffer: SharedArrayBuffer, index: number): SlotViews {
  const at = index * SLOT_BYTES;
  return {
    header: new Int32Array(buffer, at, HEADER_WORDS),
    u8: Buffer.from(buffer, at + HEADER_BYTES, ARENA_BYTES),
    data: new DataView(buffer, at + HEADER_BYTES, ARENA_BYTES),
  };
}

/** Main side, before sending: a fresh batch of `length` items. */
export function resetSlot(views: SlotViews, length: number): void {
  Atomics.store(views.header, CLAIM, length << 16);
  Atomics.store(views.header, COUNT, 0);
  Atomics.store(views.header, BYTES, 0);
  Atomics.store(views.header, READY, 0);
}

/** Worker side: its initializer has run; it may claim items now. */
export function markReady(header: Int32Array): void {
  Atomics.store(header, READY, 1);
}

/** Main side: whether the worker of this batch became ready. */
export function isReady(header: Int32Array): boolean {
  return Atomics.load(header, READY) === 1;
}

/** Worker side: claims the next item, or returns -1 when none is left. */
export function claim(header: Int32Array): number {
  for (;;) {
    const word = Atomics.load(header, CLAIM);
    const next = word & HALF;
    const end = word >>> 16;
    if (next >= end) return -1;
    if (Atomics.compareExchange(header, CLAIM, word, (next + 1) | (end << 16)) === word) return next;
  }
}

/** Worker side: claims nothing more (the unstarted rest goes back to the main side's queue). */
export function closeClaims(header: Int32Array): void {
  for (;;) {
    const word = Atomics.load(header, CLAIM);
    const next = word & HALF;
    if (Atomics.compareExchange(header, CLAIM, word, next | (next << 16)) === word) return;
  }
}

/**
 * Items of a batch that a steal may take: the unclaimed ones, except item 0 while nothing is
 * claimed (the worker's first item: taking it would leave that worker with nothing to do).
 */
export function stealable(next: number, end: number): number {
  return end - Math.max(next, 1);
}

/**
 * Main side: takes back up to half (at least one) of the stealable items, lowering `end`.
 * @returns the range `[from, to)` taken, or undefined when nothing can be taken.
 */
export function stealTail(header: Int32Array): { from: number; to: number } | undefined {
  for (;;) {
    const word = Atomics.load(header, CLAIM);
    const next = word & HALF;
    const end = word >>> 16;
    const available = stealable(next, end);
    if (available < 1) return undefined;
    const from = end - Math.ceil(available / 2);
    if (Atomics.compareExchange(header, CLAIM, word, next | (from << 16)) === word) return { from, to: end };
  }
}

/** `[next, end)` as they are now. */
export function claimRange(header: Int32Array): { next: number; end: number } {
  const word = Atomics.load(header, CLAIM);
  return { next: word & HALF, end: word >>> 16 };
}

/** How results are serialized: already handle-encoded where the task ran, and never with shared memory. */
const RESULT: SerializeOptions = { what: 'result', encoded: true };

/** Outcome of {@link writeResult}. */
export type WriteStatus = 'written' | 'full' | 'unserializable';

/**
 * Worker side: appends one outcome, which ran for `ms`, to the arena. `'full'`: too big for what
 * is left; and `'unserializable'`: the arena cannot take it (shared memory, which must be shared
 * and not copied — the serializer refuses it without a shelf — or a value that cannot be cloned
 * at all) — either way it must go in the reply message instead.
 */
export function writeResult(views: SlotViews, outcome: EncodedOutcome, ms: number): WriteStatus {
  let encoded: Encoded;
  try {
    encoded = serialize(outcome.ok ? outcome.value : outcome.error, RESULT);
  } catch {
    return 'unserializable';
  }
  const offset = Atomics.load(views.header, BYTES);
  if (offset + ENTRY_HEADER + encoded.length > views.u8.length) return 'full';
  views.data.setUint32(offset, encoded.length);
  views.data.setUint8(offset + FLAGS_AT, outcome.ok ? FLAG_OK : 0);
  views.data.setUint8(offset + KIND_AT, encoded.kind);
  views.data.setFloat32(offset + MS_AT, ms);
  encoded.write(views, offset + ENTRY_HEADER);
  Atomics.store(views.header, BYTES, offset + ENTRY_HEADER + encoded.length);
  Atomics.add(views.header, COUNT, 1);
  return 'written';
}

/** Main side: how far the results of a batch were read (entries, and bytes of the arena). */
export interface ReadCursor {
  count: number;
  offset: number;
}

/**
 * Main side: calls `visit` with each outcome the arena holds beyond `cursor`, how long it ran and
 * its item index, in item order, and moves the cursor past them; returns the cursor's count.
 */
export function readResults(views: SlotViews, cursor: ReadCursor, visit: (outcome: EncodedOutcome, ms: number, index: number) => void): number {
  const count = Atomics.load(views.header, COUNT);
  // The cursor, not a local index, says what is next: a visit may read on (see below).
  while (cursor.count < count) {
    const i = cursor.count;
    const offset = cursor.offset;
    const length = views.data.getUint32(offset);
    const flags = views.data.getUint8(offset + FLAGS_AT);
    const kind = views.data.getUint8(offset + KIND_AT);
    const ms = views.data.getFloat32(offset + MS_AT);
    const start = offset + ENTRY_HEADER;
    const value = deserialize(kind, views, start, length, RESULT);
    // The cursor moves before the visit: a visit that reads again (a done callback's dispatch) starts after this entry.
    cursor.offset = start + length;
    cursor.count = i + 1;
    visit((flags & FLAG_OK) !== 0 ? { ok: true, value } : { ok: false, error: value as EncodedError }, ms, i);
  }
  return cursor.count;
}
