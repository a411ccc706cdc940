/**
 * The one implementation behind every queue: `threadkit/queue`'s Queue, LifoQueue, PriorityQueue
 * and SimpleQueue, `threadkit/multiprocessing`'s Queue, JoinableQueue and SimpleQueue, and each
 * direction of a Pipe. It joins the item ring (internal/shm/item-ring.ts: where items are and who
 * waits) with the serializer (internal/transport/serializer.ts: what an item's bytes are), and
 * gives each blocking call its async and Sync form over the same steps. The public classes only
 * check arguments and choose the memory (stores.ts).
 *
 * Large items. A payload above SPILL_BYTES is written to chunks of its own (a spill, parts of at
 * most SPILL_PART bytes) before the lock is taken, and the ring gets a small SPILL record naming
 * them; the getter claims that record under the lock like any other, then reads the parts and
 * frees them outside it. So the lock is never held while megabytes are copied, a 64 MiB item
 * needs no 64 MiB ring, and a getter killed while it reads a spill loses that item only (and
 * leaks its memory).
 */
import * as itemRing from '../shm/item-ring';
import {
  ringGet, ringJoin, ringPoll, ringPut,
  type Chunk, type ChunkStore, type GetOutcome, type PutOutcome, type RecordReader, type RecordSource, type Ring,
} from '../shm/item-ring';
import * as serializer from '../transport/serializer';
import { Encoded, Pending, type SerializeOptions } from '../transport/serializer';
import * as deadlines from '../shm/deadline';
import { runAsync, runSync } from '../shm/steps';
import { QueueEmptyError, QueueFullError, ValueError } from '../../errors';

// Module-local copies of what every put and get calls: some loaders (esbuild/tsx) turn imported
// bindings into getters, a call each time.
const {
  CHUNK_HEADER_BYTES, SPILL_BYTES, ringCount, ringHasItem, ringPutLocked, ringTakeLocked, ringTaskDone, ringTryLock, ringUnfinished, ringUnlock,
  ringWakeGetters, ringWakePutters,
} = itemRing;
const { FIRST_USER_KIND, V8, V8_BUFFERS, finish, readPayload, serialize } = serializer;
const { deadlineFor, remaining, FOREVER } = deadlines;

/** Record kind: the payload lives in spill chunks. */
const SPILL = FIRST_USER_KIND;
/** Largest part of a spill (an arena block holds at most 128 MiB). */
const SPILL_PART = 64 << 20;
/** SPILL payload: [inner kind u32][parts u32][length float64][parts × (a i32, b i32)]. */
const SPILL_HEADER_BYTES = 16;

/** A PRIORITY item's sort key (lib/queue/priority-key.ts). */
export interface SortKey {
  readonly key: Uint8Array;
  readonly tag: number;
  readonly number: number;
}

export interface CoreOptions {
  /** How items are serialized (crossProcess, the shelf for shared memory, what: 'item'). */
  readonly serialize: SerializeOptions;
  /** PRIORITY: an item's sort key. */
  readonly sortKey?: (item: unknown) => SortKey;
  /** The error for a ring that is full and cannot grow. */
  readonly noRoom: () => Error;
}

/** A spill claimed from the ring, read after the lock is released. */
class Spilled {
  constructor(readonly kind: number, readonly length: number, readonly parts: readonly (readonly [number, number])[]) {}
}

/** What a getter gets when the ring is empty and `ended()` says nothing more will come. */
export const ENDED: unique symbol = Symbol('ended');
/** What a try-once getter gets when the ring is empty. */
const EMPTY: unique symbol = Symbol('empty');
const RESOLVED: Promise<void> = Promise.resolve();

/** A large item's record: its payload went to spill parts, named in the record. */
class SpillSource implements RecordSource {
  readonly kind = SPILL;
  readonly length: number;

  constructor(readonly encoded: Encoded, readonly parts: readonly (readonly [number, number])[]) {
    this.length = SPILL_HEADER_BYTES + parts.length * 8;
  }

  write(chunk: Chunk, offset: number): void {
    const w = offset >> 2;
    chunk.i32[w] = this.encoded.kind;
    chunk.i32[w + 1] = this.parts.length;
    chunk.f64[(offset >> 3) + 1] = this.encoded.length;
    for (let i = 0; i < this.parts.length; i++) {
      chunk.i32[w + 4 + 2 * i] = this.parts[i][0];
      chunk.i32[w + 5 + 2 * i] = this.parts[i][1];
    }
  }
}

/** A PriorityQueue item's record: the item's record (or its spill's) with its sort key. */
class KeyedSource implements RecordSource {
  readonly kind: number;
  readonly length: number;
  readonly key: Uint8Array;
  readonly keyTag: number;
  readonly keyNumber: number;

  constructor(readonly inner: Encoded | SpillSource, sortKey: SortKey) {
    this.kind = inner.kind;
    this.length = inner.length;
    this.key = sortKey.key;
    this.keyTag = sortKey.tag;
    this.keyNumber = sortKey.number;
  }

  write(chunk: Chunk, offset: number): void {
    this.inner.write(chunk, offset);
  }
}

/** An item ready to be put: the record to write (which also knows what to give back if it is not put). */
type Prepared = Encoded | SpillSource | KeyedSource;

export class QueueCore {
  readonly #read: RecordReader<unknown>;

  constructor(
    readonly ring: Ring,
    readonly store: ChunkStore,
    readonly options: CoreOptions,
  ) {
    this.#read = (kind, chunk, offset, length) => (kind === SPILL ? readSpillRecord(chunk, offset) : readPayload(kind, chunk, offset, length));
  }

  // -------------------------------------------------------------------------------------------
  // put

  /** Serializes `item` (and spills it if large): the TypeError for an uncloneable item comes here. */
  #prepare(item: unknown): Prepared {
    const encoded = serialize(item, this.options.serialize);
    let source: Encoded | SpillSource = encoded;
    if (encoded.length > SPILL_BYTES) {
      try {
        source = new SpillSource(encoded, this.#spill(encoded));
      } catch (error) {
        encoded.abandon(this.options.serialize);
        throw error;
      }
    }
    const sortKey = this.options.sortKey;
    return sortKey === undefined ? source : new KeyedSource(source, sortKey(item));
  }

  /** Gives back what a prepared item holds (spill parts, shelved buffers): it was not put. */
  #abandon(prepared: Prepared): void {
    const source = prepared instanceof KeyedSource ? prepared.inner : prepared;
    if (source instanceof SpillSource) {
      for (const [a, b] of source.parts) this.store.free(a, b);
      source.encoded.abandon(this.options.serialize);
    } else {
      source.abandon(this.options.serialize);
    }
  }

  /** Writes a large payload into spill parts; returns their names. */
  #spill(encoded: Encoded): [number, number][] {
    const parts: [number, number][] = [];
    try {
      const count = Math.ceil(encoded.length / SPILL_PART);
      // One part: written in place. More: the payload is made whole once, then cut.
      const whole = count === 1 ? undefined : materialize(encoded);
      for (let i = 0; i < count; i++) {
        const from = i * SPILL_PART;
        const bytes = Math.min(SPILL_PART, encoded.length - from);
        const made = this.store.allocate(CHUNK_HEADER_BYTES + bytes, true);
        if (made === undefined) throw this.options.noRoom();
        parts.push([made.a, made.b]);
        if (whole === undefined) encoded.write(made.chunk, CHUNK_HEADER_BYTES);
        else made.chunk.u8.set(whole.subarray(from, from + bytes), CHUNK_HEADER_BYTES);
      }
      return parts;
    } catch (error) {
      for (const [a, b] of parts) this.store.free(a, b);
      throw error;
    }
  }

  /** One try without waiting for room; undefined when another thread holds the lock. */
  #tryPut(source: RecordSource): PutOutcome | undefined {
    const r = this.ring;
    if (!ringTryLock(r)) return undefined;
    let outcome: PutOutcome;
    try {
      outcome = ringPutLocked(r, source);
    } finally {
      ringUnlock(r);
    }
    if (outcome === 'put') ringWakeGetters(r);
    return outcome;
  }

  #checkPut(outcome: PutOutcome): void {
    if (outcome === 'full') throw new QueueFullError('queue is full');
    if (outcome === 'no-room') throw this.options.noRoom();
  }

  /**
   * Puts `item`, blocking this thread while the queue is full (until the timeout).
   * @throws QueueFullError when still full at the timeout; TypeError for an item that cannot be sent.
   */
  putSync(item: unknown, timeout?: number): void {
    const deadline = deadlineFor(timeout);
    const prepared = this.#prepare(item);
    try {
      let outcome = this.#tryPut(prepared);
      if (outcome === undefined || (outcome === 'full' && remaining(deadline) > 0)) {
        outcome = runSync(ringPut(this.ring, prepared, deadline));
      }
      this.#checkPut(outcome);
    } catch (error) {
      this.#abandon(prepared);
      throw error;
    }
  }

  /** As {@link putSync}, without blocking the event loop. */
  put(item: unknown, timeout?: number): Promise<void> {
    let prepared: Prepared | undefined;
    let deadline: number;
    try {
      deadline = deadlineFor(timeout);
      prepared = this.#prepare(item);
      const outcome = this.#tryPut(prepared);
      if (outcome === 'put') return RESOLVED;
      if (outcome !== undefined && (outcome === 'no-room' || remaining(deadline) === 0)) this.#checkPut(outcome);
    } catch (error) {
      if (prepared !== undefined) this.#abandon(prepared);
      return Promise.reject(error);
    }
    return this.#putSlow(prepared, deadline);
  }

  async #putSlow(prepared: Prepared, deadline: number): Promise<void> {
    try {
      this.#checkPut(await runAsync(ringPut(this.ring, prepared, deadline)));
    } catch (error) {
      this.#abandon(prepared);
      throw error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // get

  /** Rebuilds what the reader took out under the lock (deserializing, reading a spill). */
  #finish(taken: unknown): unknown {
    if (taken instanceof Pending) return finish(taken, this.options.serialize);
    if (taken instanceof Spilled) return this.#unspill(taken);
    return taken;
  }

  #unspill(spilled: Spilled): unknown {
    const { kind, length, parts } = spilled;
    try {
      if (parts.length === 1) {
        const chunk = this.store.read(parts[0][0], parts[0][1]);
        return decodeOwned(kind, chunk, CHUNK_HEADER_BYTES, length, this.options.serialize);
      }
      const whole = Buffer.allocUnsafe(length);
      let at = 0;
      for (const [a, b] of parts) {
        const bytes = Math.min(SPILL_PART, length - at);
        whole.set(this.store.read(a, b).u8.subarray(CHUNK_HEADER_BYTES, CHUNK_HEADER_BYTES + bytes), at);
        at += bytes;
      }
      return decodeOwned(kind, { u8: whole }, 0, length, this.options.serialize);
    } finally {
      for (const [a, b] of parts) this.store.free(a, b);
    }
  }

  /** One try: the item, EMPTY, or undefined when another thread holds the lock. */
  #tryGet(): unknown {
    const r = this.ring;
    if (!ringTryLock(r)) return undefined;
    if (!ringHasItem(r)) {
      ringUnlock(r);
      return EMPTY;
    }
    let taken: unknown;
    try {
      taken = ringTakeLocked(r, this.#read);
    } finally {
      ringUnlock(r);
    }
    ringWakePutters(r);
    return { taken };
  }

  /**
   * Takes an item, blocking this thread while the queue is empty (until the timeout).
   * `ended` / `slice`: see ringGet (a Pipe's end of file); then ENDED may be returned.
   * @throws QueueEmptyError when still empty at the timeout.
   */
  getSync(timeout?: number, ended?: () => boolean, slice?: number): unknown {
    const deadline = deadlineFor(timeout);
    if (ended === undefined) {
      const tried = this.#tryGet();
      if (tried === EMPTY && remaining(deadline) === 0) throw new QueueEmptyError('queue is empty');
      if (tried !== undefined && tried !== EMPTY) return this.#finish((tried as { taken: unknown }).taken);
    }
    return this.#gotten(runSync(ringGet(this.ring, this.#read, deadline, ended, slice)));
  }

  /** As {@link getSync}, without blocking the event loop. */
  get(timeout?: number, ended?: () => boolean, slice?: number): Promise<unknown> {
    let deadline: number;
    try {
      deadline = deadlineFor(timeout);
      if (ended === undefined) {
        const tried = this.#tryGet();
        if (tried === EMPTY && remaining(deadline) === 0) throw new QueueEmptyError('queue is empty');
        if (tried !== undefined && tried !== EMPTY) return Promise.resolve(this.#finish((tried as { taken: unknown }).taken));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#getSlow(deadline, ended, slice);
  }

  async #getSlow(deadline: number, ended: (() => boolean) | undefined, slice: number | undefined): Promise<unknown> {
    return this.#gotten(await runAsync(ringGet(this.ring, this.#read, deadline, ended, slice)));
  }

  #gotten(outcome: GetOutcome<unknown>): unknown {
    if (outcome === 'timed-out') throw new QueueEmptyError('queue is empty');
    if (outcome === 'ended') return ENDED;
    return this.#finish(outcome.value);
  }

  /** Waits until an item is there or `ended()` (a Pipe's poll); false at the timeout. */
  pollSync(timeout: number | undefined, ended: () => boolean, slice?: number): boolean {
    return runSync(ringPoll(this.ring, deadlineFor(timeout), ended, slice));
  }

  /** As {@link pollSync}, without blocking the event loop. */
  poll(timeout: number | undefined, ended: () => boolean, slice?: number): Promise<boolean> {
    try {
      return runAsync(ringPoll(this.ring, deadlineFor(timeout), ended, slice));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // -------------------------------------------------------------------------------------------
  // sizes, tasks

  qsize(): number {
    return ringCount(this.ring);
  }

  empty(): boolean {
    return ringCount(this.ring) === 0;
  }

  full(): boolean {
    return this.ring.maxsize > 0 && ringCount(this.ring) >= this.ring.maxsize;
  }

  /** @throws ValueError when called more times than items were put. */
  taskDone(): void {
    if (!ringTaskDone(this.ring)) throw new ValueError('taskDone() called too many times');
  }

  /** Waits until every item put has been marked done with taskDone(). */
  join(): Promise<void> {
    if (ringUnfinished(this.ring) === 0) return RESOLVED;
    return runAsync(ringJoin(this.ring, FOREVER)).then(() => undefined);
  }

  joinSync(): void {
    if (ringUnfinished(this.ring) !== 0) runSync(ringJoin(this.ring, FOREVER));
  }
}

/** The payload of an Encoded as one Buffer (a spill of several parts). */
function materialize(encoded: Encoded): Buffer {
  const whole = Buffer.allocUnsafe(encoded.length);
  encoded.write({ u8: whole }, 0);
  return whole;
}

/** Reads a SPILL record (under the lock): only the names of its parts. */
function readSpillRecord(chunk: Chunk, offset: number): Spilled {
  const w = offset >> 2;
  const count = chunk.i32[w + 1];
  const parts: [number, number][] = [];
  for (let i = 0; i < count; i++) parts.push([chunk.i32[w + 4 + 2 * i], chunk.i32[w + 5 + 2 * i]]);
  return new Spilled(chunk.i32[w], chunk.f64[(offset >> 3) + 1], parts);
}

/** Decodes a payload in memory this thread owns (a spill): v8 reads it in place, without a copy. */
function decodeOwned(kind: number, view: { u8: Uint8Array }, offset: number, length: number, options: SerializeOptions): unknown {
  if (kind === V8 || kind === V8_BUFFERS) return finish(new Pending(kind, view.u8.subarray(offset, offset + length)), options);
  const value = readPayload(kind, view, offset, length);
  return value instanceof Pending ? finish(value, options) : value;
}

