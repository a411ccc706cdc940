/**
 * Timeouts and deadlines, shared by every blocking call of the library.
 *
 * Public timeouts are milliseconds: `undefined` waits forever, `0` tries once and never blocks,
 * negative or NaN is a RangeError (`checkTimeout`, internal/validate.ts). A blocking call turns its
 * timeout into an absolute deadline on `performance.now()` (monotonic, unaffected by wall-clock
 * changes) once, and every retry after a spurious or stolen wake-up waits only for the time that is
 * left, so a loop of retries can never overrun the caller's timeout.
 */
import { performance } from 'node:perf_hooks';
import { checkTimeout } from '../validate';

/** A deadline that never comes. */
export const FOREVER = Infinity;

/** Validates `timeout` and turns it into an absolute deadline on `performance.now()`. */
export function deadlineFor(timeout: unknown, name = 'timeout'): number {
  const t = checkTimeout(timeout, name);
  return t === undefined || t === Infinity ? FOREVER : performance.now() + t;
}

/** Milliseconds left before `deadline` (never negative; `Infinity` for FOREVER). */
export function remaining(deadline: number): number {
  if (deadline === FOREVER) return FOREVER;
  const left = deadline - performance.now();
  return left > 0 ? left : 0;
}
