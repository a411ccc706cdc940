/**
 * The shared-state examples of examples/ (multiprocessing Lock, Value, Array and the concurrent
 * ticket program) run with one command and print what their seed sections describe. Each runs as a
 * child process group with a deadline (run-example.ts). Children print straight to the same pipe,
 * synchronously, so the order of lines printed under a lock is the order they were printed in.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { killAll, runExample } from './run-example';

const EXAMPLE_TIMEOUT = 120_000;

afterEach(() => killAll());

describe('shared-state examples', () => {
  test('multiprocessing-lock: each process prints its three lines while it holds the Lock, never cut by another', async () => {
    const run = await runExample('multiprocessing-lock');
    expect(run.code).toBe(0);
    expect(run.lines).toHaveLength(9);
    const groups = [0, 3, 6].map((at) => run.lines.slice(at, at + 3));
    for (const group of groups) {
      const name = /^(process \d) 1$/.exec(group[0])?.[1];
      expect(group).toEqual([`${name} 1`, `${name} 2`, `${name} 3`]);
    }
    expect(groups.map((g) => g[0]).sort()).toEqual(['process 0 1', 'process 1 1', 'process 2 1']);
  }, EXAMPLE_TIMEOUT);

  /** The sales an example run printed: ticket number → the pids that bought it. */
  function sales(lines: readonly string[]): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (const line of lines) {
      const m = /^process (\d+) got ticket #(\d+)$/.exec(line);
      if (m !== null) out.set(Number(m[2]), [...(out.get(Number(m[2])) ?? []), Number(m[1])]);
    }
    return out;
  }

  test('multiprocessing-tickets-lock: 15 processes at once, get() under a Lock: the one ticket is sold exactly once', async () => {
    const run = await runExample('multiprocessing-tickets-lock');
    expect(run.code).toBe(0);
    expect(run.lines.filter((l) => l === '1 left')).toHaveLength(15);
    expect([...sales(run.lines)].map(([ticket, buyers]) => [ticket, buyers.length])).toEqual([[1, 1]]);
    expect(run.lines.filter((l) => l === 'sold out!')).toHaveLength(14);
    expect(run.lines.slice(-2)).toEqual(['with the Lock: 1 sold, 1 in the db at first, 0 left in the db now', 'each ticket was sold exactly once']);
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-tickets-lock --tickets 3: each of the three tickets goes to one buyer, the twelve others are told it is sold out', async () => {
    const run = await runExample('multiprocessing-tickets-lock', ['--tickets', '3']);
    expect(run.code).toBe(0);
    const sold = sales(run.lines);
    expect([...sold.keys()].sort()).toEqual([1, 2, 3]);
    expect([...sold.values()].every((buyers) => buyers.length === 1)).toBe(true);
    expect(new Set([...sold.values()].flat()).size).toBe(3);
    // Tickets go from the top down: #3 first, then #2, then #1 (the Lock orders the sales).
    const order = run.lines.filter((l) => /got ticket/.test(l)).map((l) => Number(/#(\d+)$/.exec(l)![1]));
    expect(order).toEqual([3, 2, 1]);
    expect(run.lines.filter((l) => l === 'sold out!')).toHaveLength(12);
    expect(run.lines.slice(-2)).toEqual(['with the Lock: 3 sold, 3 in the db at first, 0 left in the db now', 'each ticket was sold exactly once']);
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-tickets-lock --no-lock: the race: the one ticket is sold more than once', async () => {
    const run = await runExample('multiprocessing-tickets-lock', ['--no-lock']);
    expect(run.code).toBe(0);
    const buyers = sales(run.lines).get(1) ?? [];
    expect(buyers.length).toBeGreaterThan(1);
    expect(run.lines.slice(-2)).toEqual([
      `without the Lock: ${buyers.length} sold, 1 in the db at first, 0 left in the db now`,
      `oversold: ${buyers.length - 1} more sales than tickets`,
    ]);
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-value: concurrent deposits and spending under the Value\'s lock give the exact balance; a float is overwritten', async () => {
    const run = await runExample('multiprocessing-value');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual(['balance at the end of the month: 3000', 'the child overwrote 36.6 with 38.25']);
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-array: the child reads every element and changes one, the parent sees it; zeros; bytes as text', async () => {
    const run = await runExample('multiprocessing-array');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      'shm.get(1) is 2',
      'child sees 1', 'child sees 2', 'child sees 3', 'child sees 4', 'child sees 5',
      'parent sees 1, 2, 3, 1000, 5',
      "Array('i', 5) holds 0, 0, 0, 0, 0",
      'the bytes now read: Hello threadkit',
    ]);
  }, EXAMPLE_TIMEOUT);
});
