/**
 * Captures what code under test prints with `console.error` (the library reports a failed
 * initializer or a throwing done callback there, as Python logs them), so a test can check the
 * report and the run's output stays clean.
 */
import { jest } from '@jest/globals';
import { format } from 'node:util';

/** Runs `body` with `console.error` captured; returns its value and each call's text. */
export async function capturingConsoleError<T>(body: () => Promise<T>): Promise<{ value: T; printed: string[] }> {
  const printed: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    printed.push(format(...args));
  });
  try {
    return { value: await body(), printed };
  } finally {
    spy.mockRestore();
  }
}
