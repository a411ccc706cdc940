import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { ProcessPoolExecutor } from 'threadkit/futures';
import { BrokenProcessPoolError, RuntimeError, fromModule } from 'threadkit';
import { Lock } from 'threadkit/threading';
import { TASKS } from '../fixtures/process-tasks';
import { RENDEZVOUS, Rendezvous } from '../fixtures/process-rendezvous';
import { stillPresent } from '../fixtures/process-reaped';
import { Gate } from '../fixtures/futures-gate';
import { describeExecutorSuite } from './executor-suite';
import { capturingConsoleError } from '../helpers/console';
import { untilBatching } from '../helpers/executors';

describeExecutorSuite('ProcessPoolExecutor', (options) => new ProcessPoolExecutor(options));

const pid = fromModule<[], number>(TASKS, 'pid');
const square = fromModule<[number], number>(TASKS, 'square');
const exitWith = fromModule<[number], never>(TASKS, 'exitWith');
const hold = fromModule<[string, number], Promise<number>>(RENDEZVOUS, 'hold');

/** Executors a test made on its own; shut down (and their children reaped) after each test. */
const owned: ProcessPoolExecutor[] = [];
function make(options?: ConstructorParameters<typeof ProcessPoolExecutor>[0]): ProcessPoolExecutor {
  const executor = new ProcessPoolExecutor(options);
  owned.push(executor);
  return executor;
}
afterEach(async () => {
  await Promise.all(owned.splice(0).map((executor) => executor.shutdown({ wait: true, cancelFutures: true })));
});

describe('ProcessPoolExecutor shared by several tests', () => {
  let executor: ProcessPoolExecutor;
  beforeAll(() => {
    executor = new ProcessPoolExecutor({ maxWorkers: 2 });
  });
  afterAll(() => executor.shutdown());

  test('a task runs in another process and returns its value', async () => {
    const childPid = await executor.submit(() => process.pid);
    expect(typeof childPid).toBe('number');
    expect(childPid).not.toBe(process.pid);
    expect(await executor.submit((a: number, b: number) => a * b, 6, 7)).toBe(42);
  });

  test('a TypeScript module target runs in the child', async () => {
    expect(await executor.submit(square, 9)).toBe(81);
  });

  test('an error thrown by a task arrives with its class, message and own properties', async () => {
    const future = executor.submit(() => {
      throw Object.assign(new RangeError('too far'), { code: 'E_FAR' });
    });
    const error = (await future.exception()) as RangeError & { code: string };
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('too far');
    expect(error.code).toBe('E_FAR');
  });

  test('a threading object as argument is a TypeError that points to threadkit/multiprocessing', () => {
    expect(() => executor.submit((lock: unknown) => lock, new Lock())).toThrow(TypeError);
    expect(() => executor.submit((lock: unknown) => lock, new Lock())).toThrow(/threadkit\/multiprocessing/);
  });

  test('a result that cannot be sent back fails only its own future with a TypeError', async () => {
    const bad = executor.submit(() => () => 1);
    const good = executor.submit(() => 'fine');
    await expect(bad.result()).rejects.toThrow(TypeError);
    expect(await good).toBe('fine');
  });

  test('ten thousand small tasks all complete with the right results', async () => {
    const futures = Array.from({ length: 10_000 }, (_, i) => executor.submit((x: number) => x + 1, i));
    const results = await Promise.all(futures.map((future) => future.result()));
    expect(results).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
  });

  test('map with chunksize returns every result in input order', async () => {
    const out: number[] = [];
    for await (const value of executor.map((x: number) => x * 2, Array.from({ length: 1000 }, (_, i) => i), { chunksize: 100 })) out.push(value);
    expect(out).toEqual(Array.from({ length: 1000 }, (_, i) => i * 2));
  });

  test('an async task is awaited in the child', async () => {
    expect(await executor.submit(async (x: number) => new Promise((resolve) => setTimeout(() => resolve(x), 5)), 3)).toBe(3);
  });

  test('inspect shows the class and maxWorkers', () => {
    expect(inspect(executor)).toMatch(/^<ProcessPoolExecutor .*maxWorkers=2/);
  });
});

describe('ProcessPoolExecutor options', () => {
  test.each([0, -1, 0.5])('maxWorkers %p is a RangeError', (maxWorkers) => {
    expect(() => new ProcessPoolExecutor({ maxWorkers })).toThrow(RangeError);
  });

  test('a maxWorkers string is a TypeError naming maxWorkers', () => {
    expect(() => new ProcessPoolExecutor({ maxWorkers: '12' as never })).toThrow(/maxWorkers/);
    expect(() => new ProcessPoolExecutor({ maxWorkers: '12' as never })).toThrow(TypeError);
  });

  test.each([0, -3, 1.5])('maxTasksPerChild %p is a RangeError', (maxTasksPerChild) => {
    expect(() => new ProcessPoolExecutor({ maxTasksPerChild })).toThrow(RangeError);
  });

  test('maxWorkers defaults to the available parallelism', async () => {
    const executor = make();
    expect(inspect(executor)).toContain(`maxWorkers=${require('node:os').availableParallelism()}`);
  });

  test('a burst of slow calls of a function that was fast is spread over every child', async () => {
    const executor = make({ maxWorkers: 2 });
    const pidAfterGate = fromModule<[string | null], number>(TASKS, 'pidAfterGate');
    // Each starting child takes one of these (the first round also loads the module in each).
    for (let round = 0; round < 2; round++) await Promise.all([executor.submit(pidAfterGate, null), executor.submit(pidAfterGate, null)]);
    // The burst below must meet an executor that sends batches (the latest task ran fast): a
    // slow-work executor sends one task per idle child anyway, and this test would prove nothing.
    await untilBatching(executor);
    const gate = await Gate.open();
    try {
      const held = Array.from({ length: 8 }, () => executor.submit(pidAfterGate, gate.path));
      await gate.waitArrivals(2, 10_000);
      gate.release();
      expect(new Set(await Promise.all(held)).size).toBe(2);
    } finally {
      await gate.close();
    }
  });

  test('maxTasksPerChild 3 gives the fourth task a new process', async () => {
    const executor = make({ maxWorkers: 1, maxTasksPerChild: 3 });
    const pids: number[] = [];
    for (let i = 0; i < 7; i++) pids.push(await executor.submit(pid));
    expect(new Set(pids.slice(0, 3)).size).toBe(1);
    expect(pids[3]).not.toBe(pids[0]);
    expect(new Set(pids.slice(3, 6)).size).toBe(1);
    expect(pids[6]).not.toBe(pids[3]);
    await executor.shutdown();
    expect(stillPresent(pids)).toEqual([]);
  });

  test('maxTasksPerChild holds when many tasks are queued at once', async () => {
    const executor = make({ maxWorkers: 2, maxTasksPerChild: 5 });
    const pids = await Promise.all(Array.from({ length: 40 }, () => executor.submit(pid).result()));
    const perChild = new Map<number, number>();
    for (const p of pids) perChild.set(p, (perChild.get(p) ?? 0) + 1);
    for (const count of perChild.values()) expect(count).toBeLessThanOrEqual(5);
    expect(perChild.size).toBeGreaterThanOrEqual(8);
  });

  test('maxTasksPerChild 1 with an early shutdown still completes every task (test_max_tasks_early_shutdown)', async () => {
    const executor = make({ maxWorkers: 3, maxTasksPerChild: 1 });
    const futures = Array.from({ length: 6 }, (_, i) => executor.submit((a: number, b: number) => a * b, i, i));
    await executor.shutdown();
    expect(await Promise.all(futures.map((f) => f.result()))).toEqual([0, 1, 4, 9, 16, 25]);
  });

  test('the initializer runs in each child before its tasks', async () => {
    const executor = make({ maxWorkers: 2, initializer: fromModule(TASKS, 'remember'), initargs: ['hello'] });
    const values = await Promise.all(Array.from({ length: 6 }, () => executor.submit(fromModule(TASKS, 'remembered')).result()));
    expect(values).toEqual(Array(6).fill('hello'));
  });

  test('an initializer that throws breaks the executor: pending futures and later submits fail', async () => {
    const { printed } = await capturingConsoleError(async () => {
      const executor = make({ maxWorkers: 2, initializer: fromModule(TASKS, 'failInit') });
      const futures = Array.from({ length: 5 }, (_, i) => executor.submit(square, i));
      for (const future of futures) await expect(future.result()).rejects.toThrow(BrokenProcessPoolError);
      expect(() => executor.submit(square, 1)).toThrow(BrokenProcessPoolError);
      await executor.shutdown();
    });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^Exception in initializer: /);
  });

  test('an initializer with a threading object argument is a TypeError at construction', () => {
    expect(() => new ProcessPoolExecutor({ initializer: () => {}, initargs: [new Lock()] })).toThrow(TypeError);
  });

  test('children that cannot start break the executor instead of being respawned forever', async () => {
    const executor = make({ maxWorkers: 2, execArgv: ['--no-such-node-flag'] });
    const futures = [executor.submit(square, 1), executor.submit(square, 2)];
    for (const future of futures) {
      const error = await future.exception();
      expect(error).toBeInstanceOf(BrokenProcessPoolError);
      expect((error as Error).message).toMatch(/before it was ready \(exit code \d+\)/);
    }
    expect(() => executor.submit(square, 3)).toThrow(BrokenProcessPoolError);
  });

  test('execArgv must be an array of strings', () => {
    expect(() => new ProcessPoolExecutor({ execArgv: '--inspect' as never })).toThrow(TypeError);
  });

  test('submit after shutdown is a RuntimeError', async () => {
    const executor = make({ maxWorkers: 1 });
    await executor.shutdown();
    expect(() => executor.submit(square, 1)).toThrow(RuntimeError);
  });
});

describe('ProcessPoolExecutor when a child dies', () => {
  test('process.exit in a task fails only that task, naming the exit code; the others complete', async () => {
    const executor = make({ maxWorkers: 2 });
    const before = Array.from({ length: 20 }, (_, i) => executor.submit(square, i));
    const dying = executor.submit(exitWith, 3);
    const after = Array.from({ length: 20 }, (_, i) => executor.submit(square, i));
    const error = await dying.exception();
    expect(error).toBeInstanceOf(BrokenProcessPoolError);
    expect(String((error as Error).message)).toMatch(/exit code 3/);
    for (const [i, future] of [...before, ...after].entries()) expect(await future).toBe((i % 20) ** 2);
    expect(await executor.submit(square, 5)).toBe(25);
  });

  test('kill -9 of a busy child fails only its task; queued tasks complete on a replacement', async () => {
    const rendezvous = await Rendezvous.open();
    try {
      const executor = make({ maxWorkers: 2 });
      const held = executor.submit(hold, rendezvous.path, 1);
      const [busyPid] = await rendezvous.arrivals(1);
      // Enough queued work that the killed child had some of it in flight or queued behind it.
      const others = Array.from({ length: 200 }, (_, i) => executor.submit((x: number) => x + 1, i));
      process.kill(busyPid, 'SIGKILL');
      const error = await held.exception();
      expect(error).toBeInstanceOf(BrokenProcessPoolError);
      expect((error as Error).message).toMatch(/SIGKILL/);
      expect(await Promise.all(others.map((f) => f.result()))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const pids = await Promise.all([executor.submit(pid).result(), executor.submit(pid).result()]);
      expect(pids).not.toContain(busyPid);
    } finally {
      await rendezvous.close();
    }
  });

  test('a task whose module fails to load fails with that error; the child lives on', async () => {
    const executor = make({ maxWorkers: 1 });
    const broken = executor.submit(fromModule(require.resolve('../fixtures/process-throws-on-load'), 'never'));
    const error = await broken.exception();
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BrokenProcessPoolError);
    expect(String((error as Error).message)).toMatch(/refuses to load/);
    expect(await executor.submit(square, 6)).toBe(36);
  });

  test('a SIGKILL amid a stream of batched fast tasks fails only the task that was running', async () => {
    const executor = make({ maxWorkers: 2 });
    // Warm up: the children learn that this target is fast, so the next tasks travel in batches.
    await Promise.all(Array.from({ length: 1000 }, (_, i) => executor.submit((x: number) => x, i).result()));
    await untilBatching(executor);
    const futures = Array.from({ length: 2000 }, (_, i) =>
      i === 1000 ? executor.submit(() => process.kill(process.pid, 'SIGKILL')) : executor.submit((x: number) => x, i));
    const outcomes = await Promise.all(futures.map((f) => f.result().then(() => 'ok', (e: Error) => e.name)));
    expect(outcomes[1000]).toBe('BrokenProcessPoolError');
    expect(outcomes.filter((o) => o !== 'ok')).toHaveLength(1);
  });

  test('an uncaught error thrown asynchronously in a child fails only that task', async () => {
    const executor = make({ maxWorkers: 1 });
    const crashing = executor.submit(fromModule(TASKS, 'crashLater'));
    const next = executor.submit(square, 4);
    expect(await crashing.exception()).toBeInstanceOf(BrokenProcessPoolError);
    expect(await next).toBe(16);
  });

  test('a child that runs out of memory fails only its task', async () => {
    const executor = make({ maxWorkers: 1, execArgv: ['--max-old-space-size=64'] });
    expect(await executor.submit(square, 3)).toBe(9);
    const hog = executor.submit(fromModule(TASKS, 'exhaustMemory'));
    const next = executor.submit(square, 5);
    const error = await hog.exception();
    expect(error).toBeInstanceOf(BrokenProcessPoolError);
    expect((error as Error).message).toMatch(/signal|exit code/);
    expect(await next).toBe(25);
  }, 60_000);
});

describe('ProcessPoolExecutor leaves nothing behind', () => {
  test('after shutdown every child has exited and been reaped (no <defunct>)', async () => {
    const executor = make({ maxWorkers: 2 });
    const pids = new Set(await Promise.all(Array.from({ length: 50 }, () => executor.submit(pid).result())));
    expect(pids.size).toBeGreaterThan(0);
    await executor.shutdown();
    expect(stillPresent(pids)).toEqual([]);
  });

  test('shutdown with cancelFutures ends the children too', async () => {
    const rendezvous = await Rendezvous.open();
    try {
      const executor = make({ maxWorkers: 1 });
      const held = executor.submit(hold, rendezvous.path, 7);
      const [childPid] = await rendezvous.arrivals(1);
      const queued = Array.from({ length: 10 }, (_, i) => executor.submit(square, i));
      const done = executor.shutdown({ cancelFutures: true });
      rendezvous.release();
      await done;
      expect(await held).toBe(7);
      expect(queued.every((future) => future.cancelled())).toBe(true);
      expect(stillPresent([childPid])).toEqual([]);
    } finally {
      await rendezvous.close();
    }
  });
});

describe('ProcessPoolExecutor and the life of the parent', () => {
  const script = require.resolve('../fixtures/process-orphan-script');

  /** Runs the script; resolves with the children's pids once it has exited. */
  function runScript(mode: 'forget' | 'die'): Promise<{ pids: number[]; code: number | null; signal: string | null }> {
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), script, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`script did not exit within 20 s (mode ${mode}); output: ${out}`));
      }, 20_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ pids: JSON.parse(out.trim().split('\n')[0] || '[]'), code, signal });
      });
    });
  }

  /** Polls (the children are not ours: nothing to wait on) until `pids` are gone, for at most `ms`. */
  async function gone(pids: number[], ms: number): Promise<string[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const present = stillPresent(pids);
      if (present.length === 0 || Date.now() > deadline) return present;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test('a program that never calls shutdown still exits, and its idle children with it', async () => {
    const { pids, code } = await runScript('forget');
    expect(code).toBe(0);
    expect(pids.length).toBeGreaterThan(0);
    expect(await gone(pids, 10_000)).toEqual([]);
  });

  test('when the parent is killed, its children exit by themselves', async () => {
    const { pids, signal } = await runScript('die');
    expect(signal).toBe('SIGKILL');
    expect(pids.length).toBeGreaterThan(0);
    expect(await gone(pids, 10_000)).toEqual([]);
  });
});
