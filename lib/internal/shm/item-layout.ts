/**
 * The item ring's memory (item-ring.ts, item-heap.ts): the words of a ring's block, the two copies
 * of its state, its chunks and the records in them, the heap entries of LIFO and PRIORITY, and one
 * thread's view of all that ({@link Ring}). Every slot is named here, once; the algorithms that use
 * them are in item-ring.ts (FIFO, waiting, the claim protocol) and item-heap.ts (LIFO, PRIORITY).
 *
 * The block (words): LOCK, VERSION, the wait words and their waiter counts, the fixed settings
 * (MAXSIZE, ORDER, FLAGS, where the heap's first segment and C0 are), EPOCH, then STATE (two copies
 * of STATE_WORDS fields), then the refs of the heap's segments; after the words, the heap's first
 * segment (LIFO, PRIORITY) and C0.
 *
 * A chunk: CH_NEXT_A, CH_NEXT_B (the next chunk of the ring), CH_END (where its records end, once
 * the tail left it), CH_SIZE; records from CHUNK_HEADER_BYTES on. A chunk is named by two words
 * `(a, b)`, `(0, 0)` being C0; what the two words mean is the ChunkStore's business.
 *
 * A record: R_LENGTH (payload bytes), R_KIND (kind | flags), then the payload, padded to 8 bytes.
 * A PRIORITY record's payload starts with its sort key: `[key length][0][key, padded to 8]`.
 *
 * A heap entry (8 words): the record's chunk and position, E_TAG and the key's leading number (see
 * item-heap.ts), and the arrival number.
 */
import type { Block } from './block';

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
export const VEC_BASE = 12;
/** Slot (fixed): byte offset of the heap's first segment in the block. */
export const VEC0_BYTE = 13;
/** Slot (fixed): byte offset of C0 in the block. */
export const C0_BYTE = 14;
/** First word of the two state copies. */
export const STATE = 16;

// State fields (offsets inside a copy).
export const HEAD_A = 0;
export const HEAD_B = 1;
export const HEAD_POS = 2;
export const TAIL_A = 3;
export const TAIL_B = 4;
export const TAIL_POS = 5;
export const COUNT = 6;
export const UNFINISHED = 7;
/** Data bytes of all chunks in the ring. */
export const RING_BYTES = 8;
/** Bytes of live records (PRIORITY: when to compact). */
export const LIVE_BYTES = 9;
/** Arrival counter, as two words (LIFO and PRIORITY break ties with it). */
export const SEQ_HI = 10;
export const SEQ_LO = 11;
export const STATE_WORDS = 12;

/** First word of the heap's segment refs: VEC_SEGMENTS × (a, b). */
export const VEC = STATE + 2 * STATE_WORDS;
export const VEC_SEGMENTS = 24;
/** Words of the block before the heap's first segment and C0. */
export const HEADER_WORDS = VEC + 2 * VEC_SEGMENTS;

/** ORDER: first in, first out (Queue, every multiprocessing queue, Pipe). */
export const FIFO = 0;
/** ORDER: last in, first out (LifoQueue). */
export const LIFO = 1;
/** ORDER: lowest sort key first, then first in (PriorityQueue). */
export const PRIORITY = 2;
/** FLAGS: a put wakes every waiting getter (Pipe: poll() waits without taking). */
export const WAKE_ALL = 1;

// A chunk: header words, then records.
export const CH_NEXT_A = 0;
export const CH_NEXT_B = 1;
/** Where its records end, once the tail left it. */
export const CH_END = 2;
/** Bytes of the chunk, header included (written by the store that made it). */
export const CH_SIZE = 3;
/** Bytes of a chunk's header: its first record starts there. */
export const CHUNK_HEADER_BYTES = 16;

// A record: two header words, then the payload.
export const R_LENGTH = 0;
export const R_KIND = 1;
export const RECORD_HEADER_BYTES = 8;
/** R_KIND flag (bits 8+): taken (LIFO, PRIORITY). */
export const DEAD = 1 << 8;
export const KIND_MASK = 0xff;

// A heap entry (8 words): the record's place, the arrival, the key's number prefix.
export const ENTRY_WORDS = 8;
export const E_A = 0;
export const E_B = 1;
export const E_POS = 2;
export const E_TAG = 3;
export const E_SEQ_HI = 4;
export const E_SEQ_LO = 5;
/** Float64 index (of the entry's 4 float64s) of the number prefix. */
export const E_NUMBER_F64 = 3;
/** E_TAG bits: the key starts with a number (an array's first element, or the key itself); the key is that number and nothing more. */
export const KEY_NUMBER = 1;
export const KEY_EXACT = 2;

/** Payloads above this go to a spill, not into the ring. */
export const SPILL_BYTES = 64 * 1024;
/** A ring that grew beyond this gives its extra chunks back when it empties. */
export const RETAIN_BYTES = 1 << 20;
/** Largest chunk added when the ring grows (a larger record gets one of its own size). */
export const MAX_CHUNK_BYTES = 1 << 20;
export const SEQ_WRAP = 0x100000000;

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
   * when this memory cannot grow. `transient`: a spill part, read once (not worth caching) and
   * written whole by its caller, so only its header need be zeroed.
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

export function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Bytes a ring's block needs for `layout`. */
export function ringBytes(layout: RingLayout): number {
  return align8(HEADER_WORDS * 4) + layout.vecBase * ENTRY_WORDS * 4 + layout.c0Bytes;
}

/** Byte offsets of the heap's first segment and of C0 in the block. */
export function offsets(layout: RingLayout): { vec0: number; c0: number } {
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
// Records

export function sameChunk(a1: number, b1: number, a2: number, b2: number): boolean {
  return a1 === a2 && b1 === b2;
}

/** Bytes of the record whose payload is `length` bytes. */
export function recordBytes(length: number): number {
  return align8(RECORD_HEADER_BYTES + length);
}

export function recordAt(chunk: Chunk, pos: number): { length: number; kind: number } {
  return { length: chunk.i32[(pos >> 2) + R_LENGTH], kind: chunk.i32[(pos >> 2) + R_KIND] };
}
