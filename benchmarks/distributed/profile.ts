/**
 * Where a distributed task's cost goes, DistributedExecutor beside raw BullMQ (sandboxed), per
 * party: CPU of the submitting process, of the BullMQ worker processes, of the processes that run
 * the tasks, of redis-server, and the Redis commands per task (INFO commandstats before and after).
 *
 *   npx tsx benchmarks/distributed/profile.ts [processes|threads] [tasks] [reps] [threadkit|raw]
 *
 * (the last argument runs one side only, e.g. under `node --cpu-prof`; TK_PROFILE_DIR=dir makes
 * the workers and their task processes write CPU profiles there)
 * The two sides run in turn on one private redis-server, each with its own two workers.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { Queue, QueueEvents } from 'bullmq';
import IORedis from 'ioredis';
import { DistributedExecutor } from '../../lib/distributed';
import { RedisServer } from '../../spec/helpers/redis';
import { startWorker } from './index';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'lib/distributed/cli.ts');
const RAW_WORKER = path.join(__dirname, 'raw-worker.ts');
const SECRET = 'benchmark-secret';
/** TK_PROFILE_DIR=dir: every worker (and the task processes, which inherit its flags) writes a CPU profile there. */
const PROFILE = process.env.TK_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.TK_PROFILE_DIR}`] : [];

function cpuMs(pid: number): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** CPU ms of the threads of a process (this one by default), by thread name (the main thread, V8's workers, libuv's pool), added to `byName`. */
function threadCpu(pid = process.pid, byName = new Map<string, number>()): Map<string, number> {
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const key = Number(tid) === pid ? 'main' : `other ${name}`;
      byName.set(key, (byName.get(key) ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / 100);
    } catch {
      /* gone */
    }
  }
  return byName;
}

/** Context switches (voluntary and not) of every live thread of a process: each is a sleep or a preemption. */
function switches(pid: number): number {
  let total = 0;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const text = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
        for (const m of text.matchAll(/ctxt_switches:\s+(\d+)/g)) total += Number(m[1]);
      } catch {
        /* gone */
      }
    }
  } catch {
    /* gone */
  }
  return total;
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const byParent = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    const p = Number(entry);
    if (!Number.isInteger(p)) continue;
    try {
      const text = fs.readFileSync(`/proc/${p}/stat`, 'latin1');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      (byParent.get(ppid) ?? byParent.set(ppid, []).get(ppid)!).push(p);
    } catch {
      /* gone */
    }
  }
  const pending = [...(byParent.get(pid) ?? [])];
  while (pending.length > 0) {
    const p = pending.pop()!;
    out.push(p);
    pending.push(...(byParent.get(p) ?? []));
  }
  return out;
}

async function commandstats(redis: IORedis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats');
  const stats = new Map<string, number>();
  for (const m of text.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) {
    stats.set(m[1], Number(m[2]));
    stats.set(`${m[1]} µs`, Number(m[3]));
  }
  return stats;
}

interface Side {
  name: string;
  workers: ChildProcess[];
  burst(n: number): Promise<void>;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'processes';
  const n = Number(process.argv[3] ?? 2000);
  const reps = Number(process.argv[4] ?? 2);
  const only = process.argv[5];
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ['gc'] });
  const redis = await RedisServer.start();
  const client = new IORedis({ host: '127.0.0.1', port: redis.port });
  const redisPid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
  const env: NodeJS.ProcessEnv = { ...process.env, THREADKIT_SECRET: SECRET, THREADKIT_REDIS: redis.url };
  const all: ChildProcess[] = [];
  const sides: Side[] = [];
  try {
    const tkWorkers = await Promise.all([0, 1].map(() => startWorker([CLI, 'worker', '--queue', 'tk', '--concurrency', '2', ...(mode === 'threads' ? ['--threads'] : [])], /serving queue/, env, PROFILE)));
    const rawWorkers = await Promise.all([0, 1].map(() => startWorker([RAW_WORKER, String(redis.port), 'raw', '2', mode], /ready/, env, PROFILE)));
    all.push(...tkWorkers, ...rawWorkers);
    const executor = new DistributedExecutor({ connection: redis.url, queue: 'tk', secret: SECRET });
    sides.push({
      name: 'threadkit',
      workers: tkWorkers,
      async burst(count) {
        await Promise.all(Array.from({ length: count }, (_, i) => executor.submit((x: number) => x + 1, i)));
      },
      close: () => executor.shutdown(),
    });
    const connection = { host: '127.0.0.1', port: redis.port };
    const queue = new Queue('raw', { connection, streams: { events: { maxLen: 50_000 } }, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
    const events = new QueueEvents('raw', { connection });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const waiting = new Map<string, () => void>();
    events.on('completed', ({ jobId }) => {
      waiting.get(jobId)?.();
      waiting.delete(jobId);
    });
    let seq = 0;
    sides.push({
      name: 'raw',
      workers: rawWorkers,
      async burst(count) {
        const done: Array<Promise<void>> = [];
        for (let i = 0; i < count; i += 1000) {
          const jobs = Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ name: 'task', data: { x: i + k }, opts: { jobId: `raw-${++seq}` } }));
          for (const job of jobs) done.push(new Promise((resolve) => waiting.set(job.opts.jobId, resolve)));
          void queue.addBulk(jobs);
        }
        await Promise.all(done);
      },
      async close() {
        await events.close();
        await queue.close();
      },
    });
    for (const side of sides) if (only === undefined || only === side.name) await side.burst(300);
    const totals = new Map<string, Map<string, number>>();
    const add = (side: string, key: string, value: number): void => {
      const m = totals.get(side) ?? totals.set(side, new Map()).get(side)!;
      m.set(key, (m.get(key) ?? 0) + value);
    };
    for (let rep = 0; rep < reps; rep++) {
      for (const side of sides) {
        if (only !== undefined && only !== side.name) continue;
        const pids = (ws: ChildProcess[]): number[] => ws.map((w) => w.pid!);
        const taskPids = side.workers.flatMap((w) => descendants(w.pid!));
        const before = {
          self: process.cpuUsage(),
          workers: pids(side.workers).reduce((s, p) => s + cpuMs(p), 0) - taskPids.reduce((s, p) => s + cpuMs(p), 0),
          tasks: taskPids.reduce((s, p) => s + cpuMs(p), 0),
          redis: cpuMs(redisPid),
          switches: { self: switches(process.pid), workers: side.workers.reduce((s, w) => s + switches(w.pid!), 0), redis: switches(redisPid) },
          stats: await commandstats(client),
        };
        const gcBefore = gcMs;
        const threadsBefore = threadCpu();
        const workerThreadsBefore = new Map<string, number>();
        for (const w of side.workers) threadCpu(w.pid!, workerThreadsBefore);
        const t0 = performance.now();
        await side.burst(n);
        const wall = performance.now() - t0;
        const taskPids2 = side.workers.flatMap((w) => descendants(w.pid!));
        const selfUsage = process.cpuUsage(before.self);
        // Task processes' times include reaped children (cutime): counted in the worker otherwise.
        const tasksNow = taskPids2.reduce((s, p) => s + cpuMs(p), 0);
        const workersNow = pids(side.workers).reduce((s, p) => s + cpuMs(p), 0) - tasksNow;
        const stats = await commandstats(client);
        add(side.name, 'wall µs', wall * 1000);
        add(side.name, 'cpu submitter µs', (selfUsage.user + selfUsage.system));
        add(side.name, 'cpu submitter system µs', selfUsage.system);
        add(side.name, 'cpu submitter GC µs', (gcMs - gcBefore) * 1000);
        for (const [name, ms] of threadCpu()) add(side.name, `cpu submitter thread ${name} µs`, (ms - (threadsBefore.get(name) ?? 0)) * 1000);
        const workerThreads = new Map<string, number>();
        for (const w of side.workers) threadCpu(w.pid!, workerThreads);
        for (const [name, ms] of workerThreads) add(side.name, `cpu workers thread ${name} µs`, (ms - (workerThreadsBefore.get(name) ?? 0)) * 1000);
        add(side.name, 'cpu workers µs', (workersNow - before.workers) * 1000);
        add(side.name, 'cpu tasks µs', (tasksNow - before.tasks) * 1000);
        add(side.name, 'cpu redis µs', (cpuMs(redisPid) - before.redis) * 1000);
        add(side.name, 'switches submitter', switches(process.pid) - before.switches.self);
        add(side.name, 'switches workers', side.workers.reduce((s, w) => s + switches(w.pid!), 0) - before.switches.workers);
        add(side.name, 'switches redis', switches(redisPid) - before.switches.redis);
        for (const [key, value] of stats) if (key !== 'info' && key !== 'info µs') add(side.name, `redis ${key}`, value - (before.stats.get(key) ?? 0));
      }
    }
    const keys = new Set<string>();
    for (const m of totals.values()) for (const k of m.keys()) keys.add(k);
    const rows = [...keys].sort((a, b) => (a.startsWith('redis') ? 1 : 0) - (b.startsWith('redis') ? 1 : 0) || a.localeCompare(b));
    process.stdout.write(`${mode}: ${n} tasks × ${reps} reps, per task (load ${fs.readFileSync('/proc/loadavg', 'latin1').trim()})\n`);
    process.stdout.write(`${'what'.padEnd(40)}${'threadkit'.padStart(12)}${'raw'.padStart(12)}${'ratio'.padStart(8)}\n`);
    for (const key of rows) {
      const tk = (totals.get('threadkit')?.get(key) ?? 0) / (n * reps);
      const raw = (totals.get('raw')?.get(key) ?? 0) / (n * reps);
      if (tk === 0 && raw === 0) continue;
      process.stdout.write(`${key.padEnd(40)}${tk.toFixed(2).padStart(12)}${raw.toFixed(2).padStart(12)}${(raw ? tk / raw : NaN).toFixed(2).padStart(8)}\n`);
    }
  } finally {
    await Promise.allSettled(sides.map((s) => s.close()));
    for (const w of all) w.kill('SIGTERM');
    await Promise.all(all.map((w) => (w.exitCode !== null ? undefined : new Promise((r) => w.once('exit', r)))));
    client.disconnect();
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
