/**
 * A batch slot: the shared memory through which ThreadPoolExecutor's main thread and one pool
 * thread run a batch of items. Used on both sides (imports nothing public).
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
 * - Results arena: after each item the worker appends `[u32 length][u8 flags][v8-serialized value or
 *   error]` (a number or undefined skips the v8 serializer: its payload is 8 bytes of float64, or
 *   none) and then publishes COUNT (release order: bytes first, count last). If the worker dies
 *   in item `COUNT`, the results before it are still readable; only that item fails.
 *
 * Memory ordering: every access to the header words is an Atomics operation; the arena bytes are
 * written before the COUNT store and read after the COUNT load, so the load makes them visible.
 */
import * as v8 from 'node:v8';

/** Header word: `next | end << 16` (see above). */
export const CLAIM = 0;
/** Header word: number of results in the arena. */
export const COUNT = 1;
/** Header word: bytes of the arena in use. */
export const BYTES = 2;
const HEADER_WORDS = 4;
const HEADER_BYTES = HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT;
/** Arena bytes per slot; a result that does not fit goes back in the reply message instead. */
export const ARENA_BYTES = 64 * 1024;
/** Largest batch a slot can describe (16 bits per half of CLAIM). */
export const MAX_SLOT_ITEMS = 0xffff;
const ENTRY_HEADER = 5;
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

export function allocateSlot(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + ARENA_BYTES);
}

export function slotViews(buffer: SharedArrayBuffer): SlotViews {
  return {
    header: new Int32Array(buffer, 0, HEADER_WORDS),
    bytes: new Uint8Array(buffer, HEADER_BYTES),
    data: new DataView(buffer, HEADER_BYTES),
  };
}

/** Main side, before sending: a fresh batch of `length` items. */
export function resetSlot(views: SlotViews, length: number): void {
  Atomics.store(views.header, CLAIM, length << 16);
  Atomics.store(views.header, COUNT, 0);
  Atomics.store(views.header, BYTES, 0);
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
 * Worker side: appends one outcome to the arena. `'full'`: too big for what is left; and
 * `'unserializable'`: the arena cannot take it (shared memory, which must be shared and not copied,
 * or a value that cannot be cloned at all) — either way it must go in the reply message instead.
 */
export function writeResult(views: SlotViews, ok: boolean, value: unknown): WriteStatus {
  // Numbers and undefined, the results of most small tasks, skip the v8 serializer on both sides
  // (its setup costs more than the rest of a trivial task's round trip through the slot).
  if (typeof value === 'number') return append(views, (ok ? FLAG_OK : 0) | FLAG_NUMBER, FLOAT64_BYTES, value);
  if (value === undefined) return append(views, (ok ? FLAG_OK : 0) | FLAG_UNDEFINED, 0, undefined);
  let payload: Buffer;
  try {
    const serializer = new ArenaSerializer();
    serializer.writeHeader();
    serializer.writeValue(value);
    payload = serializer.releaseBuffer();
  } catch {
    return 'unserializable';
  }
  return append(views, ok ? FLAG_OK : 0, payload.length, payload);
}

/** Appends one entry whose payload is `length` bytes: a v8 payload, a float64, or nothing. */
function append(views: SlotViews, flags: number, length: number, payload: Buffer | number | undefined): WriteStatus {
  const offset = Atomics.load(views.header, BYTES);
  if (offset + ENTRY_HEADER + length > views.bytes.length) return 'full';
  views.data.setUint32(offset, length);
  views.data.setUint8(offset + 4, flags);
  if (typeof payload === 'number') views.data.setFloat64(offset + ENTRY_HEADER, payload);
  else if (payload !== undefined) views.bytes.set(payload, offset + ENTRY_HEADER);
  Atomics.store(views.header, BYTES, offset + ENTRY_HEADER + length);
  Atomics.add(views.header, COUNT, 1);
  return 'written';
}

/** Main side: the outcomes in the arena, in item order. */
export function readResults(views: SlotViews): Array<{ ok: boolean; value: unknown }> {
  const count = Atomics.load(views.header, COUNT);
  const out: Array<{ ok: boolean; value: unknown }> = new Array(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const length = views.data.getUint32(offset);
    const flags = views.data.getUint8(offset + 4);
    const start = offset + ENTRY_HEADER;
    let value: unknown;
    if ((flags & FLAG_NUMBER) !== 0) value = views.data.getFloat64(start);
    else if ((flags & FLAG_UNDEFINED) !== 0) value = undefined;
    // slice(): v8.deserialize wants its own bytes, not a view of memory the worker may reuse.
    else value = v8.deserialize(views.bytes.slice(start, start + length));
    out[i] = { ok: (flags & FLAG_OK) !== 0, value };
    offset = start + length;
  }
  return out;
}
