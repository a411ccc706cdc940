/**
 * The Queue, JoinableQueue and Pipe examples of examples/ (seed 001 §9, §10; seed 003's message
 * queue and pipe) run with one command and print what their seed sections describe. Lines of
 * different processes may come in any order, so the checks look at which lines appear, the order
 * within one process, and the order relative to lines that wait for others.
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

describe('queue and pipe examples', () => {
  test('multiprocessing-queue: Queue(3) is full after three puts and empty after three gets; the messages of a child come in order', async () => {
    const run = await runExample('multiprocessing-queue');
    expect(run.code).toBe(0);
    expect(run.lines.slice(0, 7)).toEqual([
      'full: true', 'putNowait(4): QueueFullError', '1', "{ a: 'hello' }", '[ 1, 2, 3 ]', 'empty: true', 'getNowait(): QueueEmptyError',
    ]);
    const got = run.lines.filter((l) => l.startsWith('main got '));
    expect(got).toEqual([1, 2, 3, 4, 5].map((i) => `main got message ${i}`));
    for (let i = 1; i <= 5; i++) at(run.lines, `child put message ${i}`);
    // A Queue(2): the child's third put waits until the main process took one.
    expect(at(run.lines, 'main got message 1')).toBeLessThan(at(run.lines, 'child put message 4'));
    expect(at(run.lines, 'main: no message for 1.5 s; qsize 0, empty true')).toBeGreaterThan(at(run.lines, 'main got message 5'));
    expect(run.lines[run.lines.length - 1]).toBe('put after close: ValueError: queue is closed');
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-joinable-queue: six items made, six eaten, and main printed after all of them', async () => {
    const run = await runExample('multiprocessing-joinable-queue');
    expect(run.code).toBe(0);
    const items = ['bun0', 'bun1', 'dumpling0', 'dumpling1', 'mooncake0', 'mooncake1'];
    expect(run.lines.filter((l) => / made /.test(l)).map((l) => l.replace(/^producer \d made /, '')).sort()).toEqual(items);
    expect(run.lines.filter((l) => / ate /.test(l)).map((l) => l.replace(/^consumer [12] ate /, '')).sort()).toEqual(items);
    for (const food of ['bun', 'dumpling', 'mooncake']) {
      const producer = { bun: 1, dumpling: 2, mooncake: 3 }[food];
      expect(at(run.lines, `producer ${producer} made ${food}0`)).toBeLessThan(at(run.lines, `producer ${producer} made ${food}1`));
    }
    expect(run.lines[run.lines.length - 1]).toBe('main');
    expect(run.lines).toHaveLength(13);
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-pipe: five messages and a reply through a duplex pipe; a one-way pipe read until EOFError', async () => {
    const run = await runExample('multiprocessing-pipe');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      ...[1, 2, 3, 4, 5].map((i) => `main got: message ${i} from the child`),
      'child got: {"reply":"thanks","count":5}',
      'reader can send: false, writer can receive: false',
      'main read: hello from a one-way pipe',
      'the reading end refuses to send: connection is read-only',
    ]);
  }, EXAMPLE_TIMEOUT);
});
