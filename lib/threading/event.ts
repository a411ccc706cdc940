/**
 * `Event`: Python's `threading.Event` — a flag that threads wait for.
 */
import { inspect } from 'node:util';
import { deadlineFor } from '../internal/shm/deadline';
import * as eventWord from '../internal/shm/event-word';
import { EVENT_WORDS, eventWait } from '../internal/shm/event-word';
import { memoryRef, reviveMemory, type MemoryRef } from '../internal/shm/memory';
import { handOver, localBlock, takeHandOver, type Block, type LocalBlock } from '../internal/shm/block';
import { runAsync, runSync } from '../internal/shm/steps';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';

const TAG = 'threading.Event';
/** Offset of the event word (internal/shm/event-word.ts) in the block. */
const EVENT = 0;
const TRUE: Promise<boolean> = Promise.resolve(true);
// Module-local copies of the fast-path functions: some loaders (esbuild/tsx) turn imported
// bindings into getters.
const { eventClear, eventIsSet, eventSet } = eventWord;

/**
 * A flag, initially clear, shared by every thread it is passed to: `set()` raises it and wakes every
 * waiter, `clear()` lowers it, `wait()` returns as soon as it is raised.
 *
 * A waiter returns true if the flag was set at any moment during its wait, even when another thread
 * cleared it again at once (Python's set-then-clear; a generation counter in the event word tells
 * the two apart, see internal/shm/event-word.ts).
 *
 * @example
 * const ready = new Event();
 * new Thread({ target: (ready) => ready.set(), args: [ready] }).start();
 * await ready.wait();
 *
 * @throws RangeError/TypeError from the wait methods for a bad timeout.
 */
export class Event {
  /** The event block: WORD (flag + generation), WAITERS. */
  readonly #block: Block;

  constructor() {
    // A revived handle, or a multiprocessing.Event, hands its block over (block.ts).
    this.#block = takeHandOver<Block>() ?? localBlock(EVENT_WORDS);
  }

  /** True while the flag is set. */
  isSet(): boolean {
    return eventIsSet(this.#block, EVENT);
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    eventSet(this.#block, EVENT);
  }

  /** Clears the flag; later waits block until the next set(). */
  clear(): void {
    eventClear(this.#block, EVENT);
  }

  /**
   * Waits until the flag is set, without blocking the event loop.
   * @param timeout ms to wait; `undefined` waits forever, `0` only looks.
   * @returns true when the flag was set (now or during the wait), false when the timeout passed.
   * @throws RangeError when `timeout` is negative or NaN; TypeError when it is not a number.
   */
  wait(timeout?: number): Promise<boolean> {
    if (timeout === undefined && eventIsSet(this.#block, EVENT)) return TRUE;
    return this.#waitSlow(timeout);
  }

  async #waitSlow(timeout: number | undefined): Promise<boolean> {
    return runAsync(eventWait(this.#block, EVENT, deadlineFor(timeout)));
  }

  /** As {@link wait}, blocking the calling thread. */
  waitSync(timeout?: number): boolean {
    if (timeout === undefined && eventIsSet(this.#block, EVENT)) return true;
    return runSync(eventWait(this.#block, EVENT, deadlineFor(timeout)));
  }

  [kShare](): Handle {
    return { tag: TAG, data: memoryRef(this.#block as LocalBlock) };
  }

  [inspect.custom](): string {
    return `<Event ${this.isSet() ? 'set' : 'unset'}>`;
  }
}

/** Rebuilds an Event over the memory a handle's data points at. */
function revive(data: MemoryRef): Event {
  return new Event(...handOver(reviveMemory(data, EVENT_WORDS, TAG)));
}

registerShareable(TAG, revive);
