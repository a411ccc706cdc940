/**
 * A double-ended queue on a growable ring buffer: O(1) push, shift and unshift. The one queue of the
 * library's schedulers: an executor's or a Pool's queue of jobs no worker has taken yet (up to
 * hundreds of thousands, with a dead worker's unstarted jobs put back at the front, which
 * `Array.prototype.shift`/`unshift` would make O(n) each), and a child process's jobs in flight.
 */

/** Capacity of an empty deque (a power of two). */
const INITIAL_CAPACITY = 16;
/** An emptied deque this large gives its buffer back (a burst of 100 000 jobs must not pin it). */
const SHRINK_FROM = 1024;

export class Deque<T> implements Iterable<T> {
  /** Invariant: `#items.length` is a power of two; the live items are `#length` slots from `#head`, wrapping; the others are undefined. */
  #items: (T | undefined)[] = new Array(INITIAL_CAPACITY);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#length++;
  }

  /** Puts `items` back at the front, keeping their order (`items[0]` becomes the first). */
  unshiftAll(items: readonly T[]): void {
    for (let i = items.length - 1; i >= 0; i--) this.unshift(items[i]);
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    if (--this.#length === 0 && this.#items.length >= SHRINK_FROM) this.#reset();
    return item;
  }

  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes and returns every item, front first. */
  drain(): T[] {
    const out = [...this];
    this.#reset();
    return out;
  }

  *[Symbol.iterator](): Iterator<T> {
    const mask = this.#items.length - 1;
    for (let i = 0; i < this.#length; i++) yield this.#items[(this.#head + i) & mask] as T;
  }

  #grow(): void {
    const old = this.#items;
    const items = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = items;
    this.#head = 0;
  }

  #reset(): void {
    this.#items = new Array(INITIAL_CAPACITY);
    this.#head = 0;
    this.#length = 0;
  }
}
