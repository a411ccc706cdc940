/**
 * An error thrown by a target carries, under its own stack, the line of the program that submitted
 * the task or started the thread (internal/transport/call-site.ts): the target's own frames read
 * `threadkit-target:…` and say nothing of where it came from.
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { ThreadPoolExecutor } from 'threadkit/futures';
import { Pool } from 'threadkit/multiprocessing';
import { Thread, setExcepthook } from 'threadkit/threading';
import { shutdownIdleThreads } from '../../../lib/internal/thread/warm-pool';
import { captureCallSite, withCallSite } from '../../../lib/internal/transport/call-site';

const WAIT_MS = 10_000;

/** `file:line` of the line that calls it (as the stacks of this file are written). */
function thisLine(): string {
  const frame = (new Error().stack ?? '').split('\n')[2];
  const at = /([^\s(]+:\d+):\d+\)?$/.exec(frame);
  if (at === null) throw new Error(`no file:line in ${frame}`);
  return at[1];
}

/** The lines appended under the error's own stack, or undefined when none were. */
function siteOf(error: unknown): { what: string; frame: string } | undefined {
  const stack = (error as Error).stack ?? '';
  const m = /\n {4}--- (.+) at ---\n( {4}at .*)$/.exec(stack);
  return m === null ? undefined : { what: m[1], frame: m[2] };
}

async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const fail = (x: number): number => {
  throw new RangeError(`bad ${x}`);
};

describe('executors', () => {
  let executor: ThreadPoolExecutor;
  afterEach(async () => {
    await executor?.shutdown({ cancelFutures: true });
  });

  test('an error from submit() carries the line that submitted the task, under the target frames', async () => {
    executor = new ThreadPoolExecutor({ maxWorkers: 1 });
    const [future, line] = [executor.submit(fail, 1), thisLine()];
    const error = await rejection(future);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('bad 1');
    const stack = (error as Error).stack!;
    expect(stack.indexOf('threadkit-target:')).toBeGreaterThan(0);
    expect(stack.indexOf('threadkit-target:')).toBeLessThan(stack.indexOf('--- task submitted at ---'));
    expect(siteOf(error)).toEqual({ what: 'task submitted', frame: expect.stringContaining(`${line}:`) });
  });

  test('two submits of one function on two lines each carry their own line', async () => {
    executor = new ThreadPoolExecutor({ maxWorkers: 2 });
    const [first, line1] = [executor.submit(fail, 1), thisLine()];
    const [second, line2] = [executor.submit(fail, 2), thisLine()];
    expect(line1).not.toBe(line2);
    expect(siteOf(await rejection(first))!.frame).toContain(`${line1}:`);
    expect(siteOf(await rejection(second))!.frame).toContain(`${line2}:`);
  });

  test('every task of a large burst from one line carries that line', async () => {
    executor = new ThreadPoolExecutor({ maxWorkers: 2 });
    const [futures, line] = [Array.from({ length: 200 }, (_, i) => executor.submit(fail, i)), thisLine()];
    for (const future of futures) expect(siteOf(await rejection(future))!.frame).toContain(`${line}:`);
  });

  test('an error from map() carries the line that called map', async () => {
    executor = new ThreadPoolExecutor({ maxWorkers: 2 });
    const [results, line] = [executor.map(fail, [1, 2, 3], { chunksize: 2 }), thisLine()];
    const error = await rejection((async () => { for await (const r of results) void r; })());
    expect(siteOf(error)!.frame).toContain(`${line}:`);
  });

  test('a value thrown that is not an Error arrives as it was', async () => {
    executor = new ThreadPoolExecutor({ maxWorkers: 1 });
    expect(await rejection(executor.submit(() => { throw 7; }))).toBe(7);
  });
});

describe('multiprocessing.Pool', () => {
  const pool = new Pool(1);
  afterAll(() => pool.terminate());

  test('apply, applyAsync, map, starmap and imap errors carry the line that called them', async () => {
    const [apply, line1] = [pool.apply(fail, [1]), thisLine()];
    expect(siteOf(await rejection(apply))!.frame).toContain(`${line1}:`);
    const [async, line2] = [pool.applyAsync(fail, [2]), thisLine()];
    expect(siteOf(await rejection(async.get(WAIT_MS)))!.frame).toContain(`${line2}:`);
    const [map, line3] = [pool.map(fail, [3, 4], 1), thisLine()];
    expect(siteOf(await rejection(map))!.frame).toContain(`${line3}:`);
    const [starmap, line4] = [pool.starmap(fail, [[5]]), thisLine()];
    expect(siteOf(await rejection(starmap))!.frame).toContain(`${line4}:`);
    const [imap, line5] = [pool.imap(fail, [6]), thisLine()];
    const error = await rejection((async () => { for await (const r of imap) void r; })());
    expect(siteOf(error)!.frame).toContain(`${line5}:`);
    expect(siteOf(error)!.what).toBe('task submitted');
  });
});

describe('Thread', () => {
  afterEach(() => setExcepthook(null));
  afterAll(() => shutdownIdleThreads());

  test('the excepthook gets the error with the line that started the thread', async () => {
    const seen: unknown[] = [];
    setExcepthook((error) => seen.push(error));
    const thread = new Thread({ target: fail, args: [1] });
    const [, line] = [thread.start(), thisLine()];
    expect(await thread.join(WAIT_MS)).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(RangeError);
    expect(siteOf(seen[0])).toEqual({ what: 'thread started', frame: expect.stringContaining(`${line}:`) });
  });
});

describe('withCallSite', () => {
  function publicCall(): ReturnType<typeof captureCallSite> {
    return captureCallSite('task submitted', publicCall, {});
  }

  test('appends once, and leaves errors without a stack and thrown values alone', () => {
    const [site, line] = [publicCall(), thisLine()];
    const error = new Error('x');
    expect(withCallSite(error, site)).toBe(error);
    withCallSite(error, site);
    expect(error.stack!.match(/--- task submitted at ---/g)).toHaveLength(1);
    expect(siteOf(error)!.frame).toContain(`${line}:`);
    const noStack = new Error('y');
    noStack.stack = undefined;
    expect(withCallSite(noStack, site).stack).toBeUndefined();
    expect(withCallSite(5, site)).toBe(5);
    expect(withCallSite(error, undefined)).toBe(error);
  });

  test('leaves Error.stackTraceLimit as it found it', () => {
    const before = Error.stackTraceLimit;
    publicCall();
    expect(Error.stackTraceLimit).toBe(before);
  });
});
