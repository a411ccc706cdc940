/**
 * `Queue`, `LifoQueue`, `PriorityQueue`: Python's `queue.Queue` family, shared by threads.
 */
import { inspect } from 'node:util';
import { describe } from '../internal/validate';
import { FIFO, LIFO, PRIORITY, ringSetMaxsize } from '../internal/shm/item-ring';
import { localQueue, reviveLocalQueue, type LocalQueue, type Ordering } from '../internal/queue/memory';
import type { QueueCore } from '../internal/queue/core';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import { ValueError } from '../errors';
import { compareSortKeys, sortKeyOf } from './priority-key';

const FIFO_ORDERING: Ordering = { order: FIFO };
const LIFO_ORDERING: Ordering = { order: LIFO };
const PRIORITY_ORDERING: Ordering = { order: PRIORITY, sortKey: sortKeyOf, compareKeys: compareSortKeys };

/** The memory a reviver found, for the constructor it calls next (one constructor runs at a time). */
let revived: LocalQueue | undefined;

/** Checks a maxsize argument: a whole number; 0 or less means no limit, as in Python. */
export function checkMaxsize(maxsize: unknown): number {
  if (typeof maxsize !== 'number' || !Number.isInteger(maxsize)) {
    throw new TypeError(`Expected \`maxsize\` to be an integer, got ${describe(maxsize)}`);
  }
  if (maxsize > 0x7fffffff) throw new ValueError(`Expected \`maxsize\` to be at most ${0x7fffffff}, got ${maxsize}`);
  return Math.max(0, maxsize);
}

/**
 * A first-in, first-out queue shared by every thread it is passed to (Python's `queue.Queue`).
 *
 * Items are structured-cloned into shared memory when put (a put returns once the item's bytes are
 * there) and rebuilt when taken, so every taker gets its own copy; a Lock, an Event, a queue or
 * any other threadkit shared object inside an item arrives as a working instance over the same
 * memory. Any number of threads put and get at once; each item is taken exactly once.
 *
 * `maxsize` > 0 bounds the number of items: `put` waits while the queue is full, `get` while it is
 * empty, each with a timeout in milliseconds (`undefined` waits forever, `0` tries once and throws
 * QueueFullError / QueueEmptyError at once). Every blocking call comes as `put` / `get` (a Promise;
 * the event loop stays free) and `putSync` / `getSync` (blocks the calling thread). `taskDone()` and
 * `join()` count finished work as in Python. Items of any size may be put (large ones go to memory
 * of their own, never refused for size).
 *
 * @example
 * const q = new Queue<number>(3);
 * const worker = new Thread({
 *   target: (q: Queue<number>) => { for (;;) { console.log(q.getSync() * 2); q.taskDone(); } },
 *   args: [q], daemon: true,
 * });
 * worker.start();
 * for (let i = 0; i < 10; i++) await q.put(i);   // waits while 3 items are queued
 * await q.join();                                 // every item taken and marked done
 *
 * @throws TypeError from put for an item that cannot be cloned (the queue is unchanged);
 *   QueueFullError / QueueEmptyError when a timeout passes; ValueError from taskDone() called more
 *   times than items were put.
 */
export class Queue<T = unknown> {
  readonly #core: QueueCore;
  readonly #buffer: SharedArrayBuffer;

  /** @param maxsize the most items at once; 0 (the default) or less: no limit. */
  constructor(maxsize = 0) {
    const given = revived;
    revived = undefined;
    const ordering = orderingOf(this);
    const memory = given ?? localQueue(ordering, checkMaxsize(maxsize));
    this.#core = memory.core;
    this.#buffer = memory.buffer;
  }

  /**
   * The most items the queue holds at once; 0: no limit. May be changed (as in Python), for every
   * thread: putters waiting for room look again.
   */
  get maxsize(): number {
    return this.#core.ring.maxsize;
  }

  set maxsize(maxsize: number) {
    ringSetMaxsize(this.#core.ring, checkMaxsize(maxsize));
  }

  /**
   * Puts `item`, waiting while the queue is full, without blocking the event loop.
   * @param timeout ms to wait for room; `undefined` waits forever, `0` tries once.
   * @throws QueueFullError (rejects) when still full at the timeout; TypeError when `item` cannot be cloned.
   */
  put(item: T, timeout?: number): Promise<void> {
    return this.#core.put(item, timeout);
  }

  /** As {@link put}, blocking the calling thread. */
  putSync(item: T, timeout?: number): void {
    this.#core.putSync(item, timeout);
  }

  /** Puts `item` if there is room at once. @throws QueueFullError when full. */
  putNowait(item: T): void {
    this.#core.putSync(item, 0);
  }

  /**
   * Takes the next item, waiting while the queue is empty, without blocking the event loop.
   * @param timeout ms to wait for an item; `undefined` waits forever, `0` tries once.
   * @throws QueueEmptyError (rejects) when still empty at the timeout.
   */
  get(timeout?: number): Promise<T> {
    return this.#core.get(timeout) as Promise<T>;
  }

  /** As {@link get}, blocking the calling thread. */
  getSync(timeout?: number): T {
    return this.#core.getSync(timeout) as T;
  }

  /** Takes an item if one is there. @throws QueueEmptyError when empty. */
  getNowait(): T {
    return this.#core.getSync(0) as T;
  }

  /** Items in the queue now (a moment later it may differ: other threads put and get). */
  qsize(): number {
    return this.#core.qsize();
  }

  /** True when no item is in the queue now. */
  empty(): boolean {
    return this.#core.empty();
  }

  /** True when `maxsize` items are in the queue now. */
  full(): boolean {
    return this.#core.full();
  }

  /**
   * Marks one item taken by a get as processed; `join()` returns once every item put was.
   * @throws ValueError when called more times than items were put.
   */
  taskDone(): void {
    this.#core.taskDone();
  }

  /** Waits until every item put has been marked done with taskDone(), without blocking the event loop. */
  join(): Promise<void> {
    return this.#core.join();
  }

  /** As {@link join}, blocking the calling thread. */
  joinSync(): void {
    this.#core.joinSync();
  }

  [kShare](): Handle {
    return { tag: tagOf(this), data: { buffer: this.#buffer } };
  }

  [inspect.custom](): string {
    return `<${this.constructor.name} size=${this.qsize()}${this.maxsize > 0 ? ` maxsize=${this.maxsize}` : ''}>`;
  }
}

/**
 * A last-in, first-out queue (a stack) shared by threads (Python's `queue.LifoQueue`): as
 * {@link Queue}, but `get` takes the item put last.
 *
 * @example
 * const q = new LifoQueue<number>();
 * q.putSync(1); q.putSync(2);
 * q.getSync(); // 2
 */
export class LifoQueue<T = unknown> extends Queue<T> {}

/**
 * A queue that hands out its lowest item first, shared by threads (Python's `queue.PriorityQueue`):
 * as {@link Queue}, with items ordered as numbers, strings, or arrays compared element by element —
 * Python's `(priority, data)` tuples are `[priority, data]` arrays. Items that compare equal come
 * out in the order they were put; where Python would raise TypeError comparing two items (a number
 * against a string, two objects) they are ordered by kind (numbers, strings, arrays, anything else),
 * then by arrival.
 *
 * @example
 * const q = new PriorityQueue<[number, string]>();
 * q.putSync([2, 'write']); q.putSync([1, 'read']);
 * q.getSync(); // [1, 'read']
 */
export class PriorityQueue<T = unknown> extends Queue<T> {}

function orderingOf(queue: Queue<unknown>): Ordering {
  if (queue instanceof PriorityQueue) return PRIORITY_ORDERING;
  if (queue instanceof LifoQueue) return LIFO_ORDERING;
  return FIFO_ORDERING;
}

const QUEUE_TAG = 'queue.Queue';
const LIFO_TAG = 'queue.LifoQueue';
const PRIORITY_TAG = 'queue.PriorityQueue';

function tagOf(queue: Queue<unknown>): string {
  if (queue instanceof PriorityQueue) return PRIORITY_TAG;
  if (queue instanceof LifoQueue) return LIFO_TAG;
  return QUEUE_TAG;
}

function reviver(tag: string, ordering: Ordering, make: () => Queue<unknown>) {
  return (data: unknown) => {
    revived = reviveLocalQueue(data, ordering, tag);
    try {
      return make();
    } finally {
      revived = undefined;
    }
  };
}

registerShareable(QUEUE_TAG, reviver(QUEUE_TAG, FIFO_ORDERING, () => new Queue()));
registerShareable(LIFO_TAG, reviver(LIFO_TAG, LIFO_ORDERING, () => new LifoQueue()));
registerShareable(PRIORITY_TAG, reviver(PRIORITY_TAG, PRIORITY_ORDERING, () => new PriorityQueue()));
