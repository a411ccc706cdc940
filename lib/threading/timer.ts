/**
 * Timer: Python's `threading.Timer` — a Thread that runs its target after a delay, unless cancelled.
 */
import type { Target } from '../target';
import { checkMilliseconds } from '../internal/validate';
import { Thread, kCancel, kStartDelay } from './thread';

/**
 * A thread that waits `interval` ms after `start()`, then runs `target(...args)` — unless `cancel()`
 * was called first.
 *
 * The wait happens in the new thread, parked on a word of shared memory with the interval as its
 * timeout, so `cancel()` wakes it at once (no polling) and the thread ends without running the target.
 * `cancel()` before `start()` makes the timer end as soon as it starts; after the target began it has
 * no effect. The interval counts from `start()`, including the time it takes to get a worker.
 * Everything else is as for {@link Thread} (join, daemon, excepthook).
 *
 * @example
 * const t = new Timer(100, (msg: string) => console.log(msg), ['fired']);
 * t.start();
 * t.cancel();          // nothing printed
 * await t.join();
 *
 * @throws TypeError when `interval` is not a number, or the target or an argument cannot be sent
 * @throws RangeError when `interval` is negative or NaN
 */
export class Timer extends Thread {
  readonly #interval: number;

  constructor(interval: number, target: Target, args: unknown[] = []) {
    checkMilliseconds(interval, 'interval');
    if (target === undefined) throw new TypeError('Expected `target` to be a function or a fromModule() reference, got undefined');
    super({ target, args });
    this.#interval = interval;
  }

  /** The delay before the target runs, in ms. */
  get interval(): number {
    return this.#interval;
  }

  /** Stops the timer if it is still waiting (or not started yet); no effect once the target began. */
  cancel(): void {
    this[kCancel]();
  }

  protected override [kStartDelay](): number {
    return this.#interval;
  }
}
