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
 * - Results arena: after each item the worker appends `[u32 length][u8 flags][f32 ms][payload]`
 *   — `ms` is how long the item ran (the scheduler's fast/slow measure); the payload is the
 *   v8-serialized value or encoded error, except that a number or undefined skips the v8 serializer
 *   (its payload is 8 bytes of float64, or none) — and then publishes COUNT (release order: bytes
 *   first, count last). If the worker dies in item `COUNT`, the results before it are still
 *   readable; only that item fails.
 *
 * Memory ordering: every access to the header words is an Atomics operation; the arena bytes are
 * written before the COUNT store and read after the COUNT load, so the load makes them visible.
 */
import * as v8 from 'node:v8';
import type { EncodedError, EncodedOutcome } from '../transport';

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
/** `[u32 length][u8 flags][f32 ms]` */
const ENTRY_HEADER = 9;
const FLAGS_AT = 4;
const MS_AT = 5;
const HALF = 0xffff;
/** Entry flags: the item returned (else it threw). */
const FLAG_OK = 1;
/** The payload is a float64, not a v8-serialized value. */
const FLAG_NUMBER = 2;
/** The value is undefined; no payload. */
const FLAG_UNDEFINED = 4;
const FLOAT64_BYTES = 8;

/** A slot's views, made once per buffer. */
export interface SlotViews {
  readonly header: Int32Array;
  readonly bytes: Uint8Array;
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
    bytes: new Uint8Array(buffer, at + HEADER_BYTES, ARENA_BYTES),
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

/**
 * v8's serializer, except that a typed array or DataView over shared memory is refused: v8 would
 * copy its bytes, and the caller would get a copy where it expects the same memory. Refused
 * values travel by postMessage, which shares.
 */
/** `_writeHostObject` is Node's documented hook, missing from @types/node's DefaultSerializer. */
type HostObjectWriter = { _writeHostObject(object: object): void };
const writeHostObject = (v8.DefaultSerializer.prototype as unknown as HostObjectWriter)._writeHostObject;

class ArenaSerializer extends v8.DefaultSerializer {
  _writeHostObject(object: object): void {
    const buffer = (object as ArrayBufferView).buffer;
    if (buffer !== undefined && Object.prototype.toString.call(buffer) === '[object SharedArrayBuffer]') {
      throw new TypeError('shared memory cannot go through the arena');
    }
    writeHostObject.call(this, object);
  }
}

/** Outcome of {@link writeResult}. */
export type WriteStatus = 'written' | 'full' | 'unserializable';

/**
 * Worker side: appends one outcome, which ran for `ms`, to the arena. `'full'`: too big for what
 * is left; and `'unserializable'`: the arena cannot take it (shared memory, which must be shared
 * and not copied, or a value that cannot be cloned at all) — either way it must go in the reply
 * message instead.
 */
export function writeResult(views: SlotViews, outcome: EncodedOutcome, ms: number): WriteStatus {
  const ok = outcome.ok;
  const value = ok ? outcome.value : outcome.error;
  // Numbers and undefined, the results of most small tasks, skip the v8 serializer on both sides
  // (its setup costs more than the rest of a trivial task's round trip through the slot).
  if (ok && typeof value === 'number') return append(views, FLAG_OK | FLAG_NUMBER, ms, FLOAT64_BYTES, value);
  if (ok && value === undefined) return append(views, FLAG_OK | FLAG_UNDEFINED, ms, 0, undefined);
  let payload: Buffer;
  try {
    const serializer = new ArenaSerializer();
    serializer.writeHeader();
    serializer.writeValue(value);
    payload = serializer.releaseBuffer();
  } catch {
    return 'unserializable';
  }
  return append(views, ok ? FLAG_OK : 0, ms, payload.length, payload);
}

/** Appends one entry whose payload is `length` bytes: a v8 payload, a float64, or nothing. */
function append(views: SlotViews, flags: number, ms: number, length: number, payload: Buffer | number | undefined): WriteStatus {
  const offset = Atomics.load(views.header, BYTES);
  if (offset + ENTRY_HEADER + length > views.bytes.length) return 'full';
  views.data.setUint32(offset, length);
  views.data.setUint8(offset + FLAGS_AT, flags);
  views.data.setFloat32(offset + MS_AT, ms);
  if (typeof payload === 'number') views.data.setFloat64(offset + ENTRY_HEADER, payload);
  else if (payload !== undefined) views.bytes.set(payload, offset + ENTRY_HEADER);
  Atomics.store(views.header, BYTES, offset + ENTRY_HEADER + length);
  Atomics.add(views.header, COUNT, 1);
  return 'written';
}

/** Main side: calls `visit` with each outcome in the arena and how long it ran, in item order; returns how many. */
export function readResults(views: SlotViews, visit: (outcome: EncodedOutcome, ms: number, index: number) => void): number {
  const count = Atomics.load(views.header, COUNT);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const length = views.data.getUint32(offset);
    const flags = views.data.getUint8(offset + FLAGS_AT);
    const ms = views.data.getFloat32(offset + MS_AT);
    const start = offset + ENTRY_HEADER;
    let value: unknown;
    if ((flags & FLAG_NUMBER) !== 0) value = views.data.getFloat64(start);
    else if ((flags & FLAG_UNDEFINED) !== 0) value = undefined;
    // slice(): v8.deserialize wants its own bytes, not a view of memory the worker may reuse.
    else value = v8.deserialize(views.bytes.slice(start, start + length));
    offset = start + length;
    visit((flags & FLAG_OK) !== 0 ? { ok: true, value } : { ok: false, error: value as EncodedError }, ms, i);
  }
  return count;
}
