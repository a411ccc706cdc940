/**
 * DistributedExecutor when things break: a worker SIGKILLed mid-task (BullMQ's stalled jobs put the
 * task back; another worker runs it; the future settles once), a task whose workers keep dying
 * (retries exhausted), and Redis restarting while idle (executor and workers reconnect; a job lost
 * with Redis's data fails its future instead of hanging it). Workers here use a one-second lock, so
 * a dead worker's task comes back within seconds instead of BullMQ's default thirty.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { DistributedExecutor } from 'threadkit/distributed';
import { BrokenExecutorError, RuntimeError } from 'threadkit/errors';
import { Rendezvous } from '../fixtures/process-rendezvous';
import { RedisServer } from '../helpers/redis';
import { alive, until, WorkerProcess } from './workers';

const SECRET = 'spec-failures-secret';
const LOCK_MS = 1000;

let redis: RedisServer;
const workers: WorkerProcess[] = [];
const owned: DistributedExecutor[] = [];
const rendezvous: Rendezvous[] = [];

/** Task: checks in with the worker's pid (its pool process's parent), waits to be released, returns that pid. */
const checkIn = (socketPath: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const socket = require('node:net').createConnection(socketPath, () => socket.write(`${process.ppid}\n`));
    socket.once('data', () => {
      socket.end();
      resolve(process.ppid);
    });
    socket.once('error', reject);
  });

function make(queue: string, options?: ConstructorParameters<typeof DistributedExecutor>[0]): DistributedExecutor {
  const executor = new DistributedExecutor({ connection: redis.url, queue, secret: SECRET, ...options });
  owned.push(executor);
  return executor;
}

async function startWorkers(queue: string, n: number): Promise<WorkerProcess[]> {
  const started = await Promise.all(Array.from({ length: n }, () => WorkerProcess.start({ redis: redis.url, queue, secret: SECRET, concurrency: 1, lockDuration: LOCK_MS })));
  workers.push(...started);
  return started;
}

async function openRendezvous(): Promise<Rendezvous> {
  const r = await Rendezvous.open();
  rendezvous.push(r);
  return r;
}

/** Pids of the child processes of `pid` (a worker's pool processes). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

beforeAll(async () => {
  redis = await RedisServer.start();
}, 30_000);

afterEach(async () => {
  for (const r of rendezvous.splice(0)) await r.close();
  await Promise.all(owned.splice(0).map((executor) => executor.shutdown({ wait: true, cancelFutures: true })));
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
}, 60_000);

afterAll(async () => {
  await redis?.stop();
});

describe('a worker that dies mid-task', () => {
  test('SIGKILL: the task runs again on the other worker, and its future settles once, with that result', async () => {
    const [a, b] = await startWorkers('kill', 2);
    const executor = make('kill');
    const r = await openRendezvous();
    const future = executor.submit(checkIn, r.path);
    let callbacks = 0;
    future.addDoneCallback(() => callbacks++);
    const [first] = await r.arrivals(1);
    const victim = first === a.pid ? a : b;
    const survivor = victim === a ? b : a;
    const orphans = childrenOf(victim.pid);
    expect(orphans.length).toBeGreaterThan(0);
    await victim.kill();
    // BullMQ finds the job's lock expired and puts it back; the survivor runs it.
    const [, second] = await r.arrivals(2);
    expect(second).toBe(survivor.pid);
    r.release();
    expect(await future.result(30_000)).toBe(survivor.pid);
    expect(callbacks).toBe(1);
    // The dead worker's pool processes end with it.
    await until(() => orphans.every((pid) => !alive(pid)), "the dead worker's pool processes ending");
  }, 60_000);

  test('a task whose workers die more than `retries` times fails with BrokenExecutorError', async () => {
    const [a, b] = await startWorkers('retries', 2);
    const executor = make('retries', { retries: 0 });
    const r = await openRendezvous();
    const future = executor.submit(checkIn, r.path);
    const [first] = await r.arrivals(1);
    await (first === a.pid ? a : b).kill();
    const error = await future.exception(30_000);
    expect(error).toBeInstanceOf(BrokenExecutorError);
    expect((error as Error).message).toMatch(/the workers running the task died 1 times \(retries: 0\)/);
  }, 60_000);
});

describe('events trimmed before the executor read them', () => {
  test("a task whose 'completed' event was trimmed away unread still settles, from the job kept in Redis", async () => {
    const queueName = 'trimmed';
    await startWorkers(queueName, 1);
    const executor = make(queueName);
    expect(await executor.submit(() => 'ready')).toBe('ready');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tk-trim-'));
    const release = path.join(dir, 'release');
    try {
      const future = executor.submit(
        (file: string) =>
          new Promise((resolve) => {
            const timer = setInterval(() => {
              if (require('node:fs').existsSync(file)) {
                clearInterval(timer);
                resolve('finished');
              }
            }, 10);
          }),
        release,
      );
      await until(() => future.running(), 'the task running');
      const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis.port } });
      const [job] = await queue.getActive();
      await queue.close();
      // With this process's event loop held (execFileSync), so that nothing is read meanwhile: an
      // event answers the executor's pending read, the task completes, and 300 more events trim
      // the stream (to about 100) past its 'completed' event.
      const events = `bull:${queueName}:events`;
      execFileSync('bash', ['-c', `
        set -e
        cli() { redis-cli -p ${redis.port} "$@"; }
        cli XADD ${events} '*' event noise > /dev/null
        touch ${release}
        for i in $(seq 1 500); do
          [ -n "$(cli HGET bull:${queueName}:${job.id} finishedOn)" ] && break
          sleep 0.02
        done
        for i in $(seq 1 300); do echo "XADD ${events} MAXLEN ~ 1 * event noise"; done | cli > /dev/null
      `], { timeout: 30_000 });
      expect(await future.result(30_000)).toBe('finished');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('Redis restarting', () => {
  test('while idle, the executor and the workers reconnect and go on; a job lost with Redis fails its future', async () => {
    const [worker] = await startWorkers('restart', 1);
    const executor = make('restart');
    expect(await executor.submit((x: number) => x + 1, 1)).toBe(2);
    // A job nobody serves: it waits in Redis, and Redis forgets it (no persistence).
    const stranded = make('nobody').submit(() => 'never');
    await until(() => redisHasWaiting('nobody'), 'the stranded job reaching Redis');
    await redis.kill();
    await redis.restart();
    expect(await executor.submit((x: number) => x * 3, 7).result(30_000)).toBe(21);
    expect(await executor.submit((x: number) => x * 3, 8).result(30_000)).toBe(24);
    const error = await stranded.exception(30_000);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as Error).message).toMatch(/no longer in Redis.*restarted without persistence/);
    // The worker said it lost Redis, and served on.
    expect(worker.output).toMatch(/lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ \(reconnecting\)/);
  }, 90_000);
});

/** True when the queue `name` has a job waiting. */
async function redisHasWaiting(name: string): Promise<boolean> {
  const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port } });
  try {
    return (await queue.getWaitingCount()) > 0;
  } finally {
    await queue.close();
  }
}
