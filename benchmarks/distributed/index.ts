/**
 * `npm run bench -- --only distributed`: DistributedExecutor beside raw BullMQ (a bare Queue and
 * Worker doing the same work) and a local ProcessPoolExecutor, with two local worker processes
 * on a private redis-server (skipped, with a note, when redis-server is not installed).
 *
 * Measured: trivial-task throughput (N tasks submitted at once, until the last result is back)
 * and the one-task round trip (submit, wait for the result, one at a time, the sides in turn;
 * the median), and the CPU time per task of the whole process tree (steadier than wall time on
 * a busy machine). Each side has its own queue and its own two workers of `concurrency` slots
 * each, all started before timing and warmed with as many tasks as a run; the sides are measured
 * in turn, `reps` times, and the best run counts.
 *
 * Raw BullMQ runs the work three ways: inline in the worker's main thread, and in BullMQ's own
 * sandbox of child processes or worker threads — the way threadkit's workers run every task (in
 * a local process or thread, never on the main thread). The goal, the executor's overhead over
 * raw BullMQ ≤ 20 %, compares like with like: worker processes with BullMQ's sandboxed
 * processes, worker threads with its sandboxed threads; the inline row shows what running tasks
 * away from the main thread costs either way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue, QueueEvents } from 'bullmq';
import { ProcessPoolExecutor, type Executor } from '../../lib/futures';
import { DistributedExecutor } from '../../lib/distributed';
import { RedisServer, redisServerAvailable } from '../../spec/helpers/redis';
import { measure, median } from '../lib/measure';
import { num, textTable } from '../lib/table';
import { within } from '../lib/within';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'lib/distributed/cli.ts');
const RAW_WORKER = path.join(__dirname, 'raw-worker.ts');
const TSX = require.resolve('tsx/cjs');
/** Slots of each worker process (`--concurrency`); two workers. */
const CONCURRENCY = 2;
const WORKERS = 2;
/** The goal: DistributedExecutor within this factor of raw BullMQ. */
const GOAL = 1.2;
const SECRET = 'benchmark-secret';
/** Longest a worker may take to start, or a measurement to finish. */
const START_LIMIT_MS = 30_000;
const RUN_LIMIT_MS = 300_000;

export interface DistributedRow {
  readonly impl: string;
  /** Tasks per second, best run. */
  readonly throughput: number | null;
  /** Median one-task round trip, ms. */
  readonly roundTripMs: number | null;
  /**
   * CPU time per task of the whole process tree (this process, the workers and their pools,
   * redis-server), µs, lowest run: steadier than wall time on a busy machine.
   */
  readonly cpuUs: number | null;
  readonly error?: string;
}

/** One side of the comparison: how to submit N trivial tasks and one task. */
interface Side {
  readonly impl: string;
  /** Runs `n` tasks at once; resolves when all results are back (checked). */
  burst(n: number): Promise<void>;
  /** Runs one task; resolves with its result. */
  one(x: number): Promise<number>;
  close(): Promise<void>;
}

function executorSide(impl: string, executor: Executor): Side {
  return {
    impl,
    async burst(n) {
      const futures = Array.from({ length: n }, (_, i) => executor.submit((x: number) => x + 1, i));
      const values = await Promise.all(futures);
      if (values[n - 1] !== n) throw new Error(`${impl}: wrong result ${values[n - 1]}`);
    },
    one: (x) => executor.submit((v: number) => v + 1, x).result(),
    close: () => executor.shutdown(),
  };
}

/** Raw BullMQ: addBulk, and the results from QueueEvents, as a user of BullMQ alone would write it. */
async function rawSide(impl: string, port: number, queueName: string): Promise<Side> {
  const connection = { host: '127.0.0.1', port };
  // The event stream as long as DistributedExecutor keeps it: BullMQ's default (10 000 events) lost
  // completions here when the machine was busy, and a raw user has nothing to catch them up.
  const queue = new Queue(queueName, { connection, streams: { events: { maxLen: 50_000 } }, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  const events = new QueueEvents(queueName, { connection });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const waiting = new Map<string, (value: number) => void>();
  events.on('completed', ({ jobId, returnvalue }) => {
    const resolve = waiting.get(jobId);
    waiting.delete(jobId);
    resolve?.(Number(returnvalue));
  });
  let seq = 0;
  // Job ids chosen here, so that an event is never earlier than its waiter (as DistributedExecutor does).
  const add = (xs: number[]): Array<Promise<number>> => {
    const jobs = xs.map((x) => ({ name: 'task', data: { x }, opts: { jobId: `raw-${++seq}` } }));
    const results = jobs.map((job) => new Promise<number>((resolve) => waiting.set(job.opts.jobId, resolve)));
    void queue.addBulk(jobs);
    return results;
  };
  return {
    impl,
    async burst(n) {
      const results: Array<Promise<number>> = [];
      for (let i = 0; i < n; i += 1000) results.push(...add(Array.from({ length: Math.min(1000, n - i) }, (_, k) => i + k)));
      const values = await Promise.all(results);
      if (values[n - 1] !== n) throw new Error(`raw BullMQ: wrong result ${values[n - 1]}`);
    },
    one: (x) => add([x])[0],
    async close() {
      await events.close();
      await queue.close();
    },
  };
}

/** Starts a worker process (`nodeFlags` before its script); resolves once it says it serves. */
export function startWorker(args: string[], ready: RegExp, env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--require', TSX, ...nodeFlags, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return within(
    new Promise<ChildProcess>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (ready.test(output)) resolve(child);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${output.trim()}`)));
    }),
    START_LIMIT_MS,
    `worker ${args.join(' ')}`,
  );
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Runs the benchmark; prints the table (or why it was skipped) and returns the rows. */
export async function runDistributedBench(options: { readonly quick: boolean }, print: (text: string) => void): Promise<DistributedRow[]> {
  if (!redisServerAvailable()) {
    print('distributed: skipped, redis-server is not installed (Debian: apt-get install -y redis-server)');
    return [];
  }
  const n = options.quick ? 1000 : 5000;
  const oneCount = options.quick ? 50 : 200;
  const reps = options.quick ? 1 : 3;
  const redis = await RedisServer.start();
  const workers: ChildProcess[] = [];
  const sides: Side[] = [];
  /** [threadkit side, the raw side it is held against]. */
  let pairs: Array<[Side, Side]> = [];
  try {
    const env = { ...process.env, THREADKIT_SECRET: SECRET, THREADKIT_REDIS: redis.url };
    const starts: Array<Promise<ChildProcess>> = [];
    for (let w = 0; w < WORKERS; w++) {
      starts.push(startWorker([CLI, 'worker', '--queue', 'bench-processes', '--concurrency', String(CONCURRENCY)], /serving queue/, env));
      starts.push(startWorker([CLI, 'worker', '--queue', 'bench-threads', '--concurrency', String(CONCURRENCY), '--threads'], /serving queue/, env));
      for (const mode of ['inline', 'processes', 'threads']) {
        starts.push(startWorker([RAW_WORKER, String(redis.port), `bench-raw-${mode}`, String(CONCURRENCY), mode], /ready/, env));
      }
    }
    for (const start of starts) workers.push(await start);
    const rawProcesses = await rawSide('raw BullMQ, sandboxed processes', redis.port, 'bench-raw-processes');
    const rawThreads = await rawSide('raw BullMQ, sandboxed threads', redis.port, 'bench-raw-threads');
    const processes = executorSide('DistributedExecutor, worker processes', new DistributedExecutor({ connection: redis.url, queue: 'bench-processes', secret: SECRET }));
    const threads = executorSide('DistributedExecutor, worker threads (--threads)', new DistributedExecutor({ connection: redis.url, queue: 'bench-threads', secret: SECRET }));
    sides.push(rawProcesses, processes, rawThreads, threads, await rawSide('raw BullMQ, inline (main thread)', redis.port, 'bench-raw-inline'));
    sides.push(executorSide(`ProcessPoolExecutor (${WORKERS * CONCURRENCY} processes, no Redis)`, new ProcessPoolExecutor({ maxWorkers: WORKERS * CONCURRENCY })));
    pairs = [[processes, rawProcesses], [threads, rawThreads]];
    const best = new Map<Side, number>();
    const cpu = new Map<Side, number>();
    const errors = new Map<Side, string>();
    for (const side of sides) {
      try {
        // Warm: every worker slot and every local pool process started, and as many tasks as a
        // measured run, so that V8 has optimized each side's code before it is timed (its first
        // few thousand calls of a function run unoptimized; the side with more code per task would
        // otherwise be measured mostly in that state).
        await within(side.burst(n), RUN_LIMIT_MS, `${side.impl} warm-up`);
      } catch (error) {
        errors.set(side, (error as Error).message);
      }
    }
    for (let rep = 0; rep < reps; rep++) {
      for (const side of sides) {
        if (errors.has(side)) continue;
        let sample;
        try {
          ({ sample } = await measure(() => within(side.burst(n), RUN_LIMIT_MS, side.impl)));
        } catch (error) {
          errors.set(side, (error as Error).message);
          continue;
        }
        best.set(side, Math.max(best.get(side) ?? 0, n / (sample.wallMs / 1000)));
        cpu.set(side, Math.min(cpu.get(side) ?? Infinity, (sample.cpuMs * 1000) / n));
      }
    }
    // Round trips interleaved, one of each side in turn: a change of the machine's load between
    // the sides' turns would otherwise show as a difference between them.
    const times = new Map<Side, number[]>(sides.map((side) => [side, []]));
    for (let i = 0; i < oneCount; i++) {
      for (const side of sides) {
        if (errors.has(side)) continue;
        const started = performance.now();
        try {
          await within(side.one(i), RUN_LIMIT_MS, `${side.impl} round trip`);
        } catch (error) {
          errors.set(side, (error as Error).message);
          continue;
        }
        times.get(side)!.push(performance.now() - started);
      }
    }
    const roundTrips = new Map<Side, number>();
    for (const side of sides) if (!errors.has(side)) roundTrips.set(side, median(times.get(side)!));
    const row = (side: Side): DistributedRow => ({
      impl: side.impl,
      throughput: best.get(side) ?? null,
      roundTripMs: roundTrips.get(side) ?? null,
      cpuUs: cpu.get(side) ?? null,
      ...(errors.has(side) && { error: errors.get(side) }),
    });
    const rows = sides.map(row);
    print(report(rows, pairs.map(([tk, raw]) => [row(tk), row(raw)]), n, options.quick));
    return rows;
  } finally {
    await Promise.allSettled(sides.map((side) => side.close()));
    await Promise.allSettled(workers.map(stopWorker));
    await redis.stop();
  }
}

function report(rows: readonly DistributedRow[], pairs: ReadonlyArray<[DistributedRow, DistributedRow]>, n: number, quick: boolean): string {
  const table = textTable(
    ['implementation', 'tasks/s', 'round trip ms', 'CPU µs/task'],
    rows.map((r) => [r.error ? `${r.impl} (error: ${r.error})` : r.impl, num(r.throughput), num(r.roundTripMs), num(r.cpuUs)]),
    ['l', 'r', 'r', 'r'],
  );
  const goal = pairs.map(([tk, raw]) => {
    const t = tk.throughput && raw.throughput ? raw.throughput / tk.throughput : NaN;
    const rt = tk.roundTripMs && raw.roundTripMs ? tk.roundTripMs / raw.roundTripMs : NaN;
    const c = tk.cpuUs && raw.cpuUs ? tk.cpuUs / raw.cpuUs : NaN;
    const met = t <= GOAL && rt <= GOAL;
    return `  ${tk.impl} vs ${raw.impl}: ${met ? 'met' : 'missed'} (time per task ${t.toFixed(2)}×, round trip ${rt.toFixed(2)}×; goal ≤ ${GOAL}×; CPU per task ${c.toFixed(2)}×)`;
  });
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return [
    `Distributed: ${n} trivial tasks (x + 1) at once, best of ${quick ? 1 : 3}; one-task round trip, median; ` +
      `${WORKERS} worker processes × ${CONCURRENCY} slots on a local redis-server; load average ${load}`,
    table,
    "Goal: the executor's overhead over raw BullMQ ≤ 20 %",
    ...goal,
  ].join('\n');
}

if (require.main === module) {
  runDistributedBench({ quick: process.argv.includes('--quick') }, (text) => process.stdout.write(`${text}\n`)).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
