/**
 * AsyncResult: the pending result of a `Pool.applyAsync`/`mapAsync`/`starmapAsync` call, as
 * Python's `multiprocessing.pool.AsyncResult`.
 */
import { inspect } from 'node:util';
import { TimeoutError, ValueError } from '../errors';
import { checkTimeout } from '../internal/validate';
import { after } from '../internal/timer';

/** Internal: settles an AsyncResult (used by Pool only). */
export const kSettle: unique symbol = Symbol('threadkit.AsyncResult.settle') as never;

/** Callbacks of an async Pool call. */
export interface AsyncResultCallbacks<R> {
  /** Called once with the result when the call succeeds, before `ready()` turns true. */
  readonly callback?: (result: R) => void;
  /** Called once with the error when the call fails, before `ready()` turns true. */
  readonly errorCallback?: (error: unknown) => void;
}

const PENDING = 0;
const SUCCEEDED = 1;
const FAILED = 2;
type State = typeof PENDING | typeof SUCCEEDED | typeof FAILED;

/**
 * The result of an asynchronous Pool call, available once the call's task(s) finished.
 *
 * `get(timeout)` resolves with the value or rejects with the task's error (TimeoutError if it is not
 * ready in time); `wait(timeout)` only waits. Unlike Python, `get()` never hangs because of the pool:
 * a task whose child died fails with BrokenProcessPoolError, and `terminate()` fails every unfinished
 * call. The `callback` / `errorCallback` given to the call runs exactly once, before the result is
 * ready; an error thrown by it is reported on stderr and changes nothing. A failed result that nobody
 * asks for causes no unhandled rejection.
 *
 * @example
 * const result = pool.applyAsync((a: number, b: number) => a * b, [6, 7]);
 * await result.wait();
 * console.log(result.successful(), await result.get());   // true 42
 *
 * @throws ValueError from `successful()` before the result is ready; TimeoutError from `get(timeout)`;
 *   RangeError for a negative or NaN timeout.
 */
export class AsyncResult<R = unknown> {
  #state: State = PENDING;
  #value: unknown;
  readonly #callbacks: AsyncResultCallbacks<R>;
  /** Woken once when the result becomes ready. */
  #waiters: Array<() => void> = [];

  /** @internal Made by Pool; not constructed by users. */
  constructor(callbacks: AsyncResultCallbacks<R> = {}) {
    this.#callbacks = callbacks;
  }

  /** True once the call has finished (succeeded or failed). */
  ready(): boolean {
    return this.#state !== PENDING;
  }

  /**
   * True if the call returned without an error.
   * @throws ValueError when the result is not ready yet
   */
  successful(): boolean {
    if (this.#state === PENDING) throw new ValueError('AsyncResult is not ready');
    return this.#state === SUCCEEDED;
  }

  /**
   * Waits until the result is ready, or `timeout` milliseconds have passed (it does not throw then).
   * @throws (rejects) RangeError for a negative or NaN timeout
   */
  async wait(timeout?: number): Promise<void> {
    await this.#ready(checkTimeout(timeout));
  }

  /**
   * The call's result: resolves with the value, rejects with the task's error.
   * @throws (rejects) TimeoutError when not ready within `timeout` ms; RangeError for a bad timeout
   */
  async get(timeout?: number): Promise<R> {
    const ms = checkTimeout(timeout);
    if (!(await this.#ready(ms))) throw new TimeoutError(`AsyncResult not ready after ${ms} ms`);
    if (this.#state === FAILED) throw this.#value;
    return this.#value as R;
  }

  /** Resolves true once ready, false after `ms`. */
  #ready(ms: number | undefined): Promise<boolean> {
    if (this.#state !== PENDING) return Promise.resolve(true);
    if (ms === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let cancelTimer: (() => void) | undefined;
      const wake = (): void => {
        cancelTimer?.();
        resolve(true);
      };
      this.#waiters.push(wake);
      if (ms !== undefined && ms !== Infinity) {
        cancelTimer = after(ms, () => {
          const i = this.#waiters.indexOf(wake);
          if (i !== -1) this.#waiters.splice(i, 1);
          resolve(this.#state !== PENDING);
        });
      }
    });
  }

  /** @internal Settles the result once (later calls are ignored): callback first, then ready. */
  [kSettle](ok: boolean, value: unknown): void {
    if (this.#state !== PENDING) return;
    const callback = ok ? this.#callbacks.callback : this.#callbacks.errorCallback;
    if (callback !== undefined) {
      try {
        callback(value as R);
      } catch (error) {
        console.error(`exception calling ${ok ? 'callback' : 'errorCallback'} for ${inspect(this)}`, error);
      }
    }
    this.#value = value;
    this.#state = ok ? SUCCEEDED : FAILED;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  [inspect.custom](): string {
    if (this.#state === PENDING) return '<AsyncResult pending>';
    const value = this.#value;
    const kind = value === null ? 'null' : value instanceof Error ? value.name : typeof value === 'object' ? (value as object).constructor?.name ?? 'object' : typeof value;
    return `<AsyncResult ${this.#state === SUCCEEDED ? 'returned' : 'raised'} ${kind}>`;
  }
}
