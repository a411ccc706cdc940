/**
 * The Process, daemon, zombie, orphan and signal examples of examples/ run with one command and
 * print what their seed sections describe. Each runs as a child process group with a deadline
 * (run-example.ts). Lines of different processes may come in any order, so the checks look at which
 * lines appear, the order within one process, and the order relative to lines that wait for others.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { killAll, runExample } from './run-example';

const EXAMPLE_TIMEOUT = 90_000;

afterEach(() => killAll());

/** Index of the line equal to `text` (fails the test when it is missing). */
function at(lines: readonly string[], text: string): number {
  const i = lines.indexOf(text);
  expect({ missing: text, found: i >= 0 ? text : lines }).toEqual({ missing: text, found: text });
  return i;
}

/** Index of the first line matching `pattern` (fails the test when none does). */
function matching(lines: readonly string[], pattern: RegExp): number {
  const i = lines.findIndex((l) => pattern.test(l));
  expect({ missing: String(pattern), found: i >= 0 ? String(pattern) : lines }).toEqual({ missing: String(pattern), found: String(pattern) });
  return i;
}

describe('process examples', () => {
  for (const name of ['multiprocessing-process-target', 'multiprocessing-process-subclass']) {
    test(`${name}: the main process goes on at once and both children run to the end`, async () => {
      const run = await runExample(name);
      expect(run.code).toBe(0);
      expect(run.lines[0]).toBe('main');
      for (const child of ['child 1', 'child 2']) {
        expect(at(run.lines, `${child} is running`)).toBeLessThan(at(run.lines, `${child} is done`));
      }
      expect(run.lines).toHaveLength(5);
    }, EXAMPLE_TIMEOUT);
  }

  test('multiprocessing-process-join: the main process goes on only after the child ended', async () => {
    const run = await runExample('multiprocessing-process-join');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      'child start', 'child end', 'main (the child ended with exitcode 0)',
      'child start', 'child end', 'main again (exitcode 0)',
    ]);
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-process-attributes: pid, ppid and name agree on both sides; alive while running, exitcode 0 after', async () => {
    const run = await runExample('multiprocessing-process-attributes');
    expect(run.code).toBe(0);
    expect(run.lines[0]).toBe('names: Process-1, rocky');
    expect(run.lines[1]).toBe('before start: pid null, isAlive false, exitcode null');
    const childPid = /^main: the child's pid is (\d+)$/.exec(run.lines[matching(run.lines, /^main: the child's pid is \d+$/)])![1];
    const mainPid = /^main: my pid is (\d+),/.exec(run.lines[matching(run.lines, /^main: my pid is \d+, my parent's pid is \d+$/)])![1];
    at(run.lines, `child: my pid is ${childPid}, my name is Process-1`);
    at(run.lines, `child: my parent's pid is ${mainPid} (MainProcess)`);
    at(run.lines, 'main: I am MainProcess; parentProcess() is null');
    at(run.lines, 'while running: isAlive true, exitcode null');
    expect(at(run.lines, 'child end')).toBeLessThan(at(run.lines, 'after join: isAlive false, exitcode 0'));
    expect(run.lines[run.lines.length - 1]).toBe('main');
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-process-terminate: alive right after terminate(), ended with -15 after join', async () => {
    const run = await runExample('multiprocessing-process-terminate');
    expect(run.code).toBe(0);
    // Right after terminate() the child is usually still alive, but the signal races the next line,
    // as in Python (is_alive() polls waitpid): a child the kernel ended at once reads false.
    expect(run.lines.filter((l) => l !== 'child start')).toEqual([
      expect.stringMatching(/^right after terminate\(\): isAlive (true|false)$/),
      'after join(): isAlive false, exitcode -15',
      'main',
    ]);
    expect(run.stdout).not.toContain('child end');
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-daemon: the daemon child never finishes its work: it ends with the main process', async () => {
    const run = await runExample('multiprocessing-daemon');
    expect(run.code).toBe(0);
    // 'daemon start' comes first unless the child took over 2 s to boot (a heavily loaded machine).
    expect(run.lines.filter((l) => l !== 'daemon start')).toEqual(['main']);
    expect(run.lines[run.lines.length - 1]).toBe('main');
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-zombie: the unjoined child is a zombie only until the event loop runs, then it is reaped', async () => {
    const run = await runExample('multiprocessing-zombie');
    expect(run.code).toBe(0);
    matching(run.lines, /^child \d+ says hello and ends$/);
    at(run.lines, 'the child ended while the main process was blocked: its state is Z (a zombie: exited, not reaped yet)');
    expect(run.lines[run.lines.length - 1]).toBe('after the event loop ran: gone (reaped; exitcode 0)');
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-orphan: the child outlives its parent and is adopted by another process', async () => {
    // runExample waits for the output pipe to close: the orphan holds it until it has printed.
    const run = await runExample('multiprocessing-orphan');
    expect(run.code).toBe(0);
    const father = /^im father (\d+), ppid \d+$/.exec(run.lines[matching(run.lines, /^im father \d+, ppid \d+$/)])![1];
    const hello = matching(run.lines, new RegExp(`^im child \\d+, my parent is ${father}$`));
    const died = at(run.lines, 'father died..');
    const adopted = matching(run.lines, new RegExp(`^im child \\d+, my parent ${father} is gone; I was adopted by pid \\d+$`));
    expect(hello).toBeLessThan(died);
    expect(died).toBeLessThan(adopted);
    expect(run.lines[adopted]).not.toMatch(new RegExp(`adopted by pid ${father}$`));
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-signals: the child handles SIGINT and SIGTERM its own way; without a handler a signal ends it (-N)', async () => {
    const run = await runExample('multiprocessing-signals');
    expect(run.code).toBe(0);
    expect(run.lines[0]).toMatch(/^kill -l: 1\) SIGHUP 2\) SIGINT .* 9\) SIGKILL .* 15\) SIGTERM/);
    expect(at(run.lines, 'child: got SIGINT (Ctrl-C), going on')).toBeLessThan(at(run.lines, 'child: got SIGTERM, cleaning up and exiting'));
    at(run.lines, 'after SIGINT the child is alive: true');
    expect(at(run.lines, 'child: got SIGTERM, cleaning up and exiting')).toBeLessThan(at(run.lines, 'after SIGTERM the child ended by itself: exitcode 0'));
    expect(run.lines[run.lines.length - 1]).toBe('a child without a handler, sent SIGHUP: exitcode -1 (-1: ended by signal 1)');
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-tickets-join: 15 processes one at a time sell the one ticket exactly once', async () => {
    const run = await runExample('multiprocessing-tickets-join', [], 120_000);
    expect(run.code).toBe(0);
    expect(run.lines.filter((l) => /^process \d+ got a ticket$/.test(l))).toHaveLength(1);
    expect(run.lines.filter((l) => l === 'sold out!')).toHaveLength(14);
    expect(run.lines.filter((l) => /^\d+ left$/.test(l))).toEqual(['1 left', ...Array.from({ length: 14 }, () => '0 left')]);
    expect(run.lines[run.lines.length - 1]).toBe('tickets left in the db: 0');
  }, 150_000);
});
