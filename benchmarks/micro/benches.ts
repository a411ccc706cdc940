/**
 * The micro benchmarks: each measures one cost of threadkit and the same cost of its peers
 * (CPython's threading and concurrent.futures, piscina, workerpool, tinypool, async-mutex), in
 * the same run, so the report can print them side by side as ratios.
 *
 * Every cross-thread benchmark coordinates through shared memory, and every blocking wait has a
 * deadline, so a broken primitive shows up as an error row instead of a hung run.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Mutex } from 'async-mutex';
import Piscina from 'piscina';
import * as workerpool from 'workerpool';
import type { Event as TkEvent, Lock as TkLock, Semaphore as TkSemaphore } from 'threadkit/threading';
import type { Executor } from 'threadkit/futures';
import { median } from '../lib/measure';
import type { MicroBench, MicroRow } from '../lib/results';
import { TASKS_PATH, futures, reason, targets, threading } from '../lib/threadkit';
import { fib } from '../workloads/tasks';
import { SHUTDOWN_LIMIT_MS, within } from '../lib/within';
import type { MicroSizes } from './sizes';
import { PROCESS_MICRO } from './process';
import { shmMicro } from './shm';
import { THREAD_START } from './thread-start';
import { queueMicro } from './queues';

/** What a benchmark gets: sizes, pool size, and the CPython numbers measured before it. */
export interface MicroContext {
  readonly sizes: MicroSizes;
  readonly workers: number;
  readonly quick: boolean;
  /** CPython results by micro.py name (lock, event, …), absent when python3 is missing or skipped. */
  readonly python: Readonly<Record<string, Record<string, number | boolean>>> | null;
  /** Runs `tsx benchmarks/micro/child.ts args…` and parses its JSON. */
  child(args: readonly string[]): Promise<Record<string, number>>;
}

export interface MicroDef extends Omit<MicroBench, 'rows'> {
  /** micro.py benchmark names this one needs. */
  readonly python: readonly string[];
  run(ctx: MicroContext): Promise<MicroRow[]>;
}

const TRIVIAL_WORKER = path.resolve(__dirname, '../peers/trivial.cjs');
const WORKERPOOL_TRIVIAL = path.resolve(__dirname, '../peers/workerpool-trivial.cjs');
const PISCINA_TASKS = path.resolve(__dirname, '../peers/piscina-tasks.cjs');
const CEILING = path.resolve(__dirname, '../peers/ceiling.cjs');
/** Longest any single cross-thread wait may take before the benchmark gives up (ms). */
export const WAIT_LIMIT_MS = 30_000;

/** Longest one row's measurement may take before it counts as hung. */
const ROW_LIMIT_MS = 180_000;

/** One row: runs `measure`, or records why it could not (an error, or no answer in ROW_LIMIT_MS). */
export async function row(bench: string, impl: string, isThreadkit: boolean, measure: () => Promise<number | null> | number | null, note?: string): Promise<MicroRow> {
  try {
    const value = await within(Promise.resolve().then(measure), ROW_LIMIT_MS, `${impl} (${bench})`);
    return { bench, impl, threadkit: isThreadkit, value, ...(note ? { note } : {}) };
  } catch (error) {
    return { bench, impl, threadkit: isThreadkit, value: null, error: reason(error) };
  }
}

/** A CPython row from micro.py's output (`field` of benchmark `name`). */
export function py(ctx: MicroContext, bench: string, impl: string, name: string, field: string): Promise<MicroRow> | null {
  if (!ctx.python) return null;
  return row(bench, impl, false, () => {
    const value = ctx.python?.[name]?.[field];
    if (typeof value !== 'number') throw new Error(`micro.py gave no ${name}.${field}`);
    return value;
  });
}

/** Rows are built lazily so that each measurement starts only after the previous one ended. */
export function sequence(...makers: Array<() => Promise<MicroRow> | null>): Promise<MicroRow[]> {
  return (async () => {
    const out: MicroRow[] = [];
    for (const make of makers) {
      const r = make();
      if (r) out.push(await r);
    }
    return out;
  })();
}

export function waitOk(ok: boolean, what: string): void {
  if (!ok) throw new Error(`${what} timed out after ${WAIT_LIMIT_MS} ms`);
}

/** Problems that did not spoil a measurement (a pool that would not shut down); runMicro reports them. */
export const warnings: string[] = [];

function warn(error: unknown): void {
  const text = reason(error);
  if (!warnings.includes(text)) warnings.push(text);
}

// ── executors shared by several benchmarks ───────────────────────────────────────────────────

type Kind = 'threads' | 'processes';

async function withExecutor<T>(kind: Kind, workers: number, use: (executor: Executor) => Promise<T>): Promise<T> {
  const { ThreadPoolExecutor, ProcessPoolExecutor } = await futures();
  const executor = kind === 'threads' ? new ThreadPoolExecutor({ maxWorkers: workers }) : new ProcessPoolExecutor({ maxWorkers: workers });
  try {
    // Warm: start every worker before timing.
    await Promise.all(Array.from({ length: workers }, (_, i) => executor.submit((x: number) => x + 1, i).result()));
    return await use(executor);
  } finally {
    await within(executor.shutdown({ wait: true }), SHUTDOWN_LIMIT_MS, `${kind === 'threads' ? 'ThreadPoolExecutor' : 'ProcessPoolExecutor'} shutdown`).catch(warn);
  }
}

const inc = (x: number): number => x + 1;

async function inFlight(executor: Executor, n: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => executor.submit(inc, i).result()));
  return n / ((performance.now() - t0) / 1000);
}

interface Peer {
  run(x: number): Promise<number>;
  close(): Promise<void>;
}

async function withPeer<T>(name: 'piscina' | 'workerpool' | 'tinypool', workers: number, use: (peer: Peer) => Promise<T>): Promise<T> {
  let peer: Peer;
  if (name === 'piscina') {
    const pool = new Piscina({ filename: TRIVIAL_WORKER, minThreads: workers, maxThreads: workers, execArgv: [] });
    peer = { run: (x) => pool.run(x) as Promise<number>, close: () => pool.destroy() };
  } else if (name === 'workerpool') {
    const pool = workerpool.pool(WORKERPOOL_TRIVIAL, { minWorkers: workers, maxWorkers: workers, workerType: 'thread', workerThreadOpts: { execArgv: [] } });
    peer = { run: (x) => pool.exec('inc', [x]) as unknown as Promise<number>, close: async () => void (await pool.terminate()) };
  } else {
    const { Tinypool } = await import('tinypool');
    const pool = new Tinypool({ filename: TRIVIAL_WORKER, minThreads: workers, maxThreads: workers, execArgv: [] });
    peer = { run: (x) => pool.run(x) as Promise<number>, close: () => pool.destroy() };
  }
  try {
    await Promise.all(Array.from({ length: workers }, (_, i) => peer.run(i)));
    return await use(peer);
  } finally {
    await within(peer.close(), SHUTDOWN_LIMIT_MS, `${name} shutdown`).catch(warn);
  }
}

async function peerInFlight(peer: Peer, n: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => peer.run(i)));
  return n / ((performance.now() - t0) / 1000);
}

// ── one task at a time ───────────────────────────────────────────────────────────────────────

/** One contender of a latency benchmark: runs one trivial task and resolves when it is back. */
interface LatencySide {
  readonly impl: string;
  readonly threadkit: boolean;
  one(i: number): Promise<unknown>;
  close(): Promise<void>;
}

/** Rounds of a latency session: each side runs latencyTasks / LATENCY_ROUNDS tasks per round. */
const LATENCY_ROUNDS = 10;

/**
 * The round trip of one task at a time, every side measured in the same interleaved rounds (the
 * order rotating) and the median round kept: a round trip is tens of microseconds, which other work
 * on a shared machine changes from one second to the next, so sides measured one after the other
 * are not comparable; measured in the same rounds, their ratios are.
 */
async function latencySession(bench: string, ctx: MicroContext, open: Array<() => Promise<LatencySide>>): Promise<MicroRow[]> {
  const sides: LatencySide[] = [];
  const opened: Array<{ impl: string; threadkit: boolean; error: string }> = [];
  for (const make of open) {
    try {
      const side = await make();
      // Warm: every worker started, then enough round trips for the JIT (see sizes.ts).
      await Promise.all(Array.from({ length: ctx.workers }, (_, i) => side.one(i)));
      for (let i = 0; i < ctx.sizes.latencyWarm; i++) await side.one(i);
      sides.push(side);
    } catch (error) {
      opened.push({ impl: `side ${opened.length + sides.length + 1}`, threadkit: false, error: reason(error) });
    }
  }
  const perRound = Math.max(1, Math.floor(ctx.sizes.latencyTasks / LATENCY_ROUNDS));
  const times = sides.map(() => [] as number[]);
  const rows: MicroRow[] = [];
  try {
    for (let round = 0; round < LATENCY_ROUNDS; round++) {
      for (let k = 0; k < sides.length; k++) {
        const i = (k + round) % sides.length;
        const t0 = performance.now();
        await within((async () => {
          for (let n = 0; n < perRound; n++) await sides[i].one(n);
        })(), ROW_LIMIT_MS, `${sides[i].impl} (${bench})`);
        times[i].push(((performance.now() - t0) * 1000) / perRound);
      }
    }
    sides.forEach((side, i) => rows.push({ bench, impl: side.impl, threadkit: side.threadkit, value: median(times[i]), note: `median of ${LATENCY_ROUNDS} interleaved rounds` }));
  } catch (error) {
    rows.push({ bench, impl: sides[0]?.impl ?? bench, threadkit: true, value: null, error: reason(error) });
  } finally {
    for (const side of sides) await within(side.close(), SHUTDOWN_LIMIT_MS, `${side.impl} shutdown`).catch(warn);
  }
  for (const failed of opened) rows.push({ bench, impl: failed.impl, threadkit: failed.threadkit, value: null, error: failed.error });
  return rows;
}

async function executorLatencySide(kind: Kind, workers: number): Promise<LatencySide> {
  const { ThreadPoolExecutor, ProcessPoolExecutor } = await futures();
  const executor = kind === 'threads' ? new ThreadPoolExecutor({ maxWorkers: workers }) : new ProcessPoolExecutor({ maxWorkers: workers });
  return {
    impl: kind === 'threads' ? 'threadkit ThreadPoolExecutor' : 'threadkit ProcessPoolExecutor',
    threadkit: true,
    one: (i) => executor.submit(inc, i).result(),
    close: () => executor.shutdown({ wait: true }),
  };
}

async function peerLatencySide(name: 'piscina' | 'workerpool' | 'tinypool', workers: number): Promise<LatencySide> {
  if (name === 'piscina') {
    const pool = new Piscina({ filename: TRIVIAL_WORKER, minThreads: workers, maxThreads: workers, execArgv: [] });
    return { impl: 'piscina (raw)', threadkit: false, one: (x) => pool.run(x), close: () => pool.destroy() };
  }
  if (name === 'workerpool') {
    const pool = workerpool.pool(WORKERPOOL_TRIVIAL, { minWorkers: workers, maxWorkers: workers, workerType: 'thread', workerThreadOpts: { execArgv: [] } });
    return { impl: 'workerpool', threadkit: false, one: (x) => pool.exec('inc', [x]) as unknown as Promise<number>, close: async () => void (await pool.terminate()) };
  }
  const { Tinypool } = await import('tinypool');
  const pool = new Tinypool({ filename: TRIVIAL_WORKER, minThreads: workers, maxThreads: workers, execArgv: [] });
  return { impl: 'tinypool', threadkit: false, one: (x) => pool.run(x), close: () => pool.destroy() };
}

// ── CPU-bound speedup ────────────────────────────────────────────────────────────────────────

/** One contender of a speedup benchmark: runs all the CPU tasks, once per call. */
interface CpuSide {
  readonly impl: string;
  readonly threadkit: boolean;
  readonly note?: string;
  /** The no-pool ceiling: threadkit's rows say how close they came to it. */
  readonly ceiling?: boolean;
  run(): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Speedup over serial of every side, measured in one interleaved session: each round runs the
 * tasks serially here, then once on every side, the order of the sides rotating from round to
 * round; each keeps its best time (other work on the machine only ever slows a run down). On a
 * shared 2-core machine two busy cores run at a varying fraction of one idle core's speed, so
 * sides measured minutes apart are not comparable; measured in the same rounds, they are, and the
 * no-pool ceiling rows show what the hardware allows at that moment.
 */
async function cpuSession(bench: string, ctx: MicroContext, open: Array<() => Promise<CpuSide>>): Promise<MicroRow[]> {
  const { fib: n, cpuTasks } = ctx.sizes;
  const sides: CpuSide[] = [];
  const rows: MicroRow[] = [];
  try {
    for (const make of open) sides.push(await make());
    // Warm: every worker started, the task module loaded and the function compiled.
    for (const side of sides) await within(side.run(), ROW_LIMIT_MS, `${side.impl} (${bench} warm-up)`);
    let serial = Infinity;
    const best = sides.map(() => Infinity);
    for (let round = 0; round < ctx.sizes.cpuRounds; round++) {
      let t0 = performance.now();
      for (let i = 0; i < cpuTasks; i++) fib(n);
      serial = Math.min(serial, performance.now() - t0);
      for (let k = 0; k < sides.length; k++) {
        const i = (k + round) % sides.length;
        t0 = performance.now();
        await within(sides[i].run(), ROW_LIMIT_MS, `${sides[i].impl} (${bench})`);
        best[i] = Math.min(best[i], performance.now() - t0);
      }
    }
    const ceiling = sides.findIndex((side) => side.ceiling);
    sides.forEach((side, i) => {
      const ofCeiling = side.threadkit && ceiling !== -1 ? `${Math.round((100 * best[ceiling]) / best[i])}% of the ceiling` : undefined;
      const note = [side.note, ofCeiling].filter(Boolean).join('; ');
      rows.push({ bench, impl: side.impl, threadkit: side.threadkit, value: serial / best[i], ...(note ? { note } : {}) });
    });
  } catch (error) {
    rows.push({ bench, impl: sides[0]?.impl ?? bench, threadkit: true, value: null, error: reason(error) });
  } finally {
    for (const side of sides) await within(side.close(), SHUTDOWN_LIMIT_MS, `${side.impl} shutdown`).catch(warn);
  }
  return rows;
}

/** threadkit's executor of `kind` running every CPU task as its own submit. */
async function executorSide(kind: Kind, ctx: MicroContext): Promise<CpuSide> {
  const { ThreadPoolExecutor, ProcessPoolExecutor } = await futures();
  const { fromModule } = await targets();
  const { fib: n, cpuTasks } = ctx.sizes;
  const executor = kind === 'threads' ? new ThreadPoolExecutor({ maxWorkers: ctx.workers }) : new ProcessPoolExecutor({ maxWorkers: ctx.workers });
  const target = fromModule<[number], number>(TASKS_PATH, 'fib');
  return {
    impl: kind === 'threads' ? 'threadkit ThreadPoolExecutor' : 'threadkit ProcessPoolExecutor',
    threadkit: true,
    note: `${cpuTasks} × fib(${n}), ${ctx.workers} workers, best of ${ctx.sizes.cpuRounds} rounds`,
    run: () => Promise.all(Array.from({ length: cpuTasks }, () => executor.submit(target, n).result())),
    close: () => executor.shutdown({ wait: true }),
  };
}

async function piscinaSide(ctx: MicroContext): Promise<CpuSide> {
  const { fib: n, cpuTasks } = ctx.sizes;
  const pool = new Piscina({ filename: PISCINA_TASKS, minThreads: ctx.workers, maxThreads: ctx.workers, execArgv: [] });
  return {
    impl: 'piscina (raw)',
    threadkit: false,
    run: () => Promise.all(Array.from({ length: cpuTasks }, () => pool.run({ name: 'fib', arg: n }))),
    close: () => pool.destroy(),
  };
}

/**
 * The ceiling: `workers` plain worker threads or child processes, each sent its share of the tasks
 * in one message — no pool, no queue, no per-task message; what two cores give this work now.
 */
async function ceilingSide(kind: Kind, ctx: MicroContext): Promise<CpuSide> {
  const { fib: n, cpuTasks } = ctx.sizes;
  const { Worker } = await import('node:worker_threads');
  const { fork } = await import('node:child_process');
  type Channel = { send(task: object): void; once(event: 'message', listener: (value: unknown) => void): unknown; end(): Promise<unknown> };
  const channels: Channel[] = Array.from({ length: ctx.workers }, (): Channel => {
    if (kind === 'threads') {
      const worker = new Worker(CEILING, { execArgv: [] });
      return { send: (task) => worker.postMessage(task), once: (e, l) => worker.once(e, l), end: () => worker.terminate() };
    }
    const child = fork(CEILING, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    return {
      send: (task) => child.send(task),
      once: (e, l) => child.once(e, l),
      end: () => {
        child.kill();
        return exited;
      },
    };
  });
  const share = (i: number): number => Math.floor(cpuTasks / ctx.workers) + (i < cpuTasks % ctx.workers ? 1 : 0);
  return {
    impl: kind === 'threads' ? 'plain worker_threads, no pool (ceiling)' : 'plain child processes, no pool (ceiling)',
    threadkit: false,
    note: 'one message per worker with its share of the tasks',
    ceiling: true,
    run: () => Promise.all(channels.map((channel, i) => new Promise((resolve) => {
      channel.once('message', resolve);
      channel.send({ name: 'fib', arg: n, count: share(i) });
    }))),
    close: async () => void (await Promise.all(channels.map((channel) => channel.end()))),
  };
}

// ── the benchmarks ───────────────────────────────────────────────────────────────────────────

export const MICRO: readonly MicroDef[] = [
  {
    id: 'lock-sync', title: 'Lock acquireSync()+release(), uncontended', unit: 'ns/op', better: 'lower', goal: { op: '≤', value: 30 }, python: ['lock'],
    run: (ctx) => sequence(
      () => row('lock-sync', 'threadkit Lock', true, async () => {
        const { Lock } = await threading();
        const lock = new Lock();
        const n = ctx.sizes.lockOps;
        for (let i = 0; i < n / 10; i++) { lock.acquireSync(); lock.release(); } // JIT warm-up
        const t0 = performance.now();
        for (let i = 0; i < n; i++) { lock.acquireSync(); lock.release(); }
        return ((performance.now() - t0) * 1e6) / n;
      }),
      () => py(ctx, 'lock-sync', 'CPython threading.Lock', 'lock', 'nsPerOp'),
    ),
  },
  {
    id: 'lock-async', title: 'await acquire()+release(), uncontended', unit: 'ns/op', better: 'lower', python: [],
    run: (ctx) => sequence(
      () => row('lock-async', 'threadkit Lock', true, async () => {
        const { Lock } = await threading();
        const lock = new Lock();
        const n = ctx.sizes.asyncLockOps;
        for (let i = 0; i < n / 10; i++) { await lock.acquire(); lock.release(); }
        const t0 = performance.now();
        for (let i = 0; i < n; i++) { await lock.acquire(); lock.release(); }
        return ((performance.now() - t0) * 1e6) / n;
      }),
      () => row('lock-async', 'async-mutex Mutex (one thread only)', false, async () => {
        const mutex = new Mutex();
        const n = ctx.sizes.asyncLockOps;
        for (let i = 0; i < n / 10; i++) (await mutex.acquire())();
        const t0 = performance.now();
        for (let i = 0; i < n; i++) (await mutex.acquire())();
        return ((performance.now() - t0) * 1e6) / n;
      }),
    ),
  },
  {
    id: 'event-pingpong', title: 'Event ping-pong round trip between two threads', unit: 'µs', better: 'lower', goal: { op: '≤', value: 5 }, python: ['event'],
    run: (ctx) => sequence(
      () => row('event-pingpong', 'threadkit Event', true, async () => {
        const { Thread, Event } = await threading();
        const ping = new Event(), pong = new Event();
        const n = ctx.sizes.pingPongs, warm = n; // as many untimed round trips first (the JIT)
        const thread = new Thread({
          target: (ping: TkEvent, pong: TkEvent, rounds: number, limit: number) => {
            pong.set(); // "I am running": main waits for this without blocking its event loop
            for (let i = 0; i < rounds; i++) {
              if (!ping.waitSync(limit)) throw new Error('ping never came');
              ping.clear();
              pong.set();
            }
          },
          args: [ping, pong, n + warm, WAIT_LIMIT_MS],
          daemon: true,
        });
        thread.start();
        try {
          waitOk(await pong.wait(WAIT_LIMIT_MS), 'thread start');
          pong.clear();
          let t0 = 0;
          for (let i = 0; i < n + warm; i++) {
            if (i === warm) t0 = performance.now();
            ping.set();
            waitOk(pong.waitSync(WAIT_LIMIT_MS), 'pong');
            pong.clear();
          }
          return ((performance.now() - t0) * 1000) / n;
        } finally {
          await thread.join(WAIT_LIMIT_MS);
        }
      }),
      () => py(ctx, 'event-pingpong', 'CPython threading.Event', 'event', 'usPerRoundTrip'),
    ),
  },
  {
    id: 'contended', title: '2 threads × increments under one Lock (time per increment)', unit: 'ns', better: 'lower', python: ['contended'],
    run: (ctx) => sequence(
      () => row('contended', 'threadkit Lock', true, async () => {
        const { Thread, Lock, Event, Semaphore } = await threading();
        const lock = new Lock(), go = new Event(), ready = new Semaphore(0);
        const counter = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
        const n = ctx.sizes.increments;
        const threads = [0, 1].map(() => new Thread({
          target: (lock: TkLock, counter: Int32Array, ready: TkSemaphore, go: TkEvent, n: number, limit: number) => {
            ready.release();
            if (!go.waitSync(limit)) throw new Error('go never came');
            for (let i = 0; i < n; i++) {
              lock.acquireSync();
              counter[0]++; // plain read-modify-write: only the lock makes it safe
              lock.release();
            }
          },
          args: [lock, counter, ready, go, n, WAIT_LIMIT_MS],
          daemon: true,
        }));
        for (const t of threads) t.start();
        try {
          for (const _ of threads) waitOk(await ready.acquire(WAIT_LIMIT_MS), 'thread start');
          const t0 = performance.now();
          go.set();
          for (const t of threads) waitOk(await t.join(WAIT_LIMIT_MS * 4), 'join');
          const elapsed = performance.now() - t0;
          if (counter[0] !== 2 * n) throw new Error(`lost updates: counter is ${counter[0]}, expected ${2 * n}`);
          return (elapsed * 1e6) / (2 * n);
        } finally {
          go.set();
          for (const t of threads) await t.join(WAIT_LIMIT_MS);
        }
      }, `${ctx.sizes.increments.toLocaleString('en-US')} increments per thread, counter checked`),
      () => py(ctx, 'contended', 'CPython threading.Lock', 'contended', 'nsPerIncrement'),
    ),
  },
  ...THREAD_START,
  {
    id: 'tpe-throughput', title: 'thread pool: trivial tasks, all in flight', unit: 'tasks/s', better: 'higher', goal: { op: '≥', value: 60_000 }, python: ['tpe'],
    run: (ctx) => sequence(
      () => row('tpe-throughput', 'threadkit ThreadPoolExecutor', true, () => withExecutor('threads', ctx.workers, (e) => inFlight(e, ctx.sizes.threadTasks))),
      () => row('tpe-throughput', 'piscina (raw)', false, () => withPeer('piscina', ctx.workers, (p) => peerInFlight(p, ctx.sizes.threadTasks))),
      () => row('tpe-throughput', 'workerpool', false, () => withPeer('workerpool', ctx.workers, (p) => peerInFlight(p, ctx.sizes.threadTasks))),
      () => row('tpe-throughput', 'tinypool', false, () => withPeer('tinypool', ctx.workers, (p) => peerInFlight(p, ctx.sizes.threadTasks))),
      () => py(ctx, 'tpe-throughput', 'CPython ThreadPoolExecutor', 'tpe', 'tasksPerSecond'),
    ),
  },
  {
    id: 'ppe-throughput', title: 'process pool: trivial tasks, all in flight', unit: 'tasks/s', better: 'higher', goal: { op: '≥', value: 16_000 }, python: ['ppe'],
    run: (ctx) => sequence(
      () => row('ppe-throughput', 'threadkit ProcessPoolExecutor', true, () => withExecutor('processes', ctx.workers, (e) => inFlight(e, ctx.sizes.processTasks))),
      () => py(ctx, 'ppe-throughput', 'CPython ProcessPoolExecutor', 'ppe', 'tasksPerSecond'),
    ),
  },
  {
    id: 'map-chunks', title: 'executor.map with chunksize 100, trivial items', unit: 'items/s', better: 'higher', goal: { op: '≥', value: 1_000_000, impl: 'threadkit ProcessPoolExecutor.map' }, python: ['map'],
    run: (ctx) => sequence(
      () => row('map-chunks', 'threadkit ProcessPoolExecutor.map', true, () => withExecutor('processes', ctx.workers, async (e) => {
        const n = ctx.sizes.mapItems;
        const t0 = performance.now();
        let count = 0;
        for await (const _ of e.map(inc, Array.from({ length: n }, (_, i) => i), { chunksize: 100 })) count++;
        if (count !== n) throw new Error(`map gave ${count} results for ${n} items`);
        return n / ((performance.now() - t0) / 1000);
      })),
      () => row('map-chunks', 'threadkit ThreadPoolExecutor.map', false, () => withExecutor('threads', ctx.workers, async (e) => {
        const n = ctx.sizes.mapItems;
        const t0 = performance.now();
        let count = 0;
        for await (const _ of e.map(inc, Array.from({ length: n }, (_, i) => i), { chunksize: 100 })) count++;
        if (count !== n) throw new Error(`map gave ${count} results for ${n} items`);
        return n / ((performance.now() - t0) / 1000);
      })),
      () => py(ctx, 'map-chunks', 'CPython ProcessPoolExecutor.map', 'map', 'itemsPerSecond'),
    ),
  },
  {
    id: 'latency-threads', title: 'thread pool: one trivial task at a time (round trip)', unit: 'µs', better: 'lower', python: ['latency'],
    run: async (ctx) => [
      ...(await latencySession('latency-threads', ctx, [
        () => executorLatencySide('threads', ctx.workers),
        () => peerLatencySide('piscina', ctx.workers),
        () => peerLatencySide('workerpool', ctx.workers),
        () => peerLatencySide('tinypool', ctx.workers),
      ])),
      ...(await sequence(() => py(ctx, 'latency-threads', 'CPython ThreadPoolExecutor', 'latency', 'threadsUs'))),
    ],
  },
  {
    id: 'latency-processes', title: 'process pool: one trivial task at a time (round trip)', unit: 'µs', better: 'lower', python: ['latency'],
    run: async (ctx) => [
      ...(await latencySession('latency-processes', ctx, [() => executorLatencySide('processes', ctx.workers)])),
      ...(await sequence(() => py(ctx, 'latency-processes', 'CPython ProcessPoolExecutor', 'latency', 'processesUs'))),
    ],
  },
  {
    id: 'cpu-threads', title: 'CPU-bound speedup over serial, thread pool', unit: '×', better: 'higher', goal: { op: '≥', value: 1.9 }, python: ['cpu'],
    run: async (ctx) => [
      ...(await cpuSession('cpu-threads', ctx, [() => executorSide('threads', ctx), () => piscinaSide(ctx), () => ceilingSide('threads', ctx)])),
      ...(await sequence(() => py(ctx, 'cpu-threads', 'CPython ThreadPoolExecutor', 'cpu', 'threadsSpeedup'))),
    ],
  },
  {
    id: 'cpu-processes', title: 'CPU-bound speedup over serial, process pool', unit: '×', better: 'higher', goal: { op: '≥', value: 1.9 }, python: ['cpu'],
    run: async (ctx) => [
      ...(await cpuSession('cpu-processes', ctx, [() => executorSide('processes', ctx), () => ceilingSide('processes', ctx)])),
      ...(await sequence(() => py(ctx, 'cpu-processes', 'CPython ProcessPoolExecutor', 'cpu', 'processesSpeedup'))),
    ],
  },
  {
    id: 'memory', title: 'peak RSS with 100 000 trivial tasks queued on a thread pool', unit: 'MB', better: 'lower', python: ['memory'],
    run: (ctx) => sequence(
      () => row('memory', 'threadkit ThreadPoolExecutor', true, async () => (await ctx.child(['memory-tpe', String(ctx.sizes.memoryTasks)])).peakRssMb, 'whole process (tsx loaded)'),
      () => row('memory', 'piscina (raw)', false, async () => (await ctx.child(['memory-piscina', String(ctx.sizes.memoryTasks)])).peakRssMb, 'whole process (tsx loaded)'),
      () => py(ctx, 'memory', 'CPython ThreadPoolExecutor', 'memory', 'peakRssMb'),
    ),
  },
  ...PROCESS_MICRO,
  ...shmMicro({ row, py, sequence }),
  ...queueMicro({ row, py, sequence }),
];

/** Runs benchmarks/micro/child.ts through tsx in a fresh process and parses the JSON it prints. */
export function runChild(args: readonly string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--require', require.resolve('tsx/cjs'), path.resolve(__dirname, 'child.ts'), ...args], { timeout: 120_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`child ${args[0]} failed: ${(stderr || error.message).trim().split('\n').slice(-1)[0]}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, number>);
      } catch {
        reject(new Error(`child ${args[0]} printed no JSON`));
      }
    });
  });
}

