/**
 * Validation of executor options, shared by every executor so that they reject bad input with the
 * same errors: a wrong type is a TypeError, a number out of range a ValueError (a RangeError, so
 * both Python's class and the built-in one match), each naming the option and the value received.
 */
import { ValueError } from '../../errors';
import { describe } from '../shm/deadline';

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

/** An options object (undefined allowed). */
export function optionsObject<T extends object>(value: T | undefined, name = 'options'): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`Expected \`${name}\` to be an object, got ${describe(value)}`);
  }
  return value;
}
