/** Validation of the options that only process pools have. */
import { describe } from '../shm/deadline';

/** The `execArgv` option: extra Node.js flags for the children. */
export function execArgvOption(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((flag) => typeof flag === 'string')) {
    throw new TypeError(`Expected \`execArgv\` to be an array of strings, got ${describe(value)}`);
  }
  return [...value];
}
