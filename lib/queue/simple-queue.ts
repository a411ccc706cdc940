/**
 * `SimpleQueue`: Python's `queue.SimpleQueue`, shared by threads.
 */
import { inspect } from 'node:util';
import { FIFO } from '../internal/shm/item-ring';
import { localQueue, reviveLocalQueue, type LocalQueue, type Ordering } from '../internal/queue/memory';
import type { QueueCore } from '../internal/queue/core';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';

const TAG = 'queue.SimpleQueue';
const ORDERING: Ordering = { order: FIFO };

let revived: LocalQueue | undefined;

/**
 * An unbounded first-in, first-out queue shared by threads, without task tracking (Python's
 * `queue.SimpleQueue`): a put never waits; a get waits while it is empty.
 *
 * Items are structured-cloned into shared memory, as with {@link Queue}; threadkit shared objects
 * inside items arrive as working instances.
 *
 * @example
 * const q = new SimpleQueue<string>();
 * new Thread({ target: (q) => q.putSync('hello'), args: [q] }).start();
 * console.log(await q.get()); // hello
 *
 * @throws TypeError from put for an item that cannot be cloned; QueueEmptyError from get when a
 *   timeout passes.
 */
export class SimpleQueue<T = unknown> {
  readonly #core: QueueCore;
  readonly #buffer: SharedArrayBuffer;

  constructor() {
    const memory = revived ?? localQueue(ORDERING, 0);
    revived = undefined;
    this.#core = memory.core;
    this.#buffer = memory.buffer;
  }

  /** Puts `item` (never waits: the queue is unbounded). Returns a resolved Promise. */
  put(item: T): Promise<void> {
    return this.#core.put(item);
  }

  /** Puts `item` (never waits). */
  putSync(item: T): void {
    this.#core.putSync(item);
  }

  /** Puts `item` (the same as putSync: Python's put_nowait). */
  putNowait(item: T): void {
    this.#core.putSync(item);
  }

  /**
   * Takes the next item, waiting while the queue is empty, without blocking the event loop.
   * @param timeout ms to wait; `undefined` waits forever, `0` tries once.
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

  /** Items in the queue now. */
  qsize(): number {
    return this.#core.qsize();
  }

  /** True when no item is in the queue now. */
  empty(): boolean {
    return this.#core.empty();
  }

  [kShare](): Handle {
    return { tag: TAG, data: { buffer: this.#buffer } };
  }

  [inspect.custom](): string {
    return `<SimpleQueue size=${this.qsize()}>`;
  }
}

registerShareable(TAG, (data: unknown) => {
  revived = reviveLocalQueue(data, ORDERING, TAG);
  try {
    return new SimpleQueue();
  } finally {
    revived = undefined;
  }
});
