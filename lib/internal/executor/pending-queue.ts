/**
 * The executor's queue of submitted work that no worker has taken yet.
 *
 * Python's `cancel()` succeeds only while a task is pending, so the executor, not the worker pool
 * underneath, must own the queue: a task stays here (cancellable) until a worker is free to take
 * it, and `take()` moves it to RUNNING with `setRunningOrNotifyCancel()`, silently dropping the
 * tasks that were cancelled meanwhile. A FIFO over an array with a moving head: O(1) push, take
 * and unshift (unstarted tasks of a dead worker go back to the front), compacted as it drains.
 */
import type { WorkItem } from './work-item';
import { CANCELLED_AND_NOTIFIED } from '../../futures/future';

const COMPACT_AT = 1024;

export class PendingQueue {
  /** Items at indexes < #head have been taken. Invariant: #head <= #items.length. */
  #items: WorkItem[] = [];
  #head = 0;

  /** Number of queued items, including cancelled ones not yet dropped. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: WorkItem): void {
    this.#items.push(item);
  }

  /** Puts items back at the front, in order (they keep their RUNNING state). */
  unshift(items: readonly WorkItem[]): void {
    if (items.length === 0) return;
    if (this.#head >= items.length) {
      this.#head -= items.length;
      for (let i = 0; i < items.length; i++) this.#items[this.#head + i] = items[i];
    } else {
      this.#items = [...items, ...this.#items.slice(this.#head)];
      this.#head = 0;
    }
  }

  /**
   * Removes up to `max` live items from the front and marks each RUNNING; cancelled items met on
   * the way are dropped (their futures become CANCELLED_AND_NOTIFIED) and do not count.
   */
  take(max: number): WorkItem[] {
    const out: WorkItem[] = [];
    const items = this.#items;
    while (out.length < max && this.#head < items.length) {
      const item = items[this.#head];
      items[this.#head++] = undefined as never;
      const future = item.future;
      // An item put back by unshift() is already RUNNING; a PENDING one starts now, a CANCELLED
      // one is dropped, and one that is somehow already done (failed by a broken executor) too.
      if (future.running()) out.push(item);
      else if (!future.done() || future.cancelled()) {
        if (future._state !== CANCELLED_AND_NOTIFIED && future.setRunningOrNotifyCancel()) out.push(item);
      }
    }
    this.#compact();
    return out;
  }

  /** Removes and returns every queued item (for cancelFutures and a broken executor). */
  drain(): WorkItem[] {
    const out = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return out;
  }

  /** True when every queued item has been cancelled (nothing left that must run). */
  onlyCancelled(): boolean {
    for (let i = this.#head; i < this.#items.length; i++) if (!this.#items[i].future.cancelled()) return false;
    return true;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
