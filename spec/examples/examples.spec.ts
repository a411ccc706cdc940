/**
 * Every example of examples/ runs with one command and prints what its seed section describes.
 * Each runs as a child process (`tsx examples/<name>.ts`) with a deadline. Output lines from
 * different threads may arrive in any order, so the checks look at which lines appear, the order
 * within one thread, and the order relative to the main thread's lines that wait for the others.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { killAll, ROOT, runExample, runScript } from './run-example';

const EXAMPLE_TIMEOUT = 90_000;

afterEach(() => killAll());

/** Index of the line equal to `text` (fails the test when it is missing). */
function at(lines: readonly string[], text: string): number {
  const i = lines.indexOf(text);
  expect({ missing: text, found: i >= 0 ? text : lines }).toEqual({ missing: text, found: text });
  return i;
}

describe('examples', () => {
  test('every example file is listed by examples/run.ts, which prints the list', async () => {
    const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.slice(0, -3));
    const run = await runScript('examples/run.ts');
    expect(run.code).toBe(0);
    const listed = run.lines.map((l) => l.split(/\s+/)[0]);
    expect(listed.sort()).toEqual(files.sort());
  }, EXAMPLE_TIMEOUT);

  for (const name of ['threading-thread-target', 'threading-thread-subclass']) {
    test(`${name}: the main thread goes on at once and both threads run to the end`, async () => {
      const run = await runExample(name);
      expect(run.code).toBe(0);
      expect(run.lines[0]).toBe('main');
      for (const t of ['thread 1', 'thread 2']) {
        expect(at(run.lines, `${t} is running`)).toBeLessThan(at(run.lines, `${t} is done`));
      }
      expect(run.lines).toHaveLength(5);
    }, EXAMPLE_TIMEOUT);
  }

  test('threading-semaphore: 23 threads take a Semaphore(5), never more than five at once', async () => {
    const run = await runExample('threading-semaphore');
    expect(run.code).toBe(0);
    const got = run.lines.filter((l) => /^Thread-\d+ get sm$/.test(l));
    expect(new Set(got).size).toBe(23);
    const summary = /^23 threads done; at most (\d+) held the semaphore at once/.exec(run.lines[run.lines.length - 1]);
    expect(summary).not.toBeNull();
    expect(Number(summary![1])).toBeGreaterThanOrEqual(1);
    expect(Number(summary![1])).toBeLessThanOrEqual(5);
  }, EXAMPLE_TIMEOUT);

  test('threading-event: both connectors connect when the check sets the event in time', async () => {
    const run = await runExample('threading-event', ['--check-ms', '0']);
    expect(run.code).toBe(0);
    expect(run.lines).toContain('[Thread-3] checking mysql');
    expect(run.lines.filter((l) => /^<Thread-[12]> connected$/.test(l)).sort()).toEqual(['<Thread-1> connected', '<Thread-2> connected']);
    expect(run.stdout).not.toContain('connection failed');
  }, EXAMPLE_TIMEOUT);

  test('threading-event: both connectors give up after three attempts when the check is too slow', async () => {
    const run = await runExample('threading-event', ['--check-ms', '3000']);
    expect(run.code).toBe(0);
    for (const t of ['Thread-1', 'Thread-2']) {
      const attempts = [1, 2, 3].map((n) => at(run.lines, `<${t}> attempt ${n} to connect`));
      expect(attempts).toEqual([...attempts].sort((a, b) => a - b));
      expect(at(run.lines, `[${t}] connection failed`)).toBeGreaterThan(attempts[2]);
    }
    expect(run.stdout).not.toContain('connected\n');
  }, EXAMPLE_TIMEOUT);

  test('threading-timer: the timer fires after the main thread went on, and a cancelled one never fires', async () => {
    const run = await runExample('threading-timer');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual(['timer started; the main thread is not blocked', 'second timer cancelled', 'hello, world']);
  }, EXAMPLE_TIMEOUT);

  test('threading-rlock: four threads share one RLock as both locks and all finish', async () => {
    const run = await runExample('threading-rlock');
    expect(run.code).toBe(0);
    expect(run.lines[run.lines.length - 1]).toBe('all 4 threads finished: no deadlock');
    const names = [...new Set(run.lines.map((l) => /^(Thread-\d+) /.exec(l)?.[1]).filter((n): n is string => Boolean(n)))];
    expect(names).toHaveLength(4);
    for (const name of names) {
      expect(run.lines.filter((l) => l.startsWith(`${name} `))).toEqual([
        'got lock A', 'got lock B', 'released lock B', 'released lock A',
        'got lock B', 'got lock A', 'released lock A', 'released lock B',
      ].map((what) => `${name} ${what}`));
    }
  }, EXAMPLE_TIMEOUT);

  test('threading-rlock --two-locks: the program still ends, reporting any deadlock it broke', async () => {
    const run = await runExample('threading-rlock', ['--two-locks']);
    expect(run.code).toBe(0);
    expect(run.lines[run.lines.length - 1]).toMatch(/^(all 4 threads finished: no deadlock|\d thread\(s\) gave up: that is the deadlock an RLock avoids)$/);
  }, EXAMPLE_TIMEOUT);

  test('futures-executors: callbacks run for every task, shutdown waits for them, map keeps input order', async () => {
    const run = await runExample('futures-executors');
    expect(run.code).toBe(0);
    for (const section of ['— ProcessPoolExecutor(5)', '— ThreadPoolExecutor(3)']) {
      const start = at(run.lines, section);
      const main = run.lines.indexOf('main', start);
      expect(main).toBeGreaterThan(start);
      const inSection = run.lines.slice(start + 1, main);
      expect(inSection.filter((l) => l.endsWith(' is running')).sort()).toEqual(['task0 is running', 'task1 is running', 'task2 is running']);
      expect(inSection.filter((l) => l.endsWith("'s callback function")).sort()).toEqual(["task0's callback function", "task1's callback function", "task2's callback function"]);
      expect(run.lines[main + 1]).toBe('results: task0, task1, task2');
    }
    expect(run.lines).toContain('map: 1 4 9 16 25 36 49 64 81 100 121');
    expect(run.lines[run.lines.length - 1]).toMatch(/^submit after shutdown: RuntimeError: /);
  }, EXAMPLE_TIMEOUT);

  test('multiprocessing-pool: apply, applyAsync and map give their results, close and join end the pool', async () => {
    const run = await runExample('multiprocessing-pool');
    expect(run.code).toBe(0);
    for (let i = 0; i < 6; i++) expect(run.lines.some((l) => new RegExp(`^hello ${i} handled by process \\d+$`).test(l))).toBe(true);
    expect(run.lines).toContain('apply: 2 + 3 = 5');
    expect(run.lines).toContain('map: 0 1 4 9 16 25 36 49 64 81');
    expect(run.lines).toContain('apply_async results: HELLO 0, HELLO 1, HELLO 2, HELLO 3, HELLO 4, HELLO 5');
    expect(run.lines[run.lines.length - 1]).toBe('all successful: true');
  }, EXAMPLE_TIMEOUT);

  test('coroutines: greenlet switches and gevent sleeps interleave as in the seed, a blocking call stalls the loop until a thread takes it, downloads run at once', async () => {
    const run = await runExample('coroutines');
    expect(run.code).toBe(0);
    const greenlet = at(run.lines, 'greenlet: explicit switches (a generator is a coroutine that yields control)');
    expect(run.lines.slice(greenlet + 1, greenlet + 5)).toEqual(['egon eat 1', 'egon play 1', 'egon eat 2', 'egon play 2']);
    const gevent = at(run.lines, 'gevent: spawn, sleep, joinall (async functions on one event loop)');
    expect(run.lines.slice(gevent + 1, gevent + 6)).toEqual(['egon eat 1', 'egon play 1', 'egon play 2', 'egon eat 2', 'main']);
    expect(run.lines).toContainEqual(expect.stringMatching(/^blocking wait on the event loop: timed out after \d+ ms; the coroutine that would have set it ticked 0 times meanwhile$/));
    expect(run.lines).toContain('the same wait on a worker thread: set, by the coroutine after 3 ticks while the thread was blocked');
    expect(run.lines[run.lines.length - 1]).toMatch(/^20 downloads, all open at once \(the server saw 20\), 20 pages of 1000 bytes, in \d+ ms on thread MainThread$/);
  }, EXAMPLE_TIMEOUT);

  test('io-models: each of the five models gets its data, blocking stops the loop, multiplexing handles pipes as they become ready, a thread takes the blocking call', async () => {
    const run = await runExample('io-models');
    expect(run.code).toBe(0);
    expect(run.lines[0]).toBe('Five IO models (seed 001 §13), as they look in Node.js:');
    expect(run.lines[1]).toBe('1. blocking IO: readFileSync(fifo) returned "data 1" once the producer wrote it; timer callbacks that ran meanwhile: 0');
    const polls = /^2\. non-blocking IO: read "data 2" at poll (\d+); the (\d+) polls before it found nothing ready \(EAGAIN\)/.exec(run.lines[2]);
    expect(polls).not.toBeNull();
    expect(Number(polls![2])).toBe(Number(polls![1]) - 1);
    expect(Number(polls![2])).toBeGreaterThanOrEqual(1);
    expect(run.lines[3]).toBe('3. IO multiplexing: one event loop waited on 3 pipes at once; they became readable in the order B, C, A');
    expect(run.lines[4]).toMatch(/^4\. signal-driven IO: SIGUSR2 said the data was ready and the handler read "data 4"/);
    expect(run.lines[5]).toMatch(/^5\. asynchronous IO: fs\.promises\.readFile gave "data 5"/);
    expect(run.lines).toContain('   a worker thread blocked in readFileSync(fifo) returned "data 6"; the event loop ticked 3 times meanwhile and then wrote it itself');
  }, EXAMPLE_TIMEOUT);

  test('gil-io-vs-cpu: measures IO-bound and CPU-bound work each way and states the conclusion', async () => {
    const run = await runExample('gil-io-vs-cpu');
    expect(run.code).toBe(0);
    for (const label of ['serial (await one by one)', 'async (Promise.all, one thread)', '8 threads (blocking sleep each)', 'ThreadPoolExecutor(', 'ProcessPoolExecutor(']) {
      expect(run.lines.some((l) => l.trimStart().startsWith(label) && /\d+ ms$/.test(l))).toBe(true);
    }
    const conclusion = at(run.lines, 'Conclusion');
    expect(run.lines.slice(conclusion + 1).join('\n')).toMatch(/IO-bound: async on one thread was [\d.]+× faster than serial[\s\S]*threads gave [\d.]+× and processes [\d.]+×/);
  }, EXAMPLE_TIMEOUT);
});
