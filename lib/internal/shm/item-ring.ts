/**
 * The item ring: a queue of serialized items in shared memory, put and taken by any number of
 * threads (a block of this process) or processes (a block of the arena) — every queue of
 * `threadkit/queue` and `threadkit/multiprocessing`, and each direction of a Pipe.
 *
 * Memory. The ring is a circle of chunks. The first chunk (C0) is part of the queue's own block;
 * more are added when the ring is full, from the queue's ChunkStore (a SharedArrayBuffer handed to
 * other threads through the native shelf, or a block of the arena). An item is one record, always
 * inside one chunk: `[payload length][kind | flags][payload, padded to 8 bytes]`. A record larger
 * than SPILL_BYTES is not copied into the ring: its bytes go to chunks of their own (a spill),
 * written and read outside the lock, and the ring holds a small record naming them (the caller's
 * business: the ring just carries records). Records are appended at TAIL; the chunks after the
 * tail's chunk and before the head's chunk are free, and the tail moves into the next chunk when
 * the record does not fit, or inserts a new chunk there when the next one is the head's (full):
 *
 *          HEAD                                  TAIL
 *     ┌─────▼────────────┐   ┌──────────────────▼─┐   ┌────────────┐
 *     │ ░░ rec rec rec   │──▶│ rec rec rec rec     │──▶│ (free)     │──┐
 *     └──────────────────┘   └─────────────────────┘   └────────────┘  │
 *              ▲─────────────────────────────────────────────────────┘
 *
 * When the last item is taken, HEAD and TAIL go back to the start of C0, and a ring that grew past
 * RETAIN_BYTES gives its other chunks back.
 *
 * Order. FIFO takes the record at HEAD. LIFO and PRIORITY keep a binary heap of record locations
 * (a vector of 8-word entries in segments of doubling size): PRIORITY orders by the item's sort
 * key, then arrival; LIFO by arrival, newest first. A record they take is marked DEAD; HEAD skips
 * dead records, and TAIL steps back over the record taken when it was the last one (so LIFO, a
 * stack, never leaves a hole). PRIORITY can leave holes in the middle; when the ring would grow
 * while less than half of it holds live records, the live records are slid to the front first.
 *
 * State. Everything that says where items are (HEAD, TAIL, COUNT, UNFINISHED, the ring's size, the
 * arrival counter) lives in two copies; VERSION's parity says which is current. Under LOCK (an owned
 * mutex, owned-mutex.ts), an operation reads the current copy, writes new bytes only where no
 * reader looks yet (free space of a chunk, a new chunk, the sealed end of the tail's chunk, the
 * link to a chunk inserted after the tail), writes the new state into the other copy, and commits
 * with one store: VERSION + 1. Lock-free readers (qsize, empty, full) read VERSION, then the field.
 *
 * The claim protocol, and why no item is lost or duplicated when a process dies. Items are claimed
 * under LOCK: a get copies the record out of the ring (or, for a spill, the names of its chunks)
 * and commits; only then does it unlock and rebuild the value. A process may be killed at any
 * instant, which leaves three cases. (1) It held no lock: nothing shared is half done. A getter
 * killed after its commit had claimed the item, which is lost with it (at most that one item, and
 * the memory of its spill, if any); a putter killed before its commit never put it. (2) It held
 * LOCK and had not committed: everything it wrote is in space that the current state does not
 * reach (free space, an unlinked chunk, an end mark of the chunk the tail is still writing, a link
 * that points at a free chunk); the next process that waited a second for LOCK takes it over, and
 * the current copy is exactly the state before the dead operation: nothing taken, nothing added.
 * (3) It held LOCK and had committed: the state is the state after; the takeover just goes on.
 * The wait words (NOT_EMPTY, NOT_FULL, ALL_DONE) are only hints of change: a wake lost with a dead
 * process delays a waiter until its next slice, it never loses an item. So for everyone else the
 * queue keeps working, with every item put exactly once in it, and taken at most once.
 * This covers FIFO, the order of every queue that processes share. LIFO and PRIORITY
 * (`threadkit/queue` only, whose threads cannot be killed one by one) update their heap in place.
 *
 * Waiting: a getter that finds no item reads NOT_EMPTY under LOCK, unlocks, spins while NOT_EMPTY
 * holds what it read, then counts itself in GET_WAITERS and sleeps while it still does. Every put
 * bumps NOT_EMPTY under LOCK and, after unlocking, wakes one getter if GET_WAITERS says one sleeps
 * (all of them for a Pipe, whose poll() waits without taking). The race this prevents (the lost
 * wake-up) is the semaphore's (counting-semaphore.ts): a put after the getter's unlock changes the
 * word it sleeps on, and one before it was seen under the lock; a getter that spins is not counted,
 * so a put that ends its spin costs no wake (a syscall between processes). A woken getter always
 * tries again before it looks at its deadline, so a wake is never wasted on a getter that leaves.
 * Putters of a bounded queue wait on NOT_FULL the same way; joiners wait on ALL_DONE, bumped when
 * UNFINISHED comes down to 0.
 *
 * This is CPython's `queue.Queue` (a deque, a mutex and the not_empty / not_full / all_tasks_done
 * conditions) moved into shared memory, with the items serialized, as `multiprocessing.Queue`
 * serializes them — but into the ring itself, so a put is done when the bytes are in shared memory
 * (no feeder thread, no pipe).
 */
import { performance } from 'node:perf_hooks';
import { park, runSync, type Steps } from './steps';
import type { Block } from './block';
import { remaining, FOREVER } from './deadline';
import * as park_ from './park';
import * as ownedMutex from './owned-mutex';

// Module-local copies: some loaders (esbuild/tsx) turn imported bindings into getters.
const { spinWhile, unpark } = park_;
const { ownedLock, ownedTryLock, ownedUnlock } = ownedMutex;

// ---------------------------------------------------------------------------------------------
// Layout of the ring's block (words)

/** Slot: the owned mutex guarding everything but the wait words. */
export const LOCK = 0;
/** Slot: parity selects the current state copy. */
export const VERSION = 1;
/** Slot: bumped by every put (and every change a reader of a Pipe waits for). */
export const NOT_EMPTY = 2;
/** Slot: getters asleep (or about to be) on NOT_EMPTY. */
export const GET_WAITERS = 3;
/** Slot: bumped by every get. */
export const NOT_FULL = 4;
/** Slot: putters asleep (or about to be) on NOT_FULL. */
export const PUT_WAITERS = 5;
/** Slot: bumped whenever UNFINISHED comes down to 0. */
export const ALL_DONE = 6;
/** Slot: joiners asleep (or about to be) on ALL_DONE. */
export const JOIN_WAITERS = 7;
/** Slot (fixed): most items at once; 0 = no limit. */
export const MAXSIZE = 8;
/** Slot (fixed): FIFO, LIFO or PRIORITY. */
export const ORDER = 9;
/** Slot (fixed): WAKE_ALL. */
export const FLAGS = 10;
/** Slot: bumped whenever chunks leave the ring (cached views of them are dropped). */
export const EPOCH = 11;
/** Slot (fixed): entries of the heap's first segment (in the block; 0 for FIFO). */
const VEC_BASE = 12;
/** Slot (fixed): byte offset of the heap's first segment in the block. */
const VEC0_BYTE = 13;
/** Slot (fixed): byte offset of C0 in the block. */
const C0_BYTE = 14;
/** First word of the two state copies. */
const STATE = 16;

// State fields (offsets inside a copy).
const HEAD_A = 0;
const HEAD_B = 1;
const HEAD_POS = 2;
const TAIL_A = 3;
const TAIL_B = 4;
const TAIL_POS = 5;
const COUNT = 6;
const UNFINISHED = 7;
/** Data bytes of all chunks in the ring. */
const RING_BYTES = 8;
/** Bytes of live records (PRIORITY: when to compact). */
const LIVE_BYTES = 9;
/** Arrival counter, as two words (LIFO and PRIORITY break ties with it). */
const SEQ_HI = 10;
const SEQ_LO = 11;
const STATE_WORDS = 12;

/** First word of the heap's segment refs: VEC_SEGMENTS × (a, b). */
const VEC = STATE + 2 * STATE_WORDS;
const VEC_SEGMENTS = 24;
/** Words of the block before the heap's first segment and C0. */
const HEADER_WORDS = VEC + 2 * VEC_SEGMENTS;

/** ORDER: first in, first out (Queue, every multiprocessing queue, Pipe). */
export const FIFO = 0;
/** ORDER: last in, first out (LifoQueue). */
export const LIFO = 1;
/** ORDER: lowest sort key first, then first in (PriorityQueue). */
export const PRIORITY = 2;
/** FLAGS: a put wakes every waiting getter (Pipe: poll() waits without taking). */
export const WAKE_ALL = 1;

// A chunk: header words, then records.
const CH_NEXT_A = 0;
const CH_NEXT_B = 1;
/** Where its records end, once the tail left it. */
const CH_END = 2;
/** Bytes of the chunk, header included (written by the store that made it). */
export const CH_SIZE = 3;
/** Bytes of a chunk's header: its first record starts there. */
export const CHUNK_HEADER_BYTES = 16;

// A record: two header words, then the payload.
const R_LENGTH = 0;
const R_KIND = 1;
export const RECORD_HEADER_BYTES = 8;
/** R_KIND flag (bits 8+): taken (LIFO, PRIORITY). */
const DEAD = 1 << 8;
const KIND_MASK = 0xff;

// A heap entry (8 words): the record's place, the arrival, the key's number prefix.
const ENTRY_WORDS = 8;
const E_A = 0;
const E_B = 1;
const E_POS = 2;
const E_TAG = 3;
const E_SEQ_HI = 4;
const E_SEQ_LO = 5;
/** Float64 index (of the entry's 4 float64s) of the number prefix. */
const E_NUMBER_F64 = 3;
/** E_TAG bits: the key starts with a number (an array's first element, or the key itself); the key is that number and nothing more. */
export const KEY_NUMBER = 1;
export const KEY_EXACT = 2;

/** Payloads above this go to a spill, not into the ring. */
export const SPILL_BYTES = 64 * 1024;
/** A ring that grew beyond this gives its extra chunks back when it empties. */
const RETAIN_BYTES = 1 << 20;
/** Largest chunk added when the ring grows (a larger record gets one of its own size). */
const MAX_CHUNK_BYTES = 1 << 20;
const SEQ_WRAP = 0x100000000;

// ---------------------------------------------------------------------------------------------
// Memory: chunks and where they come from

/** Views of a chunk (or a heap segment): words, bytes and float64s over the same memory. */
export interface Chunk {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly f64: Float64Array;
}

/**
 * Where a ring's chunks live. A chunk is named by two words `(a, b)`; `(0, 0)` is C0, in the
 * ring's own block. Implementations cache views per thread and drop them on `forget()`.
 */
export interface ChunkStore {
  /** False when `allocate` always says no (a thread queue without the native addon: C0 is all it has). */
  readonly canGrow: boolean;
  /** The chunk named (a, b). */
  chunk(a: number, b: number): Chunk;
  /** The chunk named (a, b), not cached (a spill, read once). */
  read(a: number, b: number): Chunk;
  /**
   * A new zeroed chunk of `bytes` bytes (a multiple of 8) with its CH_SIZE word set, or undefined
   * when this memory cannot grow. `transient`: read once (a spill), not worth caching.
   */
  allocate(bytes: number, transient?: boolean): { readonly a: number; readonly b: number; readonly chunk: Chunk } | undefined;
  /** Gives chunk (a, b) back. */
  free(a: number, b: number): void;
  /**
   * How many of `bytes` payload bytes the next part of a spill should hold: all of them, or fewer
   * when a smaller part fits the memory's block sizes without waste.
   */
  partSize(bytes: number): number;
  /** Drops cached views (chunks left the ring). */
  forget(): void;
}

/** What a put writes: the payload of one record, and for PRIORITY its sort key. */
export interface RecordSource {
  /** The record's kind (0–255), kept for the reader. */
  readonly kind: number;
  /** Payload bytes. */
  readonly length: number;
  /** Writes the payload at byte `offset` of `chunk` (8-aligned). */
  write(chunk: Chunk, offset: number): void;
  /** PRIORITY: the encoded sort key, its E_TAG bits and number prefix. */
  readonly key?: Uint8Array;
  readonly keyTag?: number;
  readonly keyNumber?: number;
}

/** Reads a record's payload under the lock (copying whatever must outlive it). */
export type RecordReader<T> = (kind: number, chunk: Chunk, offset: number, length: number) => T;

/** Compares two encoded sort keys: `(u8a, offset, length, u8b, offset, length)` → <0, 0, >0. */
export type KeyCompare = (a: Uint8Array, ao: number, al: number, b: Uint8Array, bo: number, bl: number) => number;

/** How a ring is laid out in its block. */
export interface RingLayout {
  readonly order: number;
  readonly maxsize: number;
  readonly flags: number;
  /** Heap entries in the block (LIFO, PRIORITY; 0 for FIFO). */
  readonly vecBase: number;
  /** Bytes of C0 (header included). */
  readonly c0Bytes: number;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Bytes a ring's block needs for `layout`. */
export function ringBytes(layout: RingLayout): number {
  return align8(HEADER_WORDS * 4) + layout.vecBase * ENTRY_WORDS * 4 + layout.c0Bytes;
}

/** Byte offsets of the heap's first segment and of C0 in the block. */
function offsets(layout: RingLayout): { vec0: number; c0: number } {
  const vec0 = align8(HEADER_WORDS * 4);
  return { vec0, c0: vec0 + layout.vecBase * ENTRY_WORDS * 4 };
}

/** Where C0 starts in a ring's block (for the stores, which make its views). */
export function c0Offset(layout: RingLayout): number {
  return offsets(layout).c0;
}

/** Where the heap's first segment starts in a ring's block. */
export function vec0Offset(layout: RingLayout): number {
  return offsets(layout).vec0;
}

/** Reads the fixed layout back from an initialized block (a revived handle). */
export function readLayout(i32: Int32Array, blockBytes: number): RingLayout {
  const vecBase = i32[VEC_BASE];
  const c0 = i32[C0_BYTE];
  return { order: i32[ORDER], maxsize: i32[MAXSIZE], flags: i32[FLAGS], vecBase, c0Bytes: blockBytes - c0 };
}

/** Initializes a zeroed block (and its C0 chunk) for `layout`. */
export function ringInit(block: Block, c0: Chunk, layout: RingLayout): void {
  const i32 = block.i32;
  const { vec0, c0: c0Byte } = offsets(layout);
  i32[MAXSIZE] = layout.maxsize;
  i32[ORDER] = layout.order;
  i32[FLAGS] = layout.flags;
  i32[VEC_BASE] = layout.vecBase;
  i32[VEC0_BYTE] = vec0;
  i32[C0_BYTE] = c0Byte;
  c0.i32[CH_NEXT_A] = 0;
  c0.i32[CH_NEXT_B] = 0;
  c0.i32[CH_SIZE] = layout.c0Bytes;
  i32[STATE + HEAD_POS] = CHUNK_HEADER_BYTES;
  i32[STATE + TAIL_POS] = CHUNK_HEADER_BYTES;
  i32[STATE + RING_BYTES] = layout.c0Bytes;
  Atomics.store(i32, VERSION, 0);
}

// ---------------------------------------------------------------------------------------------
// A thread's view of a ring

/** One thread's handle on a ring: its block, its chunk store and a scratch copy of the state. */
export class Ring {
  readonly i32: Int32Array;
  readonly order: number;
  readonly wakeAll: boolean;
  /** The state, read under LOCK by `load` and written back by `commit`. */
  readonly s = new Int32Array(STATE_WORDS);
  #version = 0;
  #epoch = 0;
  /** The heap's first segment (in the block), when there is a heap. */
  readonly #vec0: Chunk | undefined;
  readonly #vecBase: number;

  constructor(
    readonly block: Block,
    readonly store: ChunkStore,
    vec0: Chunk | undefined,
    readonly compareKeys?: KeyCompare,
  ) {
    this.i32 = block.i32;
    this.order = this.i32[ORDER];
    this.wakeAll = (this.i32[FLAGS] & WAKE_ALL) !== 0;
    this.#vec0 = vec0;
    this.#vecBase = this.i32[VEC_BASE];
  }

  /** The most items at once (0: no limit); any thread may change it (ringSetMaxsize). */
  get maxsize(): number {
    return Atomics.load(this.i32, MAXSIZE);
  }

  /** Reads the current state into `s` (under LOCK). */
  load(): void {
    const v = Atomics.load(this.i32, VERSION);
    this.#version = v;
    const base = STATE + (v & 1) * STATE_WORDS;
    for (let k = 0; k < STATE_WORDS; k++) this.s[k] = this.i32[base + k];
    const epoch = Atomics.load(this.i32, EPOCH);
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.store.forget();
    }
  }

  /** Writes `s` into the other copy and makes it current: the one store that commits (under LOCK). */
  commit(): void {
    const next = (this.#version + 1) | 0;
    const base = STATE + (next & 1) * STATE_WORDS;
    for (let k = 0; k < STATE_WORDS; k++) this.i32[base + k] = this.s[k];
    Atomics.store(this.i32, VERSION, next);
    this.#version = next;
  }

  /** A field of the current state, without the lock (a value it had recently). */
  peek(field: number): number {
    return Atomics.load(this.i32, STATE + (Atomics.load(this.i32, VERSION) & 1) * STATE_WORDS + field);
  }

  /** Heap entry `i`: its segment's views and the entry's first word there (allocating the segment on demand). */
  entry(i: number, allocate = false): { c: Chunk; w: number } | undefined {
    const base = this.#vecBase;
    if (i < base) return { c: this.#vec0!, w: (this.i32[VEC0_BYTE] >> 2) + i * ENTRY_WORDS };
    const s = 31 - Math.clz32(Math.floor(i / base) + 1);
    const first = base * ((1 << s) - 1);
    let a = this.i32[VEC + 2 * s];
    let b = this.i32[VEC + 2 * s + 1];
    if (a === 0 && b === 0) {
      if (!allocate) return undefined;
      const made = this.store.allocate(CHUNK_HEADER_BYTES + (base << s) * ENTRY_WORDS * 4);
      if (made === undefined) return undefined;
      a = made.a;
      b = made.b;
      this.i32[VEC + 2 * s] = a;
      this.i32[VEC + 2 * s + 1] = b;
    }
    return { c: this.store.chunk(a, b), w: (CHUNK_HEADER_BYTES >> 2) + (i - first) * ENTRY_WORDS };
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers under LOCK

function sameChunk(a1: number, b1: number, a2: number, b2: number): boolean {
  return a1 === a2 && b1 === b2;
}

/** Bytes of the record whose payload is `length` bytes. */
export function recordBytes(length: number): number {
  return align8(RECORD_HEADER_BYTES + length);
}

function recordAt(chunk: Chunk, pos: number): { length: number; kind: number } {
  return { length: chunk.i32[(pos >> 2) + R_LENGTH], kind: chunk.i32[(pos >> 2) + R_KIND] };
}

/**
 * Finds room for a record of `bytes` bytes at TAIL, moving the tail into the next free chunk or
 * inserting a new chunk after the tail's. Writes only where no reader looks before the commit.
 * Returns false when the ring is full and its memory cannot grow.
 */
function reserve(r: Ring, bytes: number): boolean {
  const s = r.s;
  let tail = r.store.chunk(s[TAIL_A], s[TAIL_B]);
  if (s[TAIL_POS] + bytes <= tail.i32[CH_SIZE]) return true;
  const nextA = tail.i32[CH_NEXT_A];
  const nextB = tail.i32[CH_NEXT_B];
  const headChunk = sameChunk(nextA, nextB, s[HEAD_A], s[HEAD_B]);
  if (!headChunk && CHUNK_HEADER_BYTES + bytes <= r.store.chunk(nextA, nextB).i32[CH_SIZE]) {
    // The next chunk is free (it lies after the tail and before the head): move on.
    tail.i32[CH_END] = s[TAIL_POS];
    s[TAIL_A] = nextA;
    s[TAIL_B] = nextB;
    s[TAIL_POS] = CHUNK_HEADER_BYTES;
    return true;
  }
  if (r.order === PRIORITY && s[LIVE_BYTES] * 2 < s[RING_BYTES] && s[COUNT] > 0) {
    compact(r);
    tail = r.store.chunk(s[TAIL_A], s[TAIL_B]);
    if (s[TAIL_POS] + bytes <= tail.i32[CH_SIZE]) return true;
  }
  const size = Math.max(CHUNK_HEADER_BYTES + bytes, Math.min(MAX_CHUNK_BYTES, s[RING_BYTES]));
  const made = r.store.allocate(size);
  if (made === undefined) return false;
  const chunk = made.chunk;
  chunk.i32[CH_NEXT_A] = nextA;
  chunk.i32[CH_NEXT_B] = nextB;
  tail = r.store.chunk(s[TAIL_A], s[TAIL_B]);
  tail.i32[CH_END] = s[TAIL_POS];
  // Visible only to a walk from the tail's chunk, which starts after the commit; a dead putter
  // leaves a free chunk in the ring, nothing worse.
  tail.i32[CH_NEXT_A] = made.a;
  tail.i32[CH_NEXT_B] = made.b;
  s[TAIL_A] = made.a;
  s[TAIL_B] = made.b;
  s[TAIL_POS] = CHUNK_HEADER_BYTES;
  s[RING_BYTES] += chunk.u8.length;
  return true;
}

/** Outcome of {@link ringTryPut}. */
export type PutOutcome = 'put' | 'full' | 'no-room';

/**
 * Appends a record for `source` if the queue has room (call holding LOCK, state loaded); commits.
 * 'full': maxsize items are in it; 'no-room': its memory cannot grow now (a get may free some).
 */
export function ringPutLocked(r: Ring, source: RecordSource): PutOutcome {
  const s = r.s;
  const maxsize = Atomics.load(r.i32, MAXSIZE);
  if (maxsize > 0 && s[COUNT] >= maxsize) return 'full';
  const keyBytes = r.order === PRIORITY ? align8(8 + source.key!.length) : 0;
  const bytes = recordBytes(keyBytes + source.length);
  if (bytes > 0x7fffffff - CHUNK_HEADER_BYTES) throw new RangeError(`an item of ${source.length} bytes is too large for the ring`);
  // The heap's room first: a record written and then refused would leave the tail moved for nothing.
  if (r.order !== FIFO && r.entry(s[COUNT], true) === undefined) return 'no-room';
  if (!reserve(r, bytes)) return 'no-room';
  const chunk = r.store.chunk(s[TAIL_A], s[TAIL_B]);
  const pos = s[TAIL_POS];
  const w = pos >> 2;
  chunk.i32[w + R_LENGTH] = keyBytes + source.length;
  chunk.i32[w + R_KIND] = source.kind;
  if (keyBytes > 0) {
    chunk.i32[w + 2] = source.key!.length;
    chunk.u8.set(source.key!, pos + RECORD_HEADER_BYTES + 8);
  }
  source.write(chunk, pos + RECORD_HEADER_BYTES + keyBytes);
  if (r.order !== FIFO) heapPush(r, pos, source);
  s[TAIL_POS] = pos + bytes;
  s[COUNT]++;
  s[UNFINISHED]++;
  s[LIVE_BYTES] += bytes;
  if (++s[SEQ_LO] < 0) {
    s[SEQ_LO] = 0;
    s[SEQ_HI]++;
  }
  r.commit();
  Atomics.add(r.i32, NOT_EMPTY, 1);
  return 'put';
}

/**
 * Takes the next record (call holding LOCK, state loaded, COUNT > 0): reads it with `read`,
 * marks it taken and commits. Returns what `read` returned.
 */
export function ringTakeLocked<T>(r: Ring, read: RecordReader<T>): T {
  const s = r.s;
  let value: T;
  if (r.order === FIFO) {
    let chunk = r.store.chunk(s[HEAD_A], s[HEAD_B]);
    while (!sameChunk(s[HEAD_A], s[HEAD_B], s[TAIL_A], s[TAIL_B]) && s[HEAD_POS] >= chunk.i32[CH_END]) {
      const a = chunk.i32[CH_NEXT_A];
      const b = chunk.i32[CH_NEXT_B];
      s[HEAD_A] = a;
      s[HEAD_B] = b;
      s[HEAD_POS] = CHUNK_HEADER_BYTES;
      chunk = r.store.chunk(a, b);
    }
    const pos = s[HEAD_POS];
    const { length, kind } = recordAt(chunk, pos);
    value = read(kind & KIND_MASK, chunk, pos + RECORD_HEADER_BYTES, length);
    s[HEAD_POS] = pos + recordBytes(length);
    s[LIVE_BYTES] -= recordBytes(length);
  } else {
    value = heapPop(r, read);
  }
  s[COUNT]--;
  if (s[COUNT] === 0) {
    // Empty: start again at the front of C0 (nothing live anywhere, dead records included).
    s[HEAD_A] = s[HEAD_B] = s[TAIL_A] = s[TAIL_B] = 0;
    s[HEAD_POS] = s[TAIL_POS] = CHUNK_HEADER_BYTES;
    s[LIVE_BYTES] = 0;
  }
  r.commit();
  Atomics.add(r.i32, NOT_FULL, 1);
  if (s[COUNT] === 0 && s[RING_BYTES] > RETAIN_BYTES) shrink(r);
  return value;
}

/**
 * Gives back every chunk but C0 (call holding LOCK, after committing an empty state). Order
 * matters for a takeover: the commit already moved HEAD and TAIL into C0; then one store unlinks
 * the other chunks; only then are they freed. A process killed in between leaves a ring that
 * still links them (not shrunk), or chunks that are unlinked and not freed (leaked): never a link
 * to freed memory.
 */
function shrink(r: Ring): void {
  const c0 = r.store.chunk(0, 0);
  let a = c0.i32[CH_NEXT_A];
  let b = c0.i32[CH_NEXT_B];
  c0.i32[CH_NEXT_A] = 0;
  c0.i32[CH_NEXT_B] = 0;
  const drop: [number, number][] = [];
  while (!(a === 0 && b === 0)) {
    const chunk = r.store.chunk(a, b);
    drop.push([a, b]);
    const na = chunk.i32[CH_NEXT_A];
    b = chunk.i32[CH_NEXT_B];
    a = na;
  }
  r.s[RING_BYTES] = c0.i32[CH_SIZE];
  r.commit();
  Atomics.add(r.i32, EPOCH, 1);
  for (const [da, db] of drop) r.store.free(da, db);
  r.store.forget();
}

// ---------------------------------------------------------------------------------------------
// The heap of LIFO and PRIORITY (threads only: updated in place under LOCK)

function seqOf(c: Chunk, w: number): number {
  return c.i32[w + E_SEQ_HI] * SEQ_WRAP + (c.i32[w + E_SEQ_LO] >>> 0);
}

/** The encoded key of the record an entry names. */
function keyOf(r: Ring, c: Chunk, w: number): { u8: Uint8Array; offset: number; length: number } {
  const chunk = r.store.chunk(c.i32[w + E_A], c.i32[w + E_B]);
  const pos = c.i32[w + E_POS];
  return { u8: chunk.u8, offset: pos + RECORD_HEADER_BYTES + 8, length: chunk.i32[(pos >> 2) + 2] };
}

function compareNumbers(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  if (x === y) return 0;
  // NaN sorts after every number, and equal to itself.
  return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
}

/** < 0 when entry (ca, wa) comes out before entry (cb, wb). */
function before(r: Ring, ca: Chunk, wa: number, cb: Chunk, wb: number): boolean {
  const seqA = seqOf(ca, wa);
  const seqB = seqOf(cb, wb);
  if (r.order === LIFO) return seqA > seqB;
  const tagA = ca.i32[wa + E_TAG];
  const tagB = cb.i32[wb + E_TAG];
  let order = 0;
  // The number prefixes decide only between keys of one shape: two numbers, or two arrays that
  // start with a number (a number and an array never compare by their numbers).
  if ((tagA & KEY_NUMBER) !== 0 && tagA === tagB) {
    order = compareNumbers(ca.f64[(wa >> 1) + E_NUMBER_F64], cb.f64[(wb >> 1) + E_NUMBER_F64]);
    if (order === 0 && (tagA & KEY_EXACT) === 0) {
      const ka = keyOf(r, ca, wa);
      const kb = keyOf(r, cb, wb);
      order = r.compareKeys!(ka.u8, ka.offset, ka.length, kb.u8, kb.offset, kb.length);
    }
  } else {
    const ka = keyOf(r, ca, wa);
    const kb = keyOf(r, cb, wb);
    order = r.compareKeys!(ka.u8, ka.offset, ka.length, kb.u8, kb.offset, kb.length);
  }
  return order !== 0 ? order < 0 : seqA < seqB;
}

function swap(ca: Chunk, wa: number, cb: Chunk, wb: number): void {
  for (let k = 0; k < ENTRY_WORDS; k++) {
    const t = ca.i32[wa + k];
    ca.i32[wa + k] = cb.i32[wb + k];
    cb.i32[wb + k] = t;
  }
}

function heapPush(r: Ring, pos: number, source: RecordSource): void {
  const s = r.s;
  let i = s[COUNT];
  const { c, w } = r.entry(i)!;
  c.i32[w + E_A] = s[TAIL_A];
  c.i32[w + E_B] = s[TAIL_B];
  c.i32[w + E_POS] = pos;
  c.i32[w + E_TAG] = source.keyTag ?? 0;
  c.i32[w + E_SEQ_HI] = s[SEQ_HI];
  c.i32[w + E_SEQ_LO] = s[SEQ_LO];
  c.f64[(w >> 1) + E_NUMBER_F64] = source.keyNumber ?? 0;
  // Sift up.
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = r.entry(parent)!;
    const me = r.entry(i)!;
    if (!before(r, me.c, me.w, p.c, p.w)) break;
    swap(me.c, me.w, p.c, p.w);
    i = parent;
  }
}

function heapPop<T>(r: Ring, read: RecordReader<T>): T {
  const s = r.s;
  const top = r.entry(0)!;
  const a = top.c.i32[top.w + E_A];
  const b = top.c.i32[top.w + E_B];
  const pos = top.c.i32[top.w + E_POS];
  const chunk = r.store.chunk(a, b);
  const { length, kind } = recordAt(chunk, pos);
  const keyBytes = r.order === PRIORITY ? align8(8 + chunk.i32[(pos >> 2) + 2]) : 0;
  const value = read(kind & KIND_MASK, chunk, pos + RECORD_HEADER_BYTES + keyBytes, length - keyBytes);
  chunk.i32[(pos >> 2) + R_KIND] = kind | DEAD;
  const bytes = recordBytes(length);
  s[LIVE_BYTES] -= bytes;
  // Move the last entry to the top and sift it down.
  const n = s[COUNT] - 1;
  if (n > 0) {
    const last = r.entry(n)!;
    for (let k = 0; k < ENTRY_WORDS; k++) top.c.i32[top.w + k] = last.c.i32[last.w + k];
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      let child = left;
      const l = r.entry(left)!;
      let best = l;
      if (left + 1 < n) {
        const rt = r.entry(left + 1)!;
        if (before(r, rt.c, rt.w, l.c, l.w)) {
          child = left + 1;
          best = rt;
        }
      }
      const me = r.entry(i)!;
      if (!before(r, best.c, best.w, me.c, me.w)) break;
      swap(best.c, best.w, me.c, me.w);
      i = child;
    }
  }
  stepBackTail(r, a, b, pos, bytes);
  skipDeadHead(r);
  return value;
}

/** The record just taken was the last one: TAIL steps back over it (a stack never leaves holes). */
function stepBackTail(r: Ring, a: number, b: number, pos: number, bytes: number): void {
  const s = r.s;
  if (sameChunk(a, b, s[TAIL_A], s[TAIL_B])) {
    if (pos + bytes === s[TAIL_POS]) s[TAIL_POS] = pos;
    return;
  }
  // The tail moved on into an empty chunk right after the record's.
  const chunk = r.store.chunk(a, b);
  if (s[TAIL_POS] === CHUNK_HEADER_BYTES && sameChunk(chunk.i32[CH_NEXT_A], chunk.i32[CH_NEXT_B], s[TAIL_A], s[TAIL_B]) && pos + bytes === chunk.i32[CH_END]) {
    s[TAIL_A] = a;
    s[TAIL_B] = b;
    s[TAIL_POS] = pos;
  }
}

/** HEAD moves over taken records, so their space comes back in arrival order. */
function skipDeadHead(r: Ring): void {
  const s = r.s;
  for (;;) {
    const atTailChunk = sameChunk(s[HEAD_A], s[HEAD_B], s[TAIL_A], s[TAIL_B]);
    if (atTailChunk && s[HEAD_POS] >= s[TAIL_POS]) return;
    const chunk = r.store.chunk(s[HEAD_A], s[HEAD_B]);
    if (!atTailChunk && s[HEAD_POS] >= chunk.i32[CH_END]) {
      const a = chunk.i32[CH_NEXT_A];
      s[HEAD_B] = chunk.i32[CH_NEXT_B];
      s[HEAD_A] = a;
      s[HEAD_POS] = CHUNK_HEADER_BYTES;
      continue;
    }
    const { length, kind } = recordAt(chunk, s[HEAD_POS]);
    if ((kind & DEAD) === 0) return;
    s[HEAD_POS] += recordBytes(length);
  }
}

/**
 * Slides PRIORITY's live records to the front of the ring, in ring order, and points their heap
 * entries at the new places. A record only ever moves back (towards HEAD's chunk), so it is copied
 * over space that is free or its own.
 */
function compact(r: Ring): void {
  const s = r.s;
  const n = s[COUNT];
  // Rank of each chunk in ring order from HEAD's chunk.
  const rank = new Map<string, number>();
  let a = s[HEAD_A];
  let b = s[HEAD_B];
  const chain: [number, number][] = [];
  for (;;) {
    rank.set(`${a}/${b}`, chain.length);
    chain.push([a, b]);
    const c = r.store.chunk(a, b);
    const na = c.i32[CH_NEXT_A];
    b = c.i32[CH_NEXT_B];
    a = na;
    if (sameChunk(a, b, s[HEAD_A], s[HEAD_B])) break;
  }
  const order: number[] = Array.from({ length: n }, (_, i) => i);
  const where = order.map((i) => {
    const e = r.entry(i)!;
    return rank.get(`${e.c.i32[e.w + E_A]}/${e.c.i32[e.w + E_B]}`)! * 0x80000000 + e.c.i32[e.w + E_POS];
  });
  order.sort((x, y) => where[x] - where[y]);
  let d = 0;
  let dst = r.store.chunk(chain[0][0], chain[0][1]);
  let dpos = CHUNK_HEADER_BYTES;
  for (const i of order) {
    const e = r.entry(i)!;
    const src = r.store.chunk(e.c.i32[e.w + E_A], e.c.i32[e.w + E_B]);
    const spos = e.c.i32[e.w + E_POS];
    const bytes = recordBytes(src.i32[(spos >> 2) + R_LENGTH]);
    while (dpos + bytes > dst.i32[CH_SIZE]) {
      dst.i32[CH_END] = dpos;
      d++;
      dst = r.store.chunk(chain[d][0], chain[d][1]);
      dpos = CHUNK_HEADER_BYTES;
    }
    if (dst === src) dst.u8.copyWithin(dpos, spos, spos + bytes);
    else dst.u8.set(src.u8.subarray(spos, spos + bytes), dpos);
    e.c.i32[e.w + E_A] = chain[d][0];
    e.c.i32[e.w + E_B] = chain[d][1];
    e.c.i32[e.w + E_POS] = dpos;
    dpos += bytes;
  }
  s[HEAD_A] = chain[0][0];
  s[HEAD_B] = chain[0][1];
  s[HEAD_POS] = CHUNK_HEADER_BYTES;
  s[TAIL_A] = chain[d][0];
  s[TAIL_B] = chain[d][1];
  s[TAIL_POS] = dpos;
}

// ---------------------------------------------------------------------------------------------
// Locking, waiting and waking

/** Takes LOCK without waiting and loads the state. */
export function ringTryLock(r: Ring): boolean {
  if (!ownedTryLock(r.block, LOCK)) return false;
  r.load();
  return true;
}

/** Takes LOCK (waiting until `deadline`) and loads the state; false when the deadline passed. */
export function* ringLock(r: Ring, deadline: number): Steps<boolean> {
  const taken = yield* ownedLock(r.block, LOCK, deadline);
  if (taken === undefined) return false;
  // A lock taken over from a dead process needs no repair: see "the claim protocol" above.
  r.load();
  return true;
}

/** Releases LOCK. */
export function ringUnlock(r: Ring): void {
  ownedUnlock(r.block, LOCK);
}

/** After a put (LOCK released): wakes a getter (every getter for WAKE_ALL) if one sleeps. */
export function ringWakeGetters(r: Ring): void {
  if (Atomics.load(r.i32, GET_WAITERS) > 0) unpark(r.block, NOT_EMPTY, r.wakeAll ? Infinity : 1);
}

/** After a get (LOCK released): wakes a putter if one sleeps. */
export function ringWakePutters(r: Ring): void {
  if (Atomics.load(r.i32, PUT_WAITERS) > 0) unpark(r.block, NOT_FULL, 1);
}

/** Wakes every getter (a Pipe's end closed: readers must look again). */
export function ringSignalGetters(r: Ring): void {
  Atomics.add(r.i32, NOT_EMPTY, 1);
  if (Atomics.load(r.i32, GET_WAITERS) > 0) unpark(r.block, NOT_EMPTY, Infinity);
}

/**
 * Sleeps while `i32[word]` holds `seen` (until `deadline`, at most `slice` at once). Spins first
 * without being counted, so that a waker whose change comes during the spin pays no wake (a syscall
 * across processes; mutex.ts spins for the same reason); then counts itself in `waiters`, looks at
 * the word once more, and parks. The waker changes the word before it reads `waiters`, the waiter
 * counts itself before it reads the word: one of them sees the other (the lost wake-up of
 * counting-semaphore.ts, prevented the same way).
 */
function* waitChange(r: Ring, word: number, waiters: number, seen: number, deadline: number, slice: number): Steps<void> {
  if (spinWhile(r.i32, word, seen)) return;
  Atomics.add(r.i32, waiters, 1);
  try {
    if (Atomics.load(r.i32, word) !== seen) return;
    yield park(r.block, word, seen, Math.min(deadline, performance.now() + slice));
  } finally {
    Atomics.sub(r.i32, waiters, 1);
  }
}

/** Outcome of a waiting get: the value, or why there is none. */
export type GetOutcome<T> = { readonly value: T } | 'timed-out' | 'ended';

/**
 * Takes an item, waiting until `deadline` while the ring is empty. `ended()` (called holding LOCK
 * while the ring is empty) says that nothing will ever come (a Pipe's writer end is closed or
 * dead); `slice` bounds each sleep, so that `ended()` is asked again now and then (a dead process
 * wakes nobody).
 */
export function* ringGet<T>(r: Ring, read: RecordReader<T>, deadline: number, ended?: () => boolean, slice = Infinity): Steps<GetOutcome<T>> {
  for (;;) {
    // LOCK is held for a few µs: even a try-once waits for it (as CPython's get(block=False) takes its mutex).
    yield* ringLock(r, FOREVER);
    if (r.s[COUNT] > 0) {
      let value: T;
      try {
        value = ringTakeLocked(r, read);
      } finally {
        ringUnlock(r);
      }
      ringWakePutters(r);
      return { value };
    }
    if (ended !== undefined && ended()) {
      ringUnlock(r);
      return 'ended';
    }
    const seen = Atomics.load(r.i32, NOT_EMPTY);
    ringUnlock(r);
    if (remaining(deadline) === 0) return 'timed-out';
    yield* waitChange(r, NOT_EMPTY, GET_WAITERS, seen, deadline, slice);
  }
}

/**
 * Waits until an item is there (or `ended()`), without taking it: a Pipe's poll(). True when an
 * item is there or nothing more will come (the next get returns at once either way).
 */
export function* ringPoll(r: Ring, deadline: number, ended: () => boolean, slice = Infinity): Steps<boolean> {
  for (;;) {
    yield* ringLock(r, FOREVER);
    if (r.s[COUNT] > 0 || ended()) {
      ringUnlock(r);
      return true;
    }
    const seen = Atomics.load(r.i32, NOT_EMPTY);
    ringUnlock(r);
    if (remaining(deadline) === 0) return false;
    yield* waitChange(r, NOT_EMPTY, GET_WAITERS, seen, deadline, slice);
  }
}

/** Puts a record, waiting until `deadline` while the queue is full (or out of memory, with items in it). */
export function* ringPut(r: Ring, source: RecordSource, deadline: number, slice = Infinity): Steps<PutOutcome> {
  for (;;) {
    yield* ringLock(r, FOREVER);
    let outcome: PutOutcome;
    try {
      outcome = ringPutLocked(r, source);
    } catch (error) {
      ringUnlock(r);
      throw error;
    }
    // Out of memory with items in the queue: a get will free some, wait for it as for room.
    if (outcome === 'put' || (outcome === 'no-room' && r.s[COUNT] === 0)) {
      ringUnlock(r);
      if (outcome === 'put') ringWakeGetters(r);
      return outcome;
    }
    const seen = Atomics.load(r.i32, NOT_FULL);
    ringUnlock(r);
    if (remaining(deadline) === 0) return outcome;
    yield* waitChange(r, NOT_FULL, PUT_WAITERS, seen, deadline, slice);
  }
}

/**
 * Waits (until `deadline`) for the next get, the one thing that frees memory: a put whose spill
 * could not be allocated waits here. False when the queue is empty (nothing will be freed) or the
 * deadline passed.
 */
export function* ringWaitForGet(r: Ring, deadline: number, slice = Infinity): Steps<boolean> {
  const seen = Atomics.load(r.i32, NOT_FULL);
  if (ringCount(r) === 0 || remaining(deadline) === 0) return false;
  yield* waitChange(r, NOT_FULL, PUT_WAITERS, seen, deadline, slice);
  return true;
}

/** True when the loaded state holds an item (call holding LOCK). */
export function ringHasItem(r: Ring): boolean {
  return r.s[COUNT] > 0;
}

/** Changes the most items at once (Python lets `q.maxsize` be assigned); waiting putters look again. */
export function ringSetMaxsize(r: Ring, maxsize: number): void {
  Atomics.store(r.i32, MAXSIZE, maxsize);
  Atomics.add(r.i32, NOT_FULL, 1);
  if (Atomics.load(r.i32, PUT_WAITERS) > 0) unpark(r.block, NOT_FULL, Infinity);
}

/** Items in the ring now (no lock: a value it had recently). */
export function ringCount(r: Ring): number {
  return r.peek(COUNT);
}

/** Puts not yet matched by a task-done (no lock). */
export function ringUnfinished(r: Ring): number {
  return r.peek(UNFINISHED);
}

/** One task done: false (and nothing changed) when none is unfinished. */
export function ringTaskDone(r: Ring): boolean {
  // A short critical section that nothing slow waits in: taken synchronously.
  if (!ringTryLock(r)) runSync(ringLock(r, FOREVER));
  let ok = false;
  let zero = false;
  try {
    if (r.s[UNFINISHED] > 0) {
      ok = true;
      r.s[UNFINISHED]--;
      zero = r.s[UNFINISHED] === 0;
      r.commit();
      if (zero) Atomics.add(r.i32, ALL_DONE, 1);
    }
  } finally {
    ringUnlock(r);
  }
  if (zero && Atomics.load(r.i32, JOIN_WAITERS) > 0) unpark(r.block, ALL_DONE, Infinity);
  return ok;
}

/** Waits until every item put has been marked done (UNFINISHED is 0, or came down to 0). */
export function* ringJoin(r: Ring, deadline: number, slice = Infinity): Steps<boolean> {
  for (;;) {
    const seen = Atomics.load(r.i32, ALL_DONE);
    Atomics.add(r.i32, JOIN_WAITERS, 1);
    try {
      if (ringUnfinished(r) === 0) return true;
      if (remaining(deadline) === 0) return false;
      yield park(r.block, ALL_DONE, seen, Math.min(deadline, performance.now() + slice));
      if (Atomics.load(r.i32, ALL_DONE) !== seen) return true;
    } finally {
      Atomics.sub(r.i32, JOIN_WAITERS, 1);
    }
  }
}
