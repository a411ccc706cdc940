/**
 * Future: the pending result of a task, as Python's `concurrent.futures.Future`.
 *
 * State machine (the names are Python's, from `concurrent/futures/_base.py`):
 *
 * ```
 *   PENDING ──setRunningOrNotifyCancel()──▶ RUNNING ──setResult()/setException()──▶ FINISHED
 *      │                                                                             ▲
 *      ├──setResult()/setException() (a future may finish without ever running) ────┘
 *      └──cancel()──▶ CANCELLED ──setRunningOrNotifyCancel()──▶ CANCELLED_AND_NOTIFIED
 * ```
 *
 * `cancel()` succeeds only while PENDING: once an executor has handed the task to a worker the
 * task cannot be taken back. CANCELLED_AND_NOTIFIED records that the executor has seen the
 * cancellation (so it skips the task); both cancelled states are "done".
 *
 * Who wakes when, as in Python: `result()`/`exception()` waiters and done callbacks at `cancel()`;
 * `wait()` and `asCompleted()` only once the future is *completed* — finished, or cancelled and
 * notified (`setRunningOrNotifyCancel()`). A future that was cancelled but never notified is
 * "not done" for them. A threadkit executor's own futures skip that gap: the executor owns the
 * queue, so its futures go straight to CANCELLED_AND_NOTIFIED when cancelled (see kNotifyOnCancel),
 * and `wait()` never waits for a worker to reach a cancelled task.
 *
 * A finished future either returned a value or raised an error; a separate flag says which, so a
 * task that throws `undefined` or `0` still counts as failed.
 */
import { inspect } from 'node:util';
import { CancelledError, InvalidStateError, RuntimeError, TimeoutError } from '../errors';
import { checkTimeout } from '../internal/validate';
import { after } from '../internal/timer';

/** Python's future states. */
export const PENDING = 'PENDING';
export const RUNNING = 'RUNNING';
export const CANCELLED = 'CANCELLED';
export const CANCELLED_AND_NOTIFIED = 'CANCELLED_AND_NOTIFIED';
export const FINISHED = 'FINISHED';
export type FutureState = typeof PENDING | typeof RUNNING | typeof CANCELLED | typeof CANCELLED_AND_NOTIFIED | typeof FINISHED;

/**
 * Internal: subscribes a listener that runs once when the future is completed (finished, or
 * cancelled and notified), before the user's done callbacks; at once if it already is. Used by
 * `wait` and `asCompleted`. Returns a function that unsubscribes it.
 */
export const kOnCompleted: unique symbol = Symbol('threadkit.Future.onCompleted') as never;

/** Internal: true when the future is finished, or cancelled and notified (Python's `wait` sets). */
export const kCompleted: unique symbol = Symbol('threadkit.Future.completed') as never;

/**
 * Internal: makes `cancel()` notify at once (CANCELLED → CANCELLED_AND_NOTIFIED in one step). For
 * executors, which own the queue their futures wait in and drop cancelled ones from it.
 */
export const kNotifyOnCancel: unique symbol = Symbol('threadkit.Future.notifyOnCancel') as never;

/** Internal: true when the future finished with an error (Python's `exception() is not None`, but exact). */
export const kFailed: unique symbol = Symbol('threadkit.Future.failed') as never;

/**
 * A Future as `asCompleted` yields it: typed without `then`, so that `for await` does not unwrap it.
 * Read its value with `await f.result()`: `await f` also gives the value at runtime, but TypeScript
 * types it as the future itself (a type with `then` would be unwrapped by the loop as well).
 */
export type CompletedFuture<T> = Omit<Future<T>, 'then'>;

type Listener = () => void;

/**
 * The pending result of a task submitted to an executor; `await future` gives its value.
 *
 * A Future starts PENDING, becomes RUNNING when a worker takes its task, and ends FINISHED (with a
 * value or an error) or CANCELLED. `cancel()` works only while it is pending. `result()` and
 * `exception()` wait without blocking the event loop and accept a timeout in milliseconds.
 * Done callbacks run once each, in the order they were added, on the thread that added them; an
 * error thrown by one is reported on stderr and never propagates. A failed future that nobody
 * awaits causes no unhandled rejection: promises are only made when someone asks for the result.
 *
 * @example
 * const future = executor.submit((a: number, b: number) => a * b, 6, 7);
 * future.addDoneCallback((f) => console.log('done', f.cancelled()));
 * console.log(await future);           // 42
 *
 * @throws CancelledError from `result()`/`exception()` of a cancelled future;
 *   TimeoutError when their timeout passes first; RangeError for a negative or NaN timeout;
 *   InvalidStateError from `setResult`/`setException` on a future that is already done.
 */
export class Future<T = unknown> implements PromiseLike<T> {
  #state: FutureState = PENDING;
  /** Meaningful only in FINISHED: true when the task raised (even `undefined` or `0`). */
  #hasException = false;
  #result: T | undefined = undefined;
  #exception: unknown = undefined;
  /** User callbacks, in the order added; undefined until the first is added (most futures have none). */
  // Typed over Future<any>: a private field typed with T in a parameter position would make
  // Future invariant, and `wait([Future<number>, Future<string>])` would not type-check.
  #callbacks: Array<(future: Future<any>) => unknown> | undefined;
  /** Internal listeners of completion (`wait`, `asCompleted`); they run before user callbacks. */
  #listeners: Set<Listener> | undefined;
  /** Timed `result()`/`exception()` waits, woken when the future is done (cancelled included). */
  #timedWaiters: Set<Listener> | undefined;
  /** See {@link kNotifyOnCancel}. */
  #notifyOnCancel = false;
  /**
   * Resolves when the future is done: one promise shared by every untimed waiter (`await future`,
   * `result()`), so that awaiting 100 000 futures costs one promise each, not a promise, a
   * listener and their closures per wait.
   */
  #donePromise: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;
  /**
   * The promise of every untimed `result()` made while pending, settled with the value or the error
   * itself: `await future.result()` then resumes in the microtask after the task is reported (a
   * reaction to the done promise would be one more). Typed `any` for the variance reason above.
   */
  #resultPromise: Promise<any> | undefined;
  #resolveResult: ((value: any) => void) | undefined;
  #rejectResult: ((error: unknown) => void) | undefined;

  /** True if the future was cancelled. */
  cancelled(): boolean {
    return this.#state === CANCELLED || this.#state === CANCELLED_AND_NOTIFIED;
  }

  /** True while a worker is running the task. */
  running(): boolean {
    return this.#state === RUNNING;
  }

  /** True when the future finished or was cancelled. */
  done(): boolean {
    return this.#state === FINISHED || this.#state === CANCELLED || this.#state === CANCELLED_AND_NOTIFIED;
  }

  /**
   * Cancels the future if it is still pending.
   * @returns true when the future is now cancelled (also when it already was), false when it is
   *   running or finished.
   */
  cancel(): boolean {
    if (this.#state === RUNNING || this.#state === FINISHED) return false;
    if (this.#state === CANCELLED || this.#state === CANCELLED_AND_NOTIFIED) return true;
    this.#state = this.#notifyOnCancel ? CANCELLED_AND_NOTIFIED : CANCELLED;
    this.#wakeWaiters();
    if (this.#notifyOnCancel) this.#wakeListeners();
    this.#runCallbacks();
    return true;
  }

  /**
   * The task's value, waiting up to `timeout` milliseconds (`undefined`: forever; `0`: do not wait).
   * Rejects with the task's error, CancelledError, or TimeoutError.
   */
  result(timeout?: number): Promise<T> {
    if ((timeout === undefined || timeout === Infinity) && !this.done()) {
      return (this.#resultPromise ??= new Promise<any>((resolve, reject) => {
        this.#resolveResult = resolve;
        this.#rejectResult = reject;
      }));
    }
    return this.#whenDone(timeout).then(() => this.#outcome());
  }

  /**
   * The error the task raised, or null when it returned a value, waiting up to `timeout`
   * milliseconds. Rejects with CancelledError or TimeoutError.
   */
  exception(timeout?: number): Promise<unknown> {
    return this.#whenDone(timeout).then(() => {
      if (this.cancelled()) throw new CancelledError('the future was cancelled');
      return this.#hasException ? this.#exception : null;
    });
  }

  /**
   * Calls `fn(future)` once when the future finishes or is cancelled (at once if it already is).
   * Callbacks run in the order added; an error thrown by one is reported and not propagated.
   */
  addDoneCallback(fn: (future: Future<T>) => unknown): void {
    if (typeof fn !== 'function') {
      throw new TypeError(`Expected \`fn\` to be a function, got ${typeof fn}`);
    }
    if (this.done()) {
      this.#invoke(fn);
      return;
    }
    (this.#callbacks ??= []).push(fn);
  }

  /** `await future` behaves as `await future.result()`. */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.result().then(onfulfilled, onrejected);
  }

  /**
   * For executors: marks the future RUNNING and returns true, or, if it was cancelled, records
   * that the executor saw the cancellation and returns false (the task must then be skipped).
   * @throws RuntimeError when the future is neither pending nor cancelled.
   */
  setRunningOrNotifyCancel(): boolean {
    if (this.#state === CANCELLED) {
      this.#state = CANCELLED_AND_NOTIFIED;
      this.#wakeListeners();
      return false;
    }
    if (this.#state === PENDING) {
      this.#state = RUNNING;
      return true;
    }
    throw new RuntimeError(`cannot set running a future in state ${this.#state.toLowerCase()}`);
  }

  /** For executors: finishes the future with a value. @throws InvalidStateError when already done. */
  setResult(value: T): void {
    this.#checkNotDone('result');
    this.#result = value;
    this.#state = FINISHED;
    this.#settled();
  }

  /** For executors: finishes the future with an error (any value). @throws InvalidStateError when already done. */
  setException(error: unknown): void {
    this.#checkNotDone('exception');
    this.#exception = error;
    this.#hasException = true;
    this.#state = FINISHED;
    this.#settled();
  }

  /** Internal: see {@link kOnCompleted}. */
  [kOnCompleted](listener: Listener): () => void {
    if (this[kCompleted]) {
      listener();
      return noop;
    }
    (this.#listeners ??= new Set()).add(listener);
    return () => this.#listeners?.delete(listener);
  }

  /** Internal: see {@link kCompleted}. */
  get [kCompleted](): boolean {
    return this.#state === FINISHED || this.#state === CANCELLED_AND_NOTIFIED;
  }

  /** Internal: see {@link kNotifyOnCancel}. */
  [kNotifyOnCancel](): this {
    this.#notifyOnCancel = true;
    return this;
  }

  /** Internal: see {@link kFailed}. */
  get [kFailed](): boolean {
    return this.#state === FINISHED && this.#hasException;
  }

  /** Internal: Python's `_state`, for tests and executors. */
  get _state(): FutureState {
    return this.#state;
  }

  [inspect.custom](): string {
    switch (this.#state) {
      case FINISHED:
        return this.#hasException
          ? `<Future state=finished raised ${typeName(this.#exception)}>`
          : `<Future state=finished returned ${typeName(this.#result)}>`;
      case CANCELLED:
      case CANCELLED_AND_NOTIFIED:
        return '<Future state=cancelled>';
      default:
        return `<Future state=${this.#state.toLowerCase()}>`;
    }
  }

  #checkNotDone(what: string): void {
    // Python's message is "<STATE>: <repr>"; ports of its tests match on that part.
    if (this.done()) {
      throw new InvalidStateError(`cannot set the ${what} of a future that is already done (${this.#state}: ${this[inspect.custom]()})`);
    }
  }

  /** Resolves once the future is done; rejects with TimeoutError when `timeout` passes first. */
  #whenDone(timeout: number | undefined): Promise<void> {
    try {
      checkTimeout(timeout);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.done()) return Promise.resolve();
    if (timeout === 0) return Promise.reject(new TimeoutError('the future did not finish within 0 ms'));
    if (timeout === undefined || timeout === Infinity) {
      return (this.#donePromise ??= new Promise<void>((resolve) => (this.#resolveDone = resolve)));
    }
    return new Promise<void>((resolve, reject) => {
      const waiters = (this.#timedWaiters ??= new Set());
      const waiter = (): void => {
        cancelTimer();
        resolve();
      };
      const cancelTimer = after(timeout, () => {
        waiters.delete(waiter);
        reject(new TimeoutError(`the future did not finish within ${timeout} ms`));
      });
      waiters.add(waiter);
    });
  }

  /** The future finished: everyone is woken, then the callbacks run, each exactly once. */
  #settled(): void {
    this.#wakeWaiters();
    this.#wakeListeners();
    this.#runCallbacks();
  }

  /** The value of a done future, or throws what `result()` rejects with. */
  #outcome(): T {
    if (this.cancelled()) throw new CancelledError('the future was cancelled');
    if (this.#hasException) throw this.#exception;
    return this.#result as T;
  }

  /** Wakes `result()`/`exception()` (the future is done). */
  #wakeWaiters(): void {
    const resolveDone = this.#resolveDone;
    const waiters = this.#timedWaiters;
    const [resolveResult, rejectResult] = [this.#resolveResult, this.#rejectResult];
    this.#resolveDone = undefined;
    this.#timedWaiters = undefined;
    this.#resolveResult = this.#rejectResult = undefined;
    if (resolveResult !== undefined) {
      try {
        resolveResult(this.#outcome());
      } catch (error) {
        rejectResult!(error);
      }
    }
    resolveDone?.();
    if (waiters !== undefined) for (const waiter of waiters) waiter();
  }

  /** Wakes `wait`/`asCompleted` (the future is completed). */
  #wakeListeners(): void {
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }

  #runCallbacks(): void {
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks !== undefined) for (const fn of callbacks) this.#invoke(fn);
  }

  #invoke(fn: (future: Future<any>) => unknown): void {
    try {
      const ret = fn(this);
      // An async callback's rejection is reported too, not left unhandled.
      if (ret !== null && typeof ret === 'object' && typeof (ret as PromiseLike<unknown>).then === 'function') {
        Promise.resolve(ret).catch((error: unknown) => reportCallbackError(this, error));
      }
    } catch (error) {
      reportCallbackError(this, error);
    }
  }
}

function noop(): void {}

/** Python logs "exception calling callback for <Future …>"; so do we, on stderr. */
function reportCallbackError(future: Future<any>, error: unknown): void {
  console.error(`exception calling callback for ${inspect(future)}`, error);
}

/** Name of a value's type for `inspect`: `number`, `null`, `Array`, `TypeError`. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object' && typeof value !== 'function') return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  if (value instanceof Error || Object.prototype.toString.call(value) === '[object Error]') {
    return typeof (value as Error).name === 'string' ? (value as Error).name : 'Error';
  }
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'Object';
}
