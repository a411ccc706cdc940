/**
 * Timeouts and deadlines, shared by every blocking call of the library.
 *
 * Public timeouts are milliseconds: `undefined` waits forever, `0` tries once and never blocks,
 * negative or NaN is a RangeError. A blocking call turns its timeout into an absolute deadline on
 * `performance.now()` (monotonic, unaffected by wall-clock changes) once, and every retry after a
 * spurious or stolen wake-up waits only for the time that is left, so a loop of retries can never
 * overrun the caller's timeout.
 */
import { performance } from 'node:perf_hooks';
import { ValueError } from '../../errors';

/** A deadline that never comes. */
export const FOREVER = Infinity;

/**
 * Validates a public timeout argument and returns it unchanged.
 * @throws TypeError when it is neither a number nor undefined; ValueError (a RangeError, and
 *   Python's class) when negative or NaN; a negative one's message says how to wait forever.
 */
export function checkTimeout(timeout: unknown, name = 'timeout'): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== 'number') {
    throw new TypeError(`Expected \`${name}\` to be a number of milliseconds or undefined, got ${describe(timeout)}`);
  }
  if (Number.isNaN(timeout)) {
    throw new ValueError(`Expected \`${name}\` to be a non-negative number of milliseconds, got NaN`);
  }
  if (timeout < 0) {
    // Python spells "forever" `timeout=-1` (Lock.acquire) or None; here it is leaving the timeout out.
    throw new ValueError(
      `Expected \`${name}\` to be a non-negative number of milliseconds, got ${timeout}; ` +
      'to wait forever, omit it or pass undefined (Python\'s timeout=-1 or None)',
    );
  }
  return timeout;
}

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

/** Short description of a received value for argument-error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object') return Object.prototype.toString.call(value).slice(8, -1) === 'Object' ? 'object' : Object.prototype.toString.call(value);
  return typeof value;
}
