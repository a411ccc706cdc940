/**
 * Waiting for several futures at once: {@link wait} and {@link asCompleted}, as Python's
 * `concurrent.futures.wait` and `as_completed`.
 */
import { TimeoutError, ValueError } from '../errors';
import { deadlineFor, remaining } from '../internal/shm/deadline';
import { checkTimeout, describe } from '../internal/validate';
import { after } from '../internal/timer';
import { Future, kCompleted, kFailed, kOnCompleted, type CompletedFuture } from './future';

/** `wait` returns when any future finishes or is cancelled (and notified). */
export const FIRST_COMPLETED = 'FIRST_COMPLETED';
/** `wait` returns when any future finishes by raising, or when all are done. */
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION';
/** `wait` returns when all futures are done. */
export const ALL_COMPLETED = 'ALL_COMPLETED';
/** When {@link wait} returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options of {@link wait}. */
export interface WaitOptions {
  /**
   * Milliseconds to wait at most; when they pass, `wait` returns the partition as it is then.
   * @default undefined (no limit)
   */
  timeout?: number;
  /** @default 'ALL_COMPLETED' */
  returnWhen?: ReturnWhen;
}

/**
 * Waits until the futures meet `returnWhen` or `timeout` passes, and splits them into done and
 * not done.
 *
 * Duplicates count once. A future is done here once it finished or its cancellation was notified
 * (as Python: a bare `new Future()` that was `cancel()`led but never passed through
 * `setRunningOrNotifyCancel()` stays in `notDone`; an executor's futures are notified as soon as
 * they are cancelled). A timeout is not an error: `wait` then returns the sets as they are (check
 * `notDone.size`).
 *
 * @example
 * const { done, notDone } = await wait([f1, f2, f3], { returnWhen: FIRST_COMPLETED });
 *
 * @throws TypeError when `fs` is not an iterable of futures; RangeError for a negative or NaN
 *   timeout or an unknown `returnWhen`.
 */
export async function wait<T>(
  fs: Iterable<Future<T>>,
  options?: WaitOptions,
): Promise<{ done: Set<Future<T>>; notDone: Set<Future<T>> }> {
  const { timeout, returnWhen = ALL_COMPLETED } = options ?? {};
  checkTimeout(timeout);
  if (returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION && returnWhen !== ALL_COMPLETED) {
    throw new ValueError(`Expected \`returnWhen\` to be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${describe(returnWhen)}`);
  }
  const futures = distinctFutures(fs);
  const done = new Set<Future<T>>();
  const notDone = new Set<Future<T>>();
  for (const f of futures) (f[kCompleted] ? done : notDone).add(f);

  const satisfied = (): boolean => {
    if (notDone.size === 0) return true;
    if (returnWhen === FIRST_COMPLETED) return done.size > 0;
    if (returnWhen === FIRST_EXCEPTION) for (const f of done) if (f[kFailed]) return true;
    return false;
  };
  if (satisfied() || timeout === 0) return { done, notDone };

  await new Promise<void>((resolve) => {
    const unsubscribers: Array<() => void> = [];
    let cancelTimer: (() => void) | undefined;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      cancelTimer?.();
      for (const unsubscribe of unsubscribers) unsubscribe();
      resolve();
    };
    for (const f of [...notDone]) {
      unsubscribers.push(
        f[kOnCompleted](() => {
          notDone.delete(f);
          done.add(f);
          if (satisfied()) finish();
        }),
      );
      if (finished) return;
    }
    if (timeout !== undefined && timeout !== Infinity) cancelTimer = after(timeout, finish);
  });
  return { done, notDone };
}

/**
 * Yields each distinct future once, as it completes (finished, or cancelled and notified: see
 * {@link wait}); the ones already completed come first.
 *
 * It yields the Future objects, not their values (it is a plain async iterator, not an async
 * generator, whose `yield` would unwrap a thenable); the element type is {@link CompletedFuture}
 * so that TypeScript's `for await` does not unwrap it either. So inside the loop, read a value with
 * `await future.result()` (TypeScript types `await future` as the future). The timeout counts from
 * the call.
 *
 * @example
 * for await (const future of asCompleted(futures, 5000)) console.log(await future.result());
 *
 * @throws TypeError when `fs` is not an iterable of futures; RangeError for a negative or NaN
 *   timeout (both at the call). The iterator throws TimeoutError ("2 (of 5) futures unfinished")
 *   when `timeout` passes before every future is done.
 */
export function asCompleted<T>(fs: Iterable<Future<T>>, timeout?: number): AsyncIterable<CompletedFuture<T>> {
  return new AsCompletedIterator(distinctFutures(fs), timeout);
}

class AsCompletedIterator<T> implements AsyncIterableIterator<CompletedFuture<T>> {
  readonly #total: number;
  readonly #deadline: number;
  /** Done futures not yet yielded, in completion order (already-done ones first, in input order). */
  readonly #ready: Future<T>[] = [];
  #readIndex = 0;
  /** Futures not done yet, with the function that unsubscribes their listener. */
  readonly #pending = new Map<Future<T>, () => void>();
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(futures: Set<Future<T>>, timeout: number | undefined) {
    this.#deadline = deadlineFor(timeout);
    this.#total = futures.size;
    for (const f of futures) if (f[kCompleted]) this.#ready.push(f);
    // Listen from the call on, so that the completion order is the real one.
    for (const f of futures) {
      if (f[kCompleted]) continue;
      this.#pending.set(
        f,
        f[kOnCompleted](() => {
          this.#pending.delete(f);
          this.#ready.push(f);
          const wake = this.#wake;
          this.#wake = undefined;
          wake?.();
        }),
      );
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<CompletedFuture<T>>> {
    for (;;) {
      if (this.#closed) return { value: undefined, done: true };
      if (this.#readIndex < this.#ready.length) {
        const f = this.#ready[this.#readIndex];
        this.#ready[this.#readIndex++] = undefined as never;
        return { value: f, done: false };
      }
      if (this.#pending.size === 0) {
        this.#close();
        return { value: undefined, done: true };
      }
      const left = remaining(this.#deadline);
      if (left === 0) {
        const unfinished = this.#pending.size;
        this.#close();
        throw new TimeoutError(`${unfinished} (of ${this.#total}) futures unfinished`);
      }
      await new Promise<void>((resolve) => {
        const cancelTimer = left === Infinity ? undefined : after(left, resolve);
        this.#wake = () => {
          cancelTimer?.();
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async return(): Promise<IteratorResult<CompletedFuture<T>>> {
    this.#close();
    return { value: undefined, done: true };
  }

  #close(): void {
    this.#closed = true;
    for (const unsubscribe of this.#pending.values()) unsubscribe();
    this.#pending.clear();
    this.#ready.length = 0;
  }
}

/** The distinct futures of `fs`, in first-seen order. */
function distinctFutures<T>(fs: Iterable<Future<T>>): Set<Future<T>> {
  if (fs === null || typeof fs !== 'object' || typeof (fs as Iterable<Future<T>>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`Expected \`fs\` to be an iterable of futures, got ${describe(fs)}`);
  }
  const out = new Set<Future<T>>();
  let i = 0;
  for (const f of fs) {
    if (!(f instanceof Future)) throw new TypeError(`Expected \`fs\` to hold futures, got ${describe(f)} at index ${i}`);
    out.add(f);
    i++;
  }
  return out;
}
