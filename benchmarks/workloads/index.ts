/**
 * The workloads of the main benchmark: what each task does, how many tasks, and their sizes.
 *
 * A workload is a list of independent tasks (the same task function with one argument each). The
 * CPU-bound set keeps a core busy per task; the IO-bound set mostly waits — on timers, on a local
 * HTTP server that answers after a delay (network latency), on files, or on a blocking call that
 * stalls its thread (a `sleep` process, or a plain `Atomics.wait`). CPython runs the same tasks
 * from benchmarks/python/workloads.py; its CPU sizes are smaller (CPython runs this code 5–60×
 * slower), so compare its speedups, not its wall times.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TaskName } from './tasks';

/** Which set a workload belongs to. */
export type WorkloadSet = 'cpu' | 'io';

/** What the workloads' arguments are built from (made by {@link setUpFixtures}). */
export interface Fixtures {
  /** Temporary files for the file-read workload, one per task. */
  readonly files: readonly string[];
  /** URL of the delayed HTTP server. */
  readonly url: string;
}

/** One workload: `count` calls of `task`, argument `args(fixtures)[i]` for call i. */
export interface Workload {
  readonly name: string;
  readonly set: WorkloadSet;
  readonly task: TaskName;
  /** One line for the report. */
  readonly description: string;
  readonly count: number;
  /** Node arguments, one per task. */
  args(fixtures: Fixtures): unknown[];
  /** CPython arguments, one per task (same as Node's for IO). */
  pyArgs(fixtures: Fixtures): unknown[];
}

/** Latency of one IO-bound task, ms (timer, server delay, blocking sleep). */
export const IO_LATENCY_MS = 50;
/** Size of each temporary file of the file-read workload. */
const FILE_BYTES = 16 * 1024 * 1024;

function repeat<T>(count: number, value: T): T[] {
  return Array.from({ length: count }, () => value);
}

/**
 * The workloads at full or quick size. CPU task sizes aim at ≈60 ms per task in Node (quick: ≈15 ms)
 * and ≈40 ms in CPython.
 */
export function workloads(quick: boolean): Workload[] {
  const cpuCount = quick ? 4 : 8;
  const ioCount = quick ? 8 : 16;
  const cpu = (name: string, task: TaskName, description: string, nodeSize: number, pySize: number): Workload => ({
    name, set: 'cpu', task, description, count: cpuCount,
    args: () => repeat(cpuCount, nodeSize),
    pyArgs: () => repeat(cpuCount, pySize),
  });
  const io = (name: string, task: TaskName, description: string, args: (f: Fixtures) => unknown[]): Workload => ({
    name, set: 'io', task, description, count: ioCount, args, pyArgs: args,
  });
  return [
    cpu('fib', 'fib', 'recursive Fibonacci (pure JS)', quick ? 32 : 34, quick ? 25 : 27),
    cpu('sieve', 'sieve', 'prime sieve (typed array)', quick ? 3_000_000 : 10_000_000, quick ? 300_000 : 1_000_000),
    cpu('sha256', 'sha256', 'chained SHA-256 of 64 KiB blocks (node:crypto)', quick ? 400 : 1500, quick ? 400 : 1500),
    io('timers', 'timer', `wait on a ${IO_LATENCY_MS} ms timer`, () => repeat(ioCount, IO_LATENCY_MS)),
    io('http', 'httpGet', `HTTP GET to 127.0.0.1, server answers after ${IO_LATENCY_MS} ms`, (f) => repeat(ioCount, f.url)),
    io('file-read', 'readFile', `read a ${FILE_BYTES / 1024 / 1024} MiB temp file (fs.promises)`, (f) => f.files.slice(0, ioCount)),
    io('blocking-sleep', 'blockingSleep', `execFileSync('sleep') for ${IO_LATENCY_MS} ms — blocks its thread, starts a process`, () => repeat(ioCount, IO_LATENCY_MS)),
    io('blocking-wait', 'blockingWait', `Atomics.wait for ${IO_LATENCY_MS} ms — blocks its thread, no CPU`, () => repeat(ioCount, IO_LATENCY_MS)),
  ];
}

/** The names of all workloads (for `--only`). */
export const WORKLOAD_NAMES = workloads(true).map((w) => w.name);

/** What {@link setUpFixtures} made, with the means to remove it. */
export interface FixtureHandle {
  readonly fixtures: Fixtures;
  tearDown(): Promise<void>;
}

/**
 * Creates the temporary files and starts the HTTP server (127.0.0.1, a free port). The server
 * answers every request after {@link IO_LATENCY_MS} without blocking its event loop, so
 * concurrent requests overlap as they would against a remote service.
 */
export async function setUpFixtures(fileCount: number): Promise<FixtureHandle> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadkit-bench-'));
  const block = Buffer.alloc(FILE_BYTES, 'threadkit\n');
  const files = Array.from({ length: fileCount }, (_, i) => {
    const file = path.join(dir, `file-${i}.txt`);
    fs.writeFileSync(file, block);
    return file;
  });
  const body = Buffer.alloc(1024, 'x');
  const server = http.createServer((_request, response) => {
    setTimeout(() => response.end(body), IO_LATENCY_MS);
  });
  // A new connection per request: without this a lingering keep-alive socket would hold close().
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    fixtures: { files, url: `http://127.0.0.1:${port}/` },
    async tearDown() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
