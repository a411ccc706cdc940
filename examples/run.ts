/**
 * Lists the examples, or runs one: `npx tsx examples/run.ts [name] [args…]`
 * (e.g. `npx tsx examples/run.ts threading-semaphore`). Each example also runs alone with
 * `npx tsx examples/<name>.ts`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Every example, with the seed section it ports. */
export const EXAMPLES: Record<string, string> = {
  'threading-thread-target': 'seed 001 §5 — create a thread with a target function',
  'threading-thread-subclass': 'seed 001 §5 — create a thread by subclassing Thread and overriding run()',
  'coroutines': 'seed 001 §11 — coroutines: greenlet and gevent, as generators and async functions; many downloads on one thread',
  'futures-executors': 'seed 001 §12 — ProcessPoolExecutor/ThreadPoolExecutor: submit, add_done_callback, shutdown, map',
  'io-models': 'seed 001 §13 — the five IO models (blocking, non-blocking, multiplexing, signal-driven, asynchronous) in Node',
  'threading-semaphore': 'seed 001 §14 — Semaphore(5) with 23 threads',
  'threading-event': 'seed 001 §15 — Event: the MySQL-connection check',
  'threading-timer': 'seed 001 §16 — Timer: run a function after a delay',
  'threading-rlock': 'seed 001 §17 — RLock and the deadlock it avoids',
  'gil-io-vs-cpu': 'seed 001 §18 — the GIL lesson: IO-bound vs CPU-bound work, in Node',
  'multiprocessing-pool': 'seed 003 — Pool: apply, apply_async, map, close, join',
  'multiprocessing-process-target': 'seeds 000, 001 §5, 004 — create a child process with a target function',
  'multiprocessing-process-subclass': 'seeds 001 §5, 002, 003, 004 — create a child process by subclassing Process',
  'multiprocessing-process-join': 'seed 002 — join: wait for the child to end (and reap it)',
  'multiprocessing-process-attributes': 'seeds 001 §6-7, 002, 003 — name, pid, ppid, isAlive, exitcode',
  'multiprocessing-process-terminate': 'seed 002 — terminate: alive right after, ended after join, exitcode -15',
  'multiprocessing-daemon': 'seeds 001 §4, 002, 003 — a daemon child ends with the main process',
  'multiprocessing-zombie': 'seeds 003, 004 — zombies: a finished child is reaped without join',
  'multiprocessing-orphan': 'seeds 001 §3, 002, 004 — an orphan is adopted when its parent dies first',
  'multiprocessing-signals': 'seed 003 — signals: kill -l, process.kill(pid, sig), handlers in the child',
  'multiprocessing-tickets-join': 'seed 002 — grabbing tickets from a JSON db, one process at a time (join)',
  'multiprocessing-lock': 'seed 001 §8 — mutex: three processes print under one multiprocessing Lock',
  'multiprocessing-tickets-lock': 'seed 002 §6 — grabbing tickets, 15 processes at once, get() under a Lock (--no-lock: oversold)',
  'multiprocessing-value': 'seed 003 — shared memory: Value (deposits and spending under its lock, a float overwritten)',
  'multiprocessing-array': 'seed 003 — shared memory: Array (a child reads and changes it, zeros, bytes as text)',
  'multiprocessing-queue': 'seeds 001 §9, 003 — Queue(3) full/empty; a message queue between processes (put, get with a timeout, close)',
  'multiprocessing-joinable-queue': 'seed 001 §10 — JoinableQueue: 3 producers, 2 daemon consumers, taskDone/join',
  'multiprocessing-pipe': 'seed 003 — Pipe: duplex and one-way pipes between processes, recv until EOFError',
};

const [name, ...rest] = process.argv.slice(2);
if (!name) {
  for (const [example, what] of Object.entries(EXAMPLES)) console.log(`${example.padEnd(28)} ${what}`);
} else {
  const file = path.join(__dirname, `${name}.ts`);
  if (!(name in EXAMPLES) || !fs.existsSync(file)) {
    console.error(`unknown example ${JSON.stringify(name)}; run without arguments for the list`);
    process.exit(2);
  }
  const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), file, ...rest], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
