/**
 * DistributedExecutor against a private redis-server and two `threadkit worker` processes (the
 * CLI, as on worker machines): the shared executor suite, then what only a distributed executor
 * has — signatures, shared objects refused at submit, module specifiers resolved on the worker,
 * cancellation of a job waiting in Redis, the per-task timeout, and 10 000 tasks none of which is
 * lost or run twice.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import * as v8 from 'node:v8';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { DistributedExecutor } from 'threadkit/distributed';
import { Condition, Event, Lock } from 'threadkit/threading';
import { RuntimeError, TimeoutError, ValueError } from 'threadkit/errors';
import { fromModule } from 'threadkit';
import { describeExecutorSuite } from '../futures/executor-suite';
import { Gate, gateTask } from '../fixtures/futures-gate';
import { RedisServer } from '../helpers/redis';
import { until, WorkerProcess } from './workers';

const SECRET = 'spec-secret-a1b2c3';
const QUEUE = 'suite';

let redis: RedisServer;
const workers: WorkerProcess[] = [];
/** Executors made by a test, shut down after it. */
const owned: DistributedExecutor[] = [];
const gates: Gate[] = [];

function make(options?: ConstructorParameters<typeof DistributedExecutor>[0]): DistributedExecutor {
  const executor = new DistributedExecutor({ connection: redis.url, queue: QUEUE, secret: SECRET, ...options });
  owned.push(executor);
  return executor;
}

async function openGate(): Promise<Gate> {
  const gate = await Gate.open();
  gates.push(gate);
  return gate;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  workers.push(...(await Promise.all([1, 2].map(() => WorkerProcess.start({ redis: redis.url, queue: QUEUE, secret: SECRET, concurrency: 2 })))));
}, 60_000);

afterEach(async () => {
  for (const gate of gates.splice(0)) await gate.close();
  await Promise.all(owned.splice(0).map((executor) => executor.shutdown({ wait: true, cancelFutures: true })));
});

afterAll(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await redis?.stop();
}, 60_000);

describeExecutorSuite(
  'DistributedExecutor with two worker processes',
  () => new DistributedExecutor({ connection: redis.url, queue: QUEUE, secret: SECRET }),
  // slots: two workers of concurrency 2.
  {
    maxWorkers: false,
    slots: 4,
    initializer: false,
    runningAtOnce: false,
    cancelsSettled: async () => {
      const queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
      try {
        await until(async () => (await queue.getWaitingCount()) === 0, 'the cancelled jobs leaving Redis');
      } finally {
        await queue.close();
      }
    },
  },
);

describe('DistributedExecutor: what crosses machines', () => {
  test('a shared object as argument is a TypeError at submit, naming it, and nothing is queued', async () => {
    const executor = make();
    const echo = (x: unknown): unknown => x;
    for (const shared of [new Lock(), new Event(), new Condition()]) {
      expect(() => executor.submit(echo, shared)).toThrow(TypeError);
      expect(() => executor.submit(echo, shared)).toThrow(/argument 1 \(args\[0\]\) cannot be sent to another machine: threading\.\w+ is shared memory of this machine/);
    }
    expect(() => executor.submit((a: unknown, b: unknown) => [a, b], 1, { nested: [new Lock()] })).toThrow(/argument 2 \(args\[1\]\.nested\[0\]\) cannot be sent to another machine/);
    expect(() => executor.submit(echo, new SharedArrayBuffer(8))).toThrow(/SharedArrayBuffer is memory of this machine/);
    // A multiprocessing object (shared across the processes of one machine) cannot go either.
    const crossProcess = { [Symbol.for('threadkit.share')]: () => ({ tag: 'multiprocessing.Value', crossProcess: true, data: {} }) };
    expect(() => executor.submit(echo, crossProcess)).toThrow(/multiprocessing\.Value is shared memory of this machine/);
    expect(inspect(executor)).toMatch(/pending=0 running=0/);
    // map reads its input lazily: the refused item is thrown by the iterator at its position.
    await expect(executor.map(echo, [new Lock()])[Symbol.asyncIterator]().next()).rejects.toThrow(/cannot be sent to another machine/);
  });

  test('values keep their structured-clone types both ways', async () => {
    const executor = make();
    const input = { map: new Map([['a', 1n]]), set: new Set([1, 2]), date: new Date(0), bytes: new Uint8Array([1, 2, 3]), nothing: undefined, minusZero: -0, nan: NaN };
    const echoed = await executor.submit((value: typeof input) => value, input);
    expect(echoed.map.get('a')).toBe(1n);
    expect([...echoed.set]).toEqual([1, 2]);
    expect(echoed.date.getTime()).toBe(0);
    expect([...echoed.bytes]).toEqual([1, 2, 3]);
    expect('nothing' in echoed && echoed.nothing === undefined).toBe(true);
    expect(Object.is(echoed.minusZero, -0)).toBe(true);
    expect(echoed.nan).toBeNaN();
  });

  test('plain data and what JSON would change travel exactly, as arguments and as results, also deep inside plain data', async () => {
    const executor = make();
    const echo = <T,>(value: T): T => value;
    // Plain data (JSON carries it) and its near misses (JSON would change them).
    const plain = { n: 1.5, s: 'é\ud800', b: true, nil: null, list: [1, 'two', [3], { four: 4 }], nested: { a: { b: { c: [] } } } };
    expect(await executor.submit(echo, plain)).toEqual(plain);
    const holes = [1, , 3];
    const withKey = Object.assign([1, 2], { extra: 'kept' });
    const bare = Object.assign(Object.create(null) as Record<string, number>, { a: 1 });
    const protoKey = JSON.parse('{"__proto__": 5}') as Record<string, number>;
    const deep: unknown[] = [];
    let at = deep;
    for (let i = 0; i < 40; i++) at.push((at = []));
    at.push(-0);
    const [h, w, z, u, big, inf, k, p, d] = (await Promise.all([
      executor.submit(echo, holes),
      executor.submit(echo, withKey),
      executor.submit(echo, [0, -0]),
      executor.submit(echo, { inner: [undefined], list: [1, undefined] }),
      executor.submit(echo, [1n]),
      executor.submit(echo, { x: [Infinity] }),
      executor.submit(echo, bare),
      executor.submit(echo, protoKey),
      executor.submit(echo, deep),
    ])) as [unknown[], typeof withKey, number[], { inner: unknown[]; list: unknown[] }, bigint[], { x: number[] }, Record<string, number>, Record<string, number>, unknown[]];
    expect(1 in h).toBe(false);
    expect(h).toHaveLength(3);
    expect(w.extra).toBe('kept');
    expect(Object.is(z[1], -0)).toBe(true);
    expect(u.inner).toHaveLength(1);
    expect(0 in u.inner && u.list[1] === undefined && u.list.length === 2).toBe(true);
    expect(big[0]).toBe(1n);
    expect(inf.x[0]).toBe(Infinity);
    expect(k.a).toBe(1);
    expect(Object.getOwnPropertyNames(p)).toEqual(['__proto__']);
    expect(p.__proto__).toBe(5);
    let inner: unknown = d;
    for (let i = 0; i < 40; i++) inner = (inner as unknown[])[0];
    expect(Object.is((inner as unknown[])[0], -0)).toBe(true);
    // Results too (not only echoes of arguments): made on the worker.
    expect(Object.is(await executor.submit(() => -0), -0)).toBe(true);
    expect(await executor.submit(() => [undefined, 1])).toEqual([undefined, 1]);
  });

  test("a task's error arrives with its class, message, stack, own properties and cause", async () => {
    const executor = make();
    const future = executor.submit(() => {
      const cause = Object.assign(new RangeError('the cause'), { code: 'E_CAUSE' });
      class TaskError extends TypeError {}
      throw Object.assign(new TaskError('the error', { cause }), { name: 'TaskError', attempt: 3 });
    });
    const error = (await future.exception()) as TypeError & { attempt: number; cause: RangeError & { code: string } };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('TaskError');
    expect(error.message).toBe('the error');
    expect(error.attempt).toBe(3);
    expect(error.stack).toMatch(/threadkit-target/);
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(error.cause.message).toBe('the cause');
    expect(error.cause.code).toBe('E_CAUSE');
  });
});

describe('DistributedExecutor: configuration', () => {
  test('without a secret, the executor refuses to start, saying how to set one', () => {
    const saved = process.env.THREADKIT_SECRET;
    delete process.env.THREADKIT_SECRET;
    try {
      expect(() => new DistributedExecutor({ connection: redis.url })).toThrow(TypeError);
      expect(() => new DistributedExecutor({ connection: redis.url })).toThrow(/THREADKIT_SECRET.*openssl rand.*\{ secret \}/);
      expect(() => new DistributedExecutor({ connection: redis.url, secret: '' })).toThrow(/THREADKIT_SECRET/);
    } finally {
      if (saved !== undefined) process.env.THREADKIT_SECRET = saved;
    }
  });

  test('the secret may come from THREADKIT_SECRET, the Redis URL from THREADKIT_REDIS', async () => {
    const saved = { secret: process.env.THREADKIT_SECRET, redis: process.env.THREADKIT_REDIS };
    process.env.THREADKIT_SECRET = SECRET;
    process.env.THREADKIT_REDIS = redis.url;
    try {
      const executor = new DistributedExecutor({ queue: QUEUE });
      owned.push(executor);
      expect(await executor.submit((a: number) => a + 1, 1)).toBe(2);
    } finally {
      for (const [key, value] of [['THREADKIT_SECRET', saved.secret], ['THREADKIT_REDIS', saved.redis]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  test('bad options are errors naming the option and the value', () => {
    const base = { connection: redis.url, secret: SECRET };
    expect(() => new DistributedExecutor({ ...base, connection: 'http://localhost' })).toThrow(/`connection`.*redis: or rediss:.*http:/);
    expect(() => new DistributedExecutor({ ...base, connection: 'not a url' })).toThrow(TypeError);
    expect(() => new DistributedExecutor({ ...base, connection: 'redis://h/x' })).toThrow(/database/);
    expect(() => new DistributedExecutor({ ...base, queue: 'a:b' })).toThrow(/`queue`.*"a:b"/);
    expect(() => new DistributedExecutor({ ...base, retries: -1 })).toThrow(ValueError);
    expect(() => new DistributedExecutor({ ...base, retries: '2' as never })).toThrow(/`retries`.*"2"/);
    expect(() => new DistributedExecutor({ ...base, timeout: -1 })).toThrow(RangeError);
    expect(() => new DistributedExecutor({ ...base, secret: 42 as never })).toThrow(/`secret`.*number 42/);
  });

  test('with Redis unreachable, shutdown with cancelFutures returns at once and cancels what was submitted', async () => {
    const gone = await RedisServer.start();
    const url = gone.url;
    await gone.stop();
    const executor = new DistributedExecutor({ connection: url, queue: QUEUE, secret: SECRET });
    const futures = [1, 2, 3].map((x) => executor.submit((v: number) => v, x));
    await new Promise((resolve) => setImmediate(resolve));
    await executor.shutdown({ cancelFutures: true });
    expect(futures.every((f) => f.cancelled())).toBe(true);
  });

  test('a password in the URL never shows in messages', () => {
    const executor = make({ connection: redis.url.replace('redis://', 'redis://user:hunter2@') });
    expect(inspect(executor)).not.toMatch(/hunter2/);
    expect(inspect(executor)).toMatch(/user:\*\*\*@/);
  });
});

describe('DistributedExecutor: signatures', () => {
  test('a task signed with another secret is refused with a clear error, logged once, and the workers keep serving', async () => {
    const intruder = make({ secret: 'another-secret' });
    const refused = await Promise.all(Array.from({ length: 6 }, (_, i) => intruder.submit((x: number) => x, i).exception()));
    for (const error of refused) {
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as Error).message).toMatch(/the worker refused the task: it is not signed with the secret of the worker.*THREADKIT_SECRET/);
    }
    // The workers serve on: a correctly signed task runs.
    expect(await make().submit((a: number, b: number) => a * b, 6, 7)).toBe(42);
    const logged = workers.map((worker) => worker.output.match(/refused job/g)?.length ?? 0);
    expect(logged.every((n) => n <= 1)).toBe(true);
    expect(logged.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  });

  test('a job that is not a signed task (added with BullMQ directly) is refused', async () => {
    const connection = { host: '127.0.0.1', port: redis.port };
    const queue = new Queue(QUEUE, { connection });
    const events = new QueueEvents(QUEUE, { connection });
    try {
      await events.waitUntilReady();
      const pack = (value: unknown): string => v8.serialize(value).toString('base64');
      // A well-formed task whose signature is forged, and a job that is no task at all.
      const forged = await queue.add('evil', {
        v: 1,
        target: pack({ kind: 'source', source: '(() => process.exit(9))', name: 'evil' }),
        call: pack({ args: [], chunk: false, timeout: undefined, retries: 0 }),
        sig: 'A'.repeat(43),
      });
      const unsigned = await queue.add('evil', { x: 1 });
      await expect(forged.waitUntilFinished(events, 20_000)).rejects.toThrow(/task refused/);
      await expect(unsigned.waitUntilFinished(events, 20_000)).rejects.toThrow(/task refused/);
    } finally {
      await events.close();
      await queue.close();
    }
  });

  test('a result that is not signed with the secret (a foreign worker completed the job) fails the future', async () => {
    const foreignQueue = 'foreign';
    const foreign = new Worker(foreignQueue, async () => ({ result: 'AAAA', sig: 'forged' }), { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const executor = make({ queue: foreignQueue });
      const error = await executor.submit(() => 1).exception();
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as Error).message).toMatch(/not signed with this executor's secret/);
    } finally {
      await foreign.close();
    }
  });
});

describe('DistributedExecutor: the queue in Redis', () => {
  test('cancel() while the task waits in Redis removes its job, and it never runs', async () => {
    const executor = make();
    const gate = await openGate();
    // Every slot of both workers busy (2 × 2), so the next task has to wait in Redis.
    const busy = Array.from({ length: 4 }, (_, i) => executor.submit(gateTask, gate.path, i));
    await gate.waitArrivals(4);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tk-cancel-'));
    const marker = path.join(dir, 'ran');
    const queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const waiting = executor.submit((file: string) => require('node:fs').writeFileSync(file, 'ran'), marker);
      await until(async () => (await queue.getWaitingCount()) === 1, 'the task reaching Redis');
      expect(waiting.running()).toBe(false);
      expect(waiting.cancel()).toBe(true);
      await until(async () => (await queue.getWaitingCount()) === 0, 'the job leaving Redis');
      gate.release();
      expect(await Promise.all(busy)).toEqual([0, 1, 2, 3]);
      // The slots are free again: a task submitted now runs, and the cancelled one still has not.
      expect(await executor.submit(() => 'after')).toBe('after');
      expect(fs.existsSync(marker)).toBe(false);
    } finally {
      await queue.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a task running longer than `timeout` on the worker fails with TimeoutError', async () => {
    const executor = make({ timeout: 300 });
    const gate = await openGate();
    const future = executor.submit(gateTask, gate.path);
    await gate.waitArrivals(1);
    const error = await future.exception();
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/did not finish within 300 ms on the worker/);
    gate.release();
    expect(await executor.submit(() => 'fast enough')).toBe('fast enough');
  });

  test('10 000 tasks through two workers: every one runs exactly once and returns its own result', async () => {
    const executor = make();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tk-10k-'));
    const log = path.join(dir, 'runs');
    try {
      const n = 10_000;
      const futures = Array.from({ length: n }, (_, i) =>
        executor.submit((file: string, k: number) => {
          // O_APPEND writes of one short line are atomic, across processes too.
          require('node:fs').appendFileSync(file, `${k} ${process.ppid}\n`);
          return k * 2;
        }, log, i),
      );
      const values = await Promise.all(futures);
      expect(values.every((v, i) => v === i * 2)).toBe(true);
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' ').map(Number));
      expect(lines.length).toBe(n);
      expect(new Set(lines.map(([k]) => k)).size).toBe(n);
      // Both workers took part.
      expect(new Set(lines.map(([, worker]) => worker))).toEqual(new Set(workers.map((w) => w.pid)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('DistributedExecutor: module targets resolved on the worker', () => {
  let dir: string;
  let worker: WorkerProcess;
  const queue = 'modules';

  beforeAll(async () => {
    // A project directory only the worker knows: its cwd, with a task module and a package.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tk-worker-cwd-'));
    fs.mkdirSync(path.join(dir, 'tasks'));
    fs.writeFileSync(path.join(dir, 'tasks', 'double.js'), 'exports.double = (x) => ({ value: 2 * x, cwd: process.cwd() });\n');
    const pkg = path.join(dir, 'node_modules', 'tk-fixture-tasks');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'tk-fixture-tasks', main: 'main.js' }));
    fs.writeFileSync(path.join(pkg, 'main.js'), 'exports.triple = (x) => 3 * x;\nmodule.exports.default = (x) => -x;\n');
    worker = await WorkerProcess.start({ redis: redis.url, queue, secret: SECRET, concurrency: 1, cwd: dir });
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  test('a relative path is resolved from the working directory of the worker', async () => {
    expect(fs.existsSync(path.resolve('tasks/double.js'))).toBe(false);
    const executor = make({ queue });
    expect(await executor.submit(fromModule<[number], { value: number; cwd: string }>('./tasks/double.js', 'double'), 21)).toEqual({
      value: 42,
      cwd: fs.realpathSync(dir),
    });
  });

  test('a package name is resolved from the node_modules of the worker', async () => {
    const executor = make({ queue });
    expect(await executor.submit(fromModule<[number], number>('tk-fixture-tasks', 'triple'), 5)).toBe(15);
    expect(await executor.submit(fromModule<[number], number>('tk-fixture-tasks'), 5)).toBe(-5);
  });

  test('a specifier the worker cannot resolve fails the task, naming the worker directory', async () => {
    const executor = make({ queue });
    const error = await executor.submit(fromModule('./tasks/missing.js', 'f')).exception();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/cannot resolve module "\.\/tasks\/missing\.js" from .*tk-worker-cwd-.*, the working directory of the process running the task/);
  });
});
