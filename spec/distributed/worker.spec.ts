/**
 * runWorker and the `threadkit worker` command: its flags and errors, the secret it refuses to
 * start without, and stopping gracefully — SIGTERM or the AbortSignal let the running tasks finish
 * and take no new ones; a second signal ends it at once. Also: bullmq and ioredis load only through
 * `threadkit/distributed`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { DistributedExecutor, runWorker } from 'threadkit/distributed';
import { BrokenProcessPoolError, BrokenThreadPoolError, ValueError } from 'threadkit/errors';
import { Gate, gateTask } from '../fixtures/futures-gate';
import { RedisServer } from '../helpers/redis';
import { ROOT, until, WorkerProcess } from './workers';

const SECRET = 'spec-worker-secret';
const TSX = require.resolve('tsx/cjs');
const BIN = path.join(ROOT, 'bin/threadkit.js');

let redis: RedisServer;
const workers: WorkerProcess[] = [];
const owned: DistributedExecutor[] = [];
const gates: Gate[] = [];
/** Undone after the current test. */
const cleanups: Array<() => void> = [];
const afterThis = (fn: () => void): void => {
  cleanups.push(fn);
};

function make(queue: string): DistributedExecutor {
  const executor = new DistributedExecutor({ connection: redis.url, queue, secret: SECRET });
  owned.push(executor);
  return executor;
}

async function openGate(): Promise<Gate> {
  const gate = await Gate.open();
  gates.push(gate);
  return gate;
}

/** Jobs waiting in `queue`. */
async function waitingCount(queue: string): Promise<number> {
  const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } });
  try {
    return await q.getWaitingCount();
  } finally {
    await q.close();
  }
}

/** Runs the command (`node bin/threadkit.js …`) to its end; never rejects. */
async function command(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  redis = await RedisServer.start();
}, 30_000);

afterEach(async () => {
  for (const undo of cleanups.splice(0)) undo();
  for (const gate of gates.splice(0)) await gate.close();
  await Promise.all(owned.splice(0).map((executor) => executor.shutdown({ wait: true, cancelFutures: true })));
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
}, 60_000);

afterAll(async () => {
  await redis?.stop();
});

describe('the threadkit command', () => {
  const env = (): NodeJS.ProcessEnv => {
    const e = { ...process.env };
    delete e.THREADKIT_SECRET;
    delete e.THREADKIT_REDIS;
    return e;
  };

  test('--help prints the usage and exits 0', async () => {
    const { code, stdout } = await command(['--help'], env());
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: threadkit worker \[--redis URL\] \[--queue NAME\] \[--concurrency N\] \[--threads\]/);
    expect(stdout).toMatch(/THREADKIT_SECRET/);
  });

  test('a missing command, an unknown one or a bad flag exits 2 with the usage', async () => {
    for (const args of [[], ['serve'], ['worker', '--concurrency', '0'], ['worker', '--concurrency', 'two'], ['worker', '--bogus']]) {
      const { code, stderr } = await command(args, { ...env(), THREADKIT_SECRET: SECRET });
      expect(code).toBe(2);
      expect(stderr).toMatch(/^threadkit: .+\n\nusage: threadkit worker/);
    }
  });

  test('without THREADKIT_SECRET the worker refuses to start, saying how to set it', async () => {
    const { code, stderr } = await command(['worker', '--redis', redis.url], env());
    expect(code).toBe(2);
    expect(stderr).toMatch(/runWorker needs a shared secret.*set THREADKIT_SECRET.*export THREADKIT_SECRET=/);
  });

  test('SIGTERM lets the running task finish, takes no new one, and exits 0', async () => {
    const queue = 'graceful';
    const worker = await WorkerProcess.start({ redis: redis.url, queue, secret: SECRET, concurrency: 1 });
    workers.push(worker);
    const executor = make(queue);
    const gate = await openGate();
    const running = executor.submit(gateTask, gate.path, 'finished');
    await gate.waitArrivals(1);
    worker.child.kill('SIGTERM');
    await worker.waitFor(/SIGTERM: stopping after the running tasks/);
    const later = executor.submit(() => 'taken');
    await until(async () => (await waitingCount(queue)) === 1, 'the later task waiting in Redis');
    gate.release();
    expect(await running).toBe('finished');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    // Nobody took the later task: it waits for the next worker.
    expect(await waitingCount(queue)).toBe(1);
    expect(later.running()).toBe(false);
    workers.push(await WorkerProcess.start({ redis: redis.url, queue, secret: SECRET, concurrency: 1 }));
    expect(await later).toBe('taken');
  }, 60_000);

  test('a worker that cannot reach Redis says so, keeps trying, and still stops at SIGTERM', async () => {
    // A port nobody listens on: the one of a Redis that was stopped.
    const gone = await RedisServer.start();
    const url = gone.url;
    await gone.stop();
    const env = { ...process.env, THREADKIT_SECRET: SECRET };
    const worker = WorkerProcess.spawn(['worker', '--redis', url, '--queue', 'unreachable'], env);
    workers.push(worker);
    await worker.waitFor(/Redis at redis:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED .*\(retrying\)/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output).not.toMatch(/serving queue/);
  }, 60_000);

  test('a second SIGTERM ends the worker at once, and its task runs again on another worker', async () => {
    const queue = 'impatient';
    const worker = await WorkerProcess.start({ redis: redis.url, queue, secret: SECRET, concurrency: 1, lockDuration: 1000 });
    workers.push(worker);
    const executor = make(queue);
    const gate = await openGate();
    const running = executor.submit(gateTask, gate.path, 'done elsewhere');
    await gate.waitArrivals(1);
    worker.child.kill('SIGTERM');
    await worker.waitFor(/SIGTERM: stopping/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: null, signal: 'SIGTERM' });
    gate.release();
    workers.push(await WorkerProcess.start({ redis: redis.url, queue, secret: SECRET, concurrency: 1, lockDuration: 1000 }));
    expect(await running.result(30_000)).toBe('done elsewhere');
  }, 60_000);
});

describe('runWorker', () => {
  test('serves in this process until its AbortSignal is aborted; the running task finishes first', async () => {
    const queue = 'in-process';
    const controller = new AbortController();
    // What the worker prints goes to this process's stderr: keep it out of the test output, and check it.
    const printed: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    afterThis(() => spy.mockRestore());
    const serving = runWorker({ connection: redis.url, queue, secret: SECRET, concurrency: 1, kind: 'threads', signal: controller.signal });
    const executor = make(queue);
    expect(await executor.submit((a: number, b: number) => a + b, 2, 3)).toBe(5);
    const gate = await openGate();
    const running = executor.submit(gateTask, gate.path, 'finished');
    await gate.waitArrivals(1);
    controller.abort();
    const later = executor.submit(() => 'taken');
    gate.release();
    expect(await running).toBe('finished');
    await serving;
    expect(later.running()).toBe(false);
    expect(later.cancel()).toBe(true);
    expect(printed.join('')).toMatch(/^threadkit worker: serving queue 'in-process' of redis:\/\/127\.0\.0\.1:\d+ with 1 threads/);
  }, 60_000);

  test.each(['processes', 'threads'] as const)(
    'with %s: a task that ends its process or thread fails with the Broken error of that kind; the next task runs in a new one',
    async (kind) => {
      const queue = `crash-${kind}`;
      const printed: string[] = [];
      const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed.push(String(chunk));
        return true;
      });
      afterThis(() => spy.mockRestore());
      const controller = new AbortController();
      const serving = runWorker({ connection: redis.url, queue, secret: SECRET, concurrency: 1, kind, signal: controller.signal });
      try {
        const executor = make(queue);
        const Broken = kind === 'threads' ? BrokenThreadPoolError : BrokenProcessPoolError;
        const exited = await executor.submit(() => process.exit(3)).exception();
        expect(exited).toBeInstanceOf(Broken);
        expect((exited as Error).message).toMatch(/exit code 3/);
        // The task after a crash must not be handed the process or thread that is ending (it would
        // die with it): it runs in a new one.
        const crashed = await executor.submit(() => new Promise(() => setImmediate(() => {
          throw new Error('crash in a callback');
        }))).exception();
        expect(crashed).toBeInstanceOf(Broken);
        expect(await executor.submit(() => new Promise((resolve) => setTimeout(() => resolve('after the crash'), 300)))).toBe('after the crash');
      } finally {
        controller.abort();
        await serving;
      }
    },
    60_000,
  );

  test('refuses to start without a secret, or with bad options', async () => {
    const saved = process.env.THREADKIT_SECRET;
    delete process.env.THREADKIT_SECRET;
    try {
      await expect(runWorker({ connection: redis.url })).rejects.toThrow(/runWorker needs a shared secret.*THREADKIT_SECRET/);
    } finally {
      if (saved !== undefined) process.env.THREADKIT_SECRET = saved;
    }
    const base = { connection: redis.url, secret: SECRET };
    await expect(runWorker({ ...base, kind: 'gpu' as never })).rejects.toThrow(/`kind`.*'threads' or 'processes'.*"gpu"/);
    await expect(runWorker({ ...base, concurrency: 0 })).rejects.toThrow(ValueError);
    await expect(runWorker({ ...base, lockDuration: -5 })).rejects.toThrow(/`lockDuration`/);
    await expect(runWorker({ ...base, signal: {} as never })).rejects.toThrow(/`signal`.*AbortSignal/);
    await expect(runWorker({ ...base, connection: 'http://x' })).rejects.toThrow(TypeError);
  });

  test('an already aborted signal returns at once', async () => {
    await expect(runWorker({ connection: redis.url, secret: SECRET, signal: AbortSignal.abort() })).resolves.toBeUndefined();
  });
});

describe('threadkit/distributed alone loads bullmq', () => {
  test('threadkit and its other entry points load neither bullmq nor ioredis', async () => {
    const script = `
      const path = require('node:path');
      const lib = ${JSON.stringify(path.join(ROOT, 'lib'))};
      const queueLibs = () => Object.keys(require.cache).filter((f) => /node_modules[\\\\/](bullmq|ioredis)[\\\\/]/.test(f)).length;
      for (const entry of ['index', 'threading/index', 'futures/index', 'multiprocessing/index', 'errors']) require(path.join(lib, entry));
      const before = queueLibs();
      require(path.join(lib, 'distributed'));
      console.log(JSON.stringify({ before, after: queueLibs() }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', TSX, '-e', script], { timeout: 60_000 });
    const { before, after } = JSON.parse(stdout) as { before: number; after: number };
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
  }, 60_000);
});
