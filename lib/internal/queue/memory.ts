/**
 * Making a queue's memory, and finding it again from a handle: a SharedArrayBuffer of this process
 * for a thread queue, a block of the arena for a process queue. Both give a {@link QueueCore} over
 * an item ring laid out the same way (internal/shm/item-ring.ts).
 */
import {
  FIFO, ORDER, Ring, c0Offset, readLayout, ringBytes, ringInit, type KeyCompare, type RingLayout,
} from '../shm/item-ring';
import { LocalBlock } from '../shm/block';
import { blockRef, newBlock, revivedBlock } from '../arena/refs';
import type { ArenaBlock } from '../arena/block';
import type { BlockRef } from '../arena/arena';
import { ArenaStore, LocalStore, chunkViews } from './stores';
import { loadShelf, shelfUnavailable } from './shelf';
import { QueueCore, type SortKey } from './core';
import { WATCH_MS } from '../arena/watch';

/** Bytes of a thread queue's first chunk with the shelf (more come as needed) and without (all it gets). */
const LOCAL_C0_BYTES = 24 * 1024;
const FIXED_C0_BYTES = 1 << 20;
/** Heap entries (LIFO, PRIORITY) in a thread queue's own memory, with and without the shelf. */
const LOCAL_VEC_BASE = 64;
const FIXED_VEC_BASE = 16 * 1024;
/** A process queue's block: 64 KiB with its header (a size class of the arena). */
export const ARENA_QUEUE_BYTES = 64 * 1024 - 8;
/** A Pipe direction's block. */
export const ARENA_CHANNEL_BYTES = 32 * 1024 - 8;

/** How a thread queue orders its items, and how a PriorityQueue compares them. */
export interface Ordering {
  readonly order: number;
  readonly sortKey?: (item: unknown) => SortKey;
  readonly compareKeys?: KeyCompare;
}

/** A thread queue's memory: its core and the SharedArrayBuffer its handle carries. */
export interface LocalQueue {
  readonly core: QueueCore;
  readonly buffer: SharedArrayBuffer;
}

function localCore(buffer: SharedArrayBuffer, ordering: Ordering): QueueCore {
  const shelf = loadShelf();
  const layout = readLayout(new Int32Array(buffer, 0, 16), buffer.byteLength);
  const store = new LocalStore(buffer, c0Offset(layout), shelf);
  const block = new LocalBlock(new Int32Array(buffer, 0, c0Offset(layout) >> 2));
  const vec0 = layout.vecBase > 0 ? chunkViews(buffer, 0, buffer.byteLength) : undefined;
  const ring = new Ring(block, store, vec0, ordering.compareKeys);
  const size = buffer.byteLength;
  return new QueueCore(ring, store, {
    serialize: { buffers: store.buffers(), what: 'item' },
    sortKey: ordering.sortKey,
    noRoom: () =>
      new Error(`the queue's shared memory (${size} bytes) is full, and growing it needs threadkit's native addon, which could not be loaded: ${shelfUnavailable()}`),
  });
}

/** A new thread queue. */
export function localQueue(ordering: Ordering, maxsize: number): LocalQueue {
  const shelf = loadShelf();
  const layout: RingLayout = {
    order: ordering.order,
    maxsize,
    flags: 0,
    vecBase: ordering.order === FIFO ? 0 : shelf === undefined ? FIXED_VEC_BASE : LOCAL_VEC_BASE,
    c0Bytes: shelf === undefined ? FIXED_C0_BYTES : LOCAL_C0_BYTES,
  };
  const bytes = ringBytes(layout);
  const buffer = shelf === undefined ? new SharedArrayBuffer(bytes) : shelf.createGroup(bytes);
  const views = chunkViews(buffer, 0, bytes);
  ringInit(new LocalBlock(views.i32), chunkViews(buffer, c0Offset(layout), layout.c0Bytes), layout);
  return { core: localCore(buffer, ordering), buffer };
}

/**
 * The thread queue a handle's data names.
 * @throws TypeError `Invalid handle` when it names none.
 */
export function reviveLocalQueue(data: unknown, ordering: Ordering, tag: string): LocalQueue {
  const buffer = (data as { buffer?: unknown } | null)?.buffer;
  if (Object.prototype.toString.call(buffer) !== '[object SharedArrayBuffer]' || (buffer as SharedArrayBuffer).byteLength < 4096) {
    throw new TypeError(`Invalid handle: ${tag} needs the SharedArrayBuffer of a queue`);
  }
  const i32 = new Int32Array(buffer as SharedArrayBuffer, 0, 16);
  if (i32[ORDER] !== ordering.order) throw new TypeError(`Invalid handle: ${tag} names a queue of another kind`);
  return { core: localCore(buffer as SharedArrayBuffer, ordering), buffer: buffer as SharedArrayBuffer };
}

/** A process queue's memory: its core and its block of the arena. */
export interface ArenaQueue {
  readonly core: QueueCore;
  readonly block: ArenaBlock;
  readonly bytes: number;
}

function arenaCore(block: ArenaBlock, bytes: number): QueueCore {
  const layout = readLayout(block.i32, bytes);
  const store = new ArenaStore(block, bytes, c0Offset(layout));
  const ring = new Ring(block, store, undefined);
  return new QueueCore(ring, store, {
    serialize: { crossProcess: true, what: 'item' },
    noRoom: () => new Error('the shared memory arena is full (every segment is in use), and this queue is empty: no get can free any'),
    slice: WATCH_MS,
  });
}

/** A new process queue (FIFO) in a new block of the arena, `bytes` long; `flags`: item-ring FLAGS. */
export function arenaQueue(maxsize: number, flags = 0, bytes = ARENA_QUEUE_BYTES): ArenaQueue {
  const layout: RingLayout = { order: FIFO, maxsize, flags, vecBase: 0, c0Bytes: 0 };
  const c0Bytes = (bytes - ringBytes(layout)) & ~7;
  const full: RingLayout = { ...layout, c0Bytes };
  const block = newBlock(bytes);
  const views = chunkViews(block.i32.buffer, block.i32.byteOffset, bytes & ~7);
  ringInit(block, chunkViews(views.u8.buffer, block.i32.byteOffset + c0Offset(full), c0Bytes), full);
  return { core: arenaCore(block, bytes & ~7), block, bytes };
}

/** What a process queue's handle carries. */
export interface ArenaQueueRef extends BlockRef {
  readonly bytes: number;
}

/** The handle data of a process queue (pins this thread's hold: see arena/refs.ts). */
export function arenaQueueRef(queue: ArenaQueue): ArenaQueueRef {
  return { ...blockRef(queue.block), bytes: queue.bytes };
}

/**
 * The process queue a handle's data names.
 * @throws TypeError `Invalid handle` when it names none.
 */
export function reviveArenaQueue(data: unknown, tag: string): ArenaQueue {
  const bytes = (data as { bytes?: unknown } | null)?.bytes;
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 4096 || bytes > ARENA_QUEUE_BYTES) {
    throw new TypeError(`Invalid handle: ${tag} needs a queue of the shared memory arena`);
  }
  const block = revivedBlock(data, bytes, tag);
  return { core: arenaCore(block, bytes & ~7), block, bytes };
}
