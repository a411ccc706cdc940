/**
 * The executors' internal submit of a call already in wire form (`kSubmitEncoded`), which the
 * distributed worker uses: the target and arguments go to the pool as they came, and the future
 * settles with the outcome record as the worker encoded it, a task's error included.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { ProcessPoolExecutor, ThreadPoolExecutor, type Executor, type ProcessPoolExecutorOptions } from 'threadkit/futures';
import { kJsonChannel } from '../../lib/futures/process-pool-executor';
import { BrokenProcessPoolError, BrokenThreadPoolError, RuntimeError } from 'threadkit/errors';
import { kSubmitEncoded } from '../../lib/futures/executor';
import { TargetCache } from '../../lib/internal/executor/encoding';
import { decodeError, decodeValue, encodeArgs, type EncodedOutcome } from '../../lib/internal/transport';
import { capturingConsoleError } from '../helpers/console';

const kinds = [
  { name: 'ThreadPoolExecutor', make: () => new ThreadPoolExecutor({ maxWorkers: 1 }), Broken: BrokenThreadPoolError },
  { name: 'ProcessPoolExecutor', make: () => new ProcessPoolExecutor({ maxWorkers: 1 }), Broken: BrokenProcessPoolError },
  // As the distributed worker runs it.
  { name: 'ProcessPoolExecutor, JSON channel', make: () => new ProcessPoolExecutor({ maxWorkers: 1, [kJsonChannel]: true } as ProcessPoolExecutorOptions), Broken: BrokenProcessPoolError },
] as const;

describe.each(kinds)('$name [kSubmitEncoded]', ({ make, Broken }) => {
  const owned: Executor[] = [];
  const executor = (): Executor => {
    const ex = make();
    owned.push(ex);
    return ex;
  };
  afterEach(async () => {
    for (const ex of owned.splice(0)) await ex.shutdown({ cancelFutures: true });
  });
  const targets = new TargetCache();
  /** A call as another machine's executor would have encoded it. */
  const wire = (fn: unknown, args: unknown[]): [ReturnType<TargetCache['encode']>, unknown[]] => [targets.encode(fn), encodeArgs(args, { crossMachine: true })];

  test('settles with the outcome record, its value still encoded', async () => {
    const ex = executor();
    const [target, args] = wire((n: number) => new Map([[n, new Date(n)]]), [5]);
    const outcome = await ex[kSubmitEncoded](target, args, false).result(30_000);
    expect(outcome.ok).toBe(true);
    expect(decodeValue((outcome as Extract<EncodedOutcome, { ok: true }>).value)).toEqual(new Map([[5, new Date(5)]]));
  });

  test("a task's error is the outcome, not the future's exception, and decodes with its class, message and cause", async () => {
    const ex = executor();
    const [target, args] = wire((n: number) => {
      throw new RangeError(`bad ${n}`, { cause: new Error('deeper') });
    }, [7]);
    const future = ex[kSubmitEncoded](target, args, false);
    const outcome = await future.result(30_000);
    expect(await future.exception(0)).toBeNull();
    expect(outcome.ok).toBe(false);
    const error = decodeError((outcome as Extract<EncodedOutcome, { ok: false }>).error) as Error;
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('bad 7');
    expect((error.cause as Error).message).toBe('deeper');
  });

  test('a chunk runs once per element and its outcome holds the results in order; the first error wins', async () => {
    const ex = executor();
    const [target, args] = wire((x: number) => x * 10, [1, 2, 3]);
    expect(await ex[kSubmitEncoded](target, args, true).result(30_000)).toEqual({ ok: true, value: [10, 20, 30] });
    const [failing, some] = wire((x: number) => {
      if (x > 1) throw new TypeError(`no ${x}`);
      return x;
    }, [1, 2, 3]);
    const outcome = await ex[kSubmitEncoded](failing, some, true).result(30_000);
    expect(outcome.ok).toBe(false);
    expect((decodeError((outcome as Extract<EncodedOutcome, { ok: false }>).error) as Error).message).toBe('no 2');
  });

  test('the same target object, submitted again and again, runs each time (sent whole once, then by number)', async () => {
    const ex = executor();
    const [target] = wire((x: number) => x + 1, []);
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => ex[kSubmitEncoded](target, [i], false).result(30_000)));
    expect(outcomes).toEqual(Array.from({ length: 50 }, (_, i) => ({ ok: true, value: i + 1 })));
  });

  test("a worker that dies running it fails the future with the pool's Broken error", async () => {
    const ex = executor();
    const [target, args] = wire(() => process.exit(3), []);
    const { value: error } = await capturingConsoleError(() => ex[kSubmitEncoded](target, args, false).exception(30_000));
    expect(error).toBeInstanceOf(Broken);
  });

  test('after shutdown it throws RuntimeError and queues nothing', async () => {
    const ex = executor();
    await ex.shutdown();
    const [target, args] = wire(() => 1, []);
    expect(() => ex[kSubmitEncoded](target, args, false)).toThrow(RuntimeError);
  });
});
