/**
 * Timers for user timeouts. `setTimeout` takes at most 2^31 - 1 ms (≈ 24.8 days): a larger delay
 * fires after 1 ms, with a warning, which would turn `future.result(3e9)` into an instant
 * TimeoutError. Timeouts are the user's numbers, so any finite one must work: longer delays are
 * chained.
 */

/** Longest delay `setTimeout` honours. */
const MAX_TIMER_MS = 0x7fffffff;

/** Calls `fn` once, `ms` milliseconds from now (any finite `ms`). Returns a function that cancels it. */
export function after(ms: number, fn: () => void): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number): void => {
    timer = left > MAX_TIMER_MS ? setTimeout(() => arm(left - MAX_TIMER_MS), MAX_TIMER_MS) : setTimeout(fn, left);
  };
  arm(ms);
  return () => clearTimeout(timer);
}
