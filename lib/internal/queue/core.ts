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
  ringGet, ringJoin, ringPoll, ringPut, ringWaitForGet,
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
  CH_SIZE, CHUNK_HEADER_BYTES, SPILL_BYTES, recordBytes, ringCount, ringHasItem, ringPutLocked, ringTakeLocked, ringTaskDone, ringTryLock, ringUnfinished, ringUnlock,
  ringWakeGetters, ringWakePutters,
} = itemRing;
const { BUFFER, BYTES, FIRST_USER_KIND, V8, V8_BUFFERS, finish, ownBytes, readPayload, serialize } = serializer;
const { deadlineFor, remaining, FOREVER } = deadlines;

/** Record kind: the payload lives in spill chunks. */
const SPILL = FIRST_USER_KIND;
/** SPILL payload: [inner kind][parts][length, a float64][parts × (a, b, bytes, 0)] (words). */
const SPILL_HEADER_BYTES = 16;
const SPILL_PART_BYTES = 16;

/** A spill part: the chunk's name (a, b) and the payload bytes it holds. */
type SpillPart = readonly [number, number, number];

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
  /** The error for memory that is full while the queue is empty (no get will free any). */
  readonly noRoom: () => Error;
  /** Longest single sleep of a wait (process queues: a wake lost with a dead process is not waited for long). */
  readonly slice?: number;
}

/** A spill claimed from the ring, read after the lock is released. */
class Spilled {
  constructor(readonly kind: number, readonly length: number, readonly parts: readonly SpillPart[]) {}
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

  constructor(readonly encoded: Encoded, readonly parts: readonly SpillPart[]) {
    this.length = SPILL_HEADER_BYTES + parts.length * SPILL_PART_BYTES;
  }

  write(chunk: Chunk, offset: number): void {
    const w = offset >> 2;
    chunk.i32[w] = this.encoded.kind;
    chunk.i32[w + 1] = this.parts.length;
    chunk.f64[(offset >> 3) + 1] = this.encoded.length;
    for (let i = 0; i < this.parts.length; i++) {
      const at = w + 4 + 4 * i;
      chunk.i32[at] = this.parts[i][0];
      chunk.i32[at + 1] = this.parts[i][1];
      chunk.i32[at + 2] = this.parts[i][2];
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

  /**
   * The record for a serialized item: the item itself, or a spill of it (written now, outside the
   * lock). Undefined when memory for the spill is short now (a get may free some).
   */
  #source(encoded: Encoded, item: unknown): Prepared | undefined {
    let source: Encoded | SpillSource = encoded;
    if (!this.store.canGrow) {
      // All the memory there is: an item that cannot fit even in an empty queue is refused now.
      if (recordBytes(encoded.length + 1024) > this.store.chunk(0, 0).i32[CH_SIZE] - CHUNK_HEADER_BYTES) throw this.options.noRoom();
    } else if (encoded.length > SPILL_BYTES) {
      const parts = this.#spill(encoded);
      if (parts === undefined) return undefined;
      source = new SpillSource(encoded, parts);
    }
    const sortKey = this.options.sortKey;
    return sortKey === undefined ? source : new KeyedSource(source, sortKey(item));
  }

  /** Gives back what a prepared item holds (spill parts, shelved buffers): it was not put. */
  #abandon(prepared: Prepared | Encoded): void {
    const source = prepared instanceof KeyedSource ? prepared.inner : prepared;
    if (source instanceof SpillSource) {
      for (const part of source.parts) this.store.free(part[0], part[1]);
      source.encoded.abandon(this.options.serialize);
    } else {
      source.abandon(this.options.serialize);
    }
  }

  /**
   * Writes a large payload into spill parts (as the store sizes them); returns their names and
   * sizes, or undefined (nothing kept) when memory is short.
   */
  #spill(encoded: Encoded): SpillPart[] | undefined {
    const parts: SpillPart[] = [];
    try {
      const first = this.store.partSize(encoded.length);
      // One part: written in place. More: cut from the payload's bytes (made whole once if needed).
      const whole = first === encoded.length ? undefined : (encoded.bytes !== undefined && encoded.ids === undefined ? encoded.bytes : materialize(encoded));
      for (let from = 0; from < encoded.length;) {
        const bytes = from === 0 ? first : this.store.partSize(encoded.length - from);
        const made = this.store.allocate(CHUNK_HEADER_BYTES + bytes, true);
        if (made === undefined) {
          for (const part of parts) this.store.free(part[0], part[1]);
          return undefined;
        }
        parts.push([made.a, made.b, bytes]);
        if (whole === undefined) encoded.write(made.chunk, CHUNK_HEADER_BYTES);
        else made.chunk.u8.set(whole.subarray(from, from + bytes), CHUNK_HEADER_BYTES);
        from += bytes;
      }
      return parts;
    } catch (error) {
      for (const part of parts) this.store.free(part[0], part[1]);
      throw error;
    }
  }

  /** The error for memory that is short while nothing in the queue can free any (or at the timeout). */
  #short(timedOut: boolean): Error {
    return timedOut ? new QueueFullError('queue is full: no shared memory came free for the item in time') : this.options.noRoom();
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
    if (outcome === 'no-room') throw this.#short(ringCount(this.ring) > 0);
  }

  /**
   * Puts `item`, blocking this thread while the queue is full (until the timeout).
   * @throws QueueFullError when still full at the timeout; TypeError for an item that cannot be sent.
   */
  putSync(item: unknown, timeout?: number): void {
    const deadline = deadlineFor(timeout);
    const encoded = serialize(item, this.options.serialize);
    let prepared: Prepared | undefined;
    try {
      prepared = this.#source(encoded, item);
      while (prepared === undefined) {
        if (!runSync(ringWaitForGet(this.ring, deadline, this.options.slice))) throw this.#short(ringCount(this.ring) > 0);
        prepared = this.#source(encoded, item);
      }
      let outcome = this.#tryPut(prepared);
      if (outcome === undefined || (outcome !== 'put' && remaining(deadline) > 0)) {
        outcome = runSync(ringPut(this.ring, prepared, deadline, this.options.slice));
      }
      this.#checkPut(outcome);
    } catch (error) {
      this.#abandon(prepared ?? encoded);
      throw error;
    }
  }

  /** As {@link putSync}, without blocking the event loop. */
  put(item: unknown, timeout?: number): Promise<void> {
    let encoded: Encoded | undefined;
    let prepared: Prepared | undefined;
    let deadline: number;
    try {
      deadline = deadlineFor(timeout);
      encoded = serialize(item, this.options.serialize);
      prepared = this.#source(encoded, item);
      if (prepared !== undefined) {
        const outcome = this.#tryPut(prepared);
        if (outcome === 'put') return RESOLVED;
        if (outcome !== undefined && remaining(deadline) === 0) this.#checkPut(outcome);
      } else if (remaining(deadline) === 0) {
        throw this.#short(ringCount(this.ring) > 0);
      }
    } catch (error) {
      if (encoded !== undefined) this.#abandon(prepared ?? encoded);
      return Promise.reject(error);
    }
    return this.#putSlow(encoded, item, prepared, deadline);
  }

  async #putSlow(encoded: Encoded, item: unknown, prepared: Prepared | undefined, deadline: number): Promise<void> {
    try {
      while (prepared === undefined) {
        if (!(await runAsync(ringWaitForGet(this.ring, deadline, this.options.slice)))) throw this.#short(ringCount(this.ring) > 0);
        prepared = this.#source(encoded, item);
      }
      this.#checkPut(await runAsync(ringPut(this.ring, prepared, deadline, this.options.slice)));
    } catch (error) {
      this.#abandon(prepared ?? encoded);
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
      const whole = ownBytes(length);
      let at = 0;
      for (const [a, b, bytes] of parts) {
        whole.set(this.store.read(a, b).u8.subarray(CHUNK_HEADER_BYTES, CHUNK_HEADER_BYTES + bytes), at);
        at += bytes;
      }
      // The bytes are this thread's own now: a Uint8Array or a Buffer item is them, without a copy.
      if (kind === BYTES) return whole;
      if (kind === BUFFER) return Buffer.from(whole.buffer, 0, length);
      return decodeOwned(kind, { u8: Buffer.from(whole.buffer, 0, length) }, 0, length, this.options.serialize);
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
    return this.#gotten(runSync(ringGet(this.ring, this.#read, deadline, ended, slice ?? this.options.slice)));
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
    return this.#gotten(await runAsync(ringGet(this.ring, this.#read, deadline, ended, slice ?? this.options.slice)));
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
    return runAsync(ringJoin(this.ring, FOREVER, this.options.slice)).then(() => undefined);
  }

  joinSync(): void {
    if (ringUnfinished(this.ring) !== 0) runSync(ringJoin(this.ring, FOREVER, this.options.slice));
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
  const parts: SpillPart[] = [];
  for (let i = 0; i < count; i++) {
    const at = w + 4 + 4 * i;
    parts.push([chunk.i32[at], chunk.i32[at + 1], chunk.i32[at + 2]]);
  }
  return new Spilled(chunk.i32[w], chunk.f64[(offset >> 3) + 1], parts);
}

/** Decodes a payload in memory this thread owns (a spill): v8 reads it in place, without a copy. */
function decodeOwned(kind: number, view: { u8: Uint8Array }, offset: number, length: number, options: SerializeOptions): unknown {
  if (kind === V8 || kind === V8_BUFFERS) return finish(new Pending(kind, view.u8.subarray(offset, offset + length)), options);
  const value = readPayload(kind, view, offset, length);
  return value instanceof Pending ? finish(value, options) : value;
}

