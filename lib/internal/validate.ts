/**
 * Argument checks shared by every public entry point, so that the whole library rejects bad input
 * the same way: a wrong type is a TypeError, a number out of range a ValueError (a RangeError, so
 * both Python's class and the built-in one match), and each message names the argument and the
 * value received (`Expected \`timeout\` to be a number of milliseconds or undefined, got string "5"`).
 *
 * Imports only the error classes: worker-side and public code both use it.
 */
import { ValueError } from '../errors';

/** Short description of a received value for argument-error messages: `string "abc"`, `number 5`, `object`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object') return Object.prototype.toString.call(value).slice(8, -1) === 'Object' ? 'object' : Object.prototype.toString.call(value);
  return typeof value;
}

/**
 * A duration in milliseconds that must be given (`sleep(ms)`, a Timer's `interval`): a number, not
 * negative, not NaN; Infinity allowed.
 * @throws TypeError when it is not a number; ValueError when negative or NaN
 */
export function checkMilliseconds(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`Expected \`${name}\` to be a number of milliseconds, got ${describe(value)}`);
  if (Number.isNaN(value) || value < 0) throw new ValueError(`Expected \`${name}\` to be a non-negative number of milliseconds, got ${value}`);
  return value;
}

/**
 * A public timeout argument, returned unchanged: milliseconds, `undefined` to wait forever, `0` to
 * try once without blocking.
 * @throws TypeError when it is neither a number nor undefined; ValueError (a RangeError, as the
 *   contract says, and Python's class) when negative or NaN.
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

/** A positive integer option (`maxWorkers`, `chunksize`, `maxTasksPerChild`), or `fallback` when undefined. */
export function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') {
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 1) {
    throw new ValueError(`Expected \`${name}\` to be a positive integer, got ${value}`);
  }
  return value;
}

/** A boolean option, or `fallback` when undefined. */
export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`Expected \`${name}\` to be a boolean, got ${describe(value)}`);
  return value;
}

/** An options object (undefined allowed: no options). */
export function optionsObject<T extends object>(value: T | undefined, name = 'options'): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`Expected \`${name}\` to be an object, got ${describe(value)}`);
  }
  return value;
}

/** An optional list of strings (`execArgv`), copied; `[]` when undefined. */
export function stringArray(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new TypeError(`Expected \`${name}\` to be an array of strings, got ${describe(value)}`);
  }
  return [...value];
}
