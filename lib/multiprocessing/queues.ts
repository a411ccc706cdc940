/**
 * `Queue`, `JoinableQueue`, `SimpleQueue` of `threadkit/multiprocessing`: queues that every process
 * of the program's tree (and their threads) share.
 *
 * The same implementation as `threadkit/queue`'s (internal/queue/core.ts over the item ring of
 * internal/shm/item-ring.ts); only the memory differs: a block of the arena, slept on with the
 * shared futex, whose handle any process of the tree revives. Unlike CPython's, these queues have
 * no feeder thread and no pipe: a put returns once the item's bytes are in shared memory, so
 * nothing is lost when the putting process exits right after, there is no `join_thread()` to call,
 * and a put never waits for the reader's event loop.
 */
import { inspect } from 'node:util';
import { ValueError } from '../errors';
import { arenaQueue, arenaQueueRef, reviveArenaQueue, type ArenaQueue } from '../internal/queue/memory';
import type { QueueCore } from '../internal/queue/core';
import { holdBy } from '../internal/arena/refs';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import { checkMaxsize } from '../queue/queue';

const QUEUE_TAG = 'multiprocessing.Queue';
const JOINABLE_TAG = 'multiprocessing.JoinableQueue';
const SIMPLE_TAG = 'multiprocessing.SimpleQueue';

/** The memory a reviver found, for the constructor it calls next. */
let revived: ArenaQueue | undefined;

function takeRevived(): ArenaQueue | undefined {
  const r = revived;
  revived = undefined;
  return r;
}

/** The open core of a Queue (for JoinableQueue; set by Queue's static block). */
let openCore: (queue: Queue<unknown>) => QueueCore;

function closedError(): ValueError {
  return new ValueError('queue is closed');
}

/**
 * A first-in, first-out queue shared by every process and thread it is passed to (Python's
 * `multiprocessing.Queue`), with `threadkit/queue`'s API: `put`/`putSync`/`putNowait`,
 * `get`/`getSync`/`getNowait`, `qsize`, `empty`, `full`, and `close()`.
 *
 * Items are structured-cloned into shared memory; multiprocessing objects inside them (a Lock, a
 * Value, another queue, a Connection) arrive as working instances. Any number of processes put and
 * get at once, and each item is taken once. A put returns when the item is in shared memory (no
 * feeder thread). If a process is killed in the middle of a get, that one item is lost, and the
 * queue keeps working for every other process; a process killed between two operations loses
 * nothing.
 *
 * `close()` says that this object will not be used any more in this process (as in Python):
 * `put` and `get` on it then throw ValueError; the queue itself, and other objects over it, go on.
 *
 * @example
 * const q = new Queue<string>();
 * const p = new Process({ target: (q) => q.putSync('hello from the child'), args: [q] });
 * p.start();
 * console.log(await q.get());
 * await p.join();
 *
 * @throws Error from the constructor when the native addon is unavailable; TypeError from put for
 *   an item that cannot be sent to another process; QueueFullError / QueueEmptyError at a timeout;
 *   ValueError after close().
 */
export class Queue<T = unknown> {
  readonly #memory: ArenaQueue;
  readonly #core: QueueCore;
  #closed = false;

  /** @param maxsize the most items at once; 0 (the default) or less: no limit. */
  constructor(maxsize = 0) {
    const memory = takeRevived() ?? arenaQueue(checkMaxsize(maxsize));
    this.#memory = memory;
    this.#core = memory.core;
    holdBy(this, memory.block);
  }

  /** The most items the queue holds at once; 0: no limit. */
  get maxsize(): number {
    return this.#core.ring.maxsize;
  }

  static {
    openCore = (queue) => queue.#open();
  }

  /** The core, checked open. */
  #open(): QueueCore {
    if (this.#closed) throw closedError();
    return this.#core;
  }

  /**
   * Puts `item`, waiting while the queue is full, without blocking the event loop.
   * @param timeout ms to wait for room; `undefined` waits forever, `0` tries once.
   * @throws QueueFullError (rejects) at the timeout; TypeError when `item` cannot be sent; ValueError after close().
   */
  put(item: T, timeout?: number): Promise<void> {
    try {
      return this.#open().put(item, timeout);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** As {@link put}, blocking the calling thread. */
  putSync(item: T, timeout?: number): void {
    this.#open().putSync(item, timeout);
  }

  /** Puts `item` if there is room at once. @throws QueueFullError when full. */
  putNowait(item: T): void {
    this.#open().putSync(item, 0);
  }

  /**
   * Takes the next item, waiting while the queue is empty, without blocking the event loop.
   * @param timeout ms to wait; `undefined` waits forever, `0` tries once.
   * @throws QueueEmptyError (rejects) at the timeout; ValueError after close().
   */
  get(timeout?: number): Promise<T> {
    try {
      return this.#open().get(timeout) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** As {@link get}, blocking the calling thread. */
  getSync(timeout?: number): T {
    return this.#open().getSync(timeout) as T;
  }

  /** Takes an item if one is there. @throws QueueEmptyError when empty. */
  getNowait(): T {
    return this.#open().getSync(0) as T;
  }

  /** Items in the queue now, across every process. */
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
   * This object will not put or get any more (other processes' objects over the same queue go on);
   * items already put stay in the queue. Python's `close()`; there is no feeder thread to join.
   */
  close(): void {
    this.#closed = true;
  }

  [kShare](): Handle {
    return { tag: this instanceof JoinableQueue ? JOINABLE_TAG : QUEUE_TAG, crossProcess: true, data: arenaQueueRef(this.#memory) };
  }

  [inspect.custom](): string {
    return `<${this.constructor.name} size=${this.qsize()}${this.maxsize > 0 ? ` maxsize=${this.maxsize}` : ''}${this.#closed ? ' closed' : ''}>`;
  }
}

/**
 * A {@link Queue} that counts finished work (Python's `multiprocessing.JoinableQueue`): every put
 * adds a task, `taskDone()` (in any process) marks one done, `join()` waits until none is left.
 *
 * @example
 * const q = new JoinableQueue<string>();
 * // consumers (daemon processes): for (;;) { work(q.getSync()); q.taskDone(); }
 * await q.put('job');
 * await q.join();   // returns once a consumer called taskDone() for it
 *
 * @throws ValueError from taskDone() called more times than items were put.
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /** Marks one item taken by a get as processed. @throws ValueError when called too often, or after close(). */
  taskDone(): void {
    openCore(this).taskDone();
  }

  /** Waits until every item put (by any process) was marked done, without blocking the event loop. */
  join(): Promise<void> {
    try {
      return openCore(this).join();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** As {@link join}, blocking the calling thread. */
  joinSync(): void {
    openCore(this).joinSync();
  }
}

/**
 * An unbounded first-in, first-out queue shared by processes, without sizes or task tracking
 * (Python's `multiprocessing.SimpleQueue`): `put` never waits, `get` waits while it is empty.
 *
 * @example
 * const q = new SimpleQueue<number>();
 * await pool.apply((q) => q.putSync(42), [q]);
 * console.log(await q.get()); // 42
 *
 * @throws as {@link Queue}.
 */
export class SimpleQueue<T = unknown> {
  readonly #memory: ArenaQueue;
  readonly #core: QueueCore;
  #closed = false;

  constructor() {
    const memory = takeRevived() ?? arenaQueue(0);
    this.#memory = memory;
    this.#core = memory.core;
    holdBy(this, memory.block);
  }

  #open(): QueueCore {
    if (this.#closed) throw closedError();
    return this.#core;
  }

  /** Puts `item` (never waits). @throws TypeError when it cannot be sent; ValueError after close(). */
  put(item: T): Promise<void> {
    try {
      return this.#open().put(item);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Puts `item` (never waits). */
  putSync(item: T): void {
    this.#open().putSync(item);
  }

  /**
   * Takes the next item, waiting while the queue is empty, without blocking the event loop.
   * @param timeout ms to wait; `undefined` waits forever, `0` tries once.
   */
  get(timeout?: number): Promise<T> {
    try {
      return this.#open().get(timeout) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** As {@link get}, blocking the calling thread. */
  getSync(timeout?: number): T {
    return this.#open().getSync(timeout) as T;
  }

  /** Takes an item if one is there. @throws QueueEmptyError when empty. */
  getNowait(): T {
    return this.#open().getSync(0) as T;
  }

  /** True when no item is in the queue now. */
  empty(): boolean {
    return this.#core.empty();
  }

  /** Items in the queue now. */
  qsize(): number {
    return this.#core.qsize();
  }

  /** This object will not put or get any more (others over the same queue go on). */
  close(): void {
    this.#closed = true;
  }

  [kShare](): Handle {
    return { tag: SIMPLE_TAG, crossProcess: true, data: arenaQueueRef(this.#memory) };
  }

  [inspect.custom](): string {
    return `<SimpleQueue size=${this.qsize()}${this.#closed ? ' closed' : ''}>`;
  }
}

function reviver(tag: string, make: () => unknown) {
  return (data: unknown) => {
    revived = reviveArenaQueue(data, tag);
    try {
      return make();
    } finally {
      revived = undefined;
    }
  };
}

registerShareable(QUEUE_TAG, reviver(QUEUE_TAG, () => new Queue()));
registerShareable(JOINABLE_TAG, reviver(JOINABLE_TAG, () => new JoinableQueue()));
registerShareable(SIMPLE_TAG, reviver(SIMPLE_TAG, () => new SimpleQueue()));
