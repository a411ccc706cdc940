/**
 * Where the chunks of an item ring live (internal/shm/item-ring.ts): the one thing that differs
 * between a `threadkit/queue` queue and a `threadkit/multiprocessing` one.
 *
 * - {@link LocalStore}: a thread queue. Its block is a SharedArrayBuffer of this process (made by
 *   the native shelf as a group, so that the chunks and the buffers of items shelved with it go when
 *   it goes); more chunks are SharedArrayBuffers on the shelf, named by their shelf id. Without the
 *   addon the block is a plain SharedArrayBuffer and the ring cannot grow.
 * - {@link ArenaStore}: a process queue. Its block and its chunks are blocks of the arena, named by
 *   (segment + 1, offset), allocated and freed by the arena itself (not held by any one thread:
 *   the ring owns them, and the process that takes them out of the ring frees them).
 */
import { CH_SIZE, CHUNK_HEADER_BYTES, type Chunk, type ChunkStore } from '../shm/item-ring';
import type { BufferShelf } from '../transport/serializer';
import { arenaById, type Arena } from '../arena/arena';
import type { ArenaBlock } from '../arena/block';
import { BLOCK_HEADER_BYTES } from '../arena/layout';
import { shelfUnavailable, type Shelf } from './shelf';

const WORD_SPLIT = 0x100000000;
/** Largest arena block a spill part takes (the arena's largest is 128 MiB). */
const MAX_PART_BLOCK = 64 << 20;
/** A spill part below this takes its block as it comes (at most 64 KiB wasted). */
const SMALL_PART = 64 * 1024;

/** Views of `bytes` bytes (a multiple of 8) of `buffer` from `byteOffset` (8-aligned). */
export function chunkViews(buffer: ArrayBufferLike, byteOffset: number, bytes: number): Chunk {
  return {
    i32: new Int32Array(buffer, byteOffset, bytes >> 2),
    u8: Buffer.from(buffer, byteOffset, bytes),
    f64: new Float64Array(buffer, byteOffset, bytes >> 3),
  };
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** The chunks of a thread queue: its own SharedArrayBuffer, then SharedArrayBuffers on the shelf. */
export class LocalStore implements ChunkStore {
  readonly #c0: Chunk;
  readonly #cache = new Map<number, Chunk>();

  readonly canGrow: boolean;

  constructor(readonly group: SharedArrayBuffer, c0Offset: number, readonly shelf: Shelf | undefined) {
    this.#c0 = chunkViews(group, c0Offset, group.byteLength - c0Offset);
    this.canGrow = shelf !== undefined;
  }

  chunk(a: number, b: number): Chunk {
    if (a === 0 && b === 0) return this.#c0;
    const id = a * WORD_SPLIT + (b >>> 0);
    let chunk = this.#cache.get(id);
    if (chunk === undefined) {
      chunk = this.read(a, b);
      this.#cache.set(id, chunk);
    }
    return chunk;
  }

  read(a: number, b: number): Chunk {
    if (a === 0 && b === 0) return this.#c0;
    const buffer = this.shelf?.borrow(a * WORD_SPLIT + (b >>> 0));
    if (buffer === undefined) throw new Error(`internal error: chunk ${a}/${b} of a queue is not on the shelf`);
    return chunkViews(buffer, 0, buffer.byteLength);
  }

  allocate(bytes: number, transient = false): { a: number; b: number; chunk: Chunk } | undefined {
    if (this.shelf === undefined) return undefined;
    const size = align8(Math.max(bytes, CHUNK_HEADER_BYTES));
    const buffer = new SharedArrayBuffer(size);
    const id = this.shelf.shelve(this.group, buffer);
    const chunk = chunkViews(buffer, 0, size);
    chunk.i32[CH_SIZE] = size;
    if (!transient) this.#cache.set(id, chunk);
    return { a: Math.floor(id / WORD_SPLIT), b: (id % WORD_SPLIT) | 0, chunk };
  }

  free(a: number, b: number): void {
    const id = a * WORD_SPLIT + (b >>> 0);
    this.shelf?.discard(id);
    this.#cache.delete(id);
  }

  forget(): void {
    this.#cache.clear();
  }

  partSize(bytes: number): number {
    return bytes; // a SharedArrayBuffer has any size
  }

  /** How SharedArrayBuffers inside items travel: on the shelf, in this queue's group. */
  buffers(): BufferShelf {
    const { group, shelf } = this;
    if (shelf === undefined) {
      const why = shelfUnavailable();
      return {
        put() {
          throw new TypeError(`shared memory (a threading object, a SharedArrayBuffer) inside a queue item needs threadkit's native addon, which could not be loaded: ${why}`);
        },
        take: () => undefined,
        drop() {},
      };
    }
    return {
      // The queue's own memory (a queue put into itself) is named 0: shelving it in its own group
      // would keep the group alive for ever.
      put: (buffer) => (buffer === group ? 0 : shelf.shelve(group, buffer)),
      take: (id) => (id === 0 ? group : shelf.take(id)),
      drop: (id) => {
        if (id !== 0) shelf.discard(id);
      },
    };
  }
}

/** The chunks of a process queue: blocks of the arena. */
export class ArenaStore implements ChunkStore {
  readonly canGrow = true;
  readonly #arena: Arena;
  readonly #c0: Chunk;
  readonly #cache = new Map<number, Chunk>();

  constructor(block: ArenaBlock, blockBytes: number, c0Offset: number) {
    this.#arena = arenaById(block.place.arenaId);
    this.#c0 = chunkViews(block.i32.buffer, block.i32.byteOffset + c0Offset, blockBytes - c0Offset);
  }

  chunk(a: number, b: number): Chunk {
    if (a === 0 && b === 0) return this.#c0;
    const key = a * WORD_SPLIT + (b >>> 0);
    let chunk = this.#cache.get(key);
    if (chunk === undefined) {
      chunk = this.read(a, b);
      this.#cache.set(key, chunk);
    }
    return chunk;
  }

  read(a: number, b: number): Chunk {
    if (a === 0 && b === 0) return this.#c0;
    const head = this.#arena.view(a - 1, b, CHUNK_HEADER_BYTES);
    const size = Atomics.load(head.i32, CH_SIZE);
    const block = this.#arena.view(a - 1, b, size);
    return chunkViews(block.i32.buffer, block.i32.byteOffset, size);
  }

  allocate(bytes: number, transient = false): { a: number; b: number; chunk: Chunk } | undefined {
    const size = align8(Math.max(bytes, CHUNK_HEADER_BYTES));
    let block: ArenaBlock;
    try {
      block = this.#arena.allocate(size, !transient);
    } catch (error) {
      // Out of segments: memory comes back as items are taken (the caller waits for a get).
      if (/arena is full/.test((error as Error).message)) return undefined;
      throw error;
    }
    const chunk = chunkViews(block.i32.buffer, block.i32.byteOffset, size);
    if (transient) chunk.i32.fill(0, 0, CHUNK_HEADER_BYTES >> 2);
    Atomics.store(chunk.i32, CH_SIZE, size);
    const a = block.place.segment + 1;
    const b = block.place.offset;
    if (!transient) this.#cache.set(a * WORD_SPLIT + b, chunk);
    return { a, b, chunk };
  }

  free(a: number, b: number): void {
    this.#cache.delete(a * WORD_SPLIT + (b >>> 0));
    this.#arena.release(a - 1, b);
  }

  /**
   * Arena blocks are powers of two (with an 8-byte header, and a chunk header): a payload of
   * 1 MiB would take a 2 MiB block. So a part takes the largest block it fills exactly, at most
   * 64 MiB, and what is left goes to more parts: a 1 MiB item is a 1 MiB block and a 64-byte one.
   */
  partSize(bytes: number): number {
    const overhead = BLOCK_HEADER_BYTES + CHUNK_HEADER_BYTES;
    // Below 64 KiB the waste is small whatever the class; above, the largest exact fit.
    if (bytes < SMALL_PART) return bytes;
    const k = 31 - Math.clz32(Math.min(bytes + overhead, MAX_PART_BLOCK));
    return Math.min(bytes, (1 << k) - overhead);
  }

  forget(): void {
    this.#cache.clear();
  }
}
