/**
 * Measurements that need a fresh process, run as `tsx benchmarks/micro/child.ts <mode> [n]`; each
 * prints one JSON object on stdout.
 *
 *   memory-tpe <n>        peak RSS while n trivial tasks are queued on a ThreadPoolExecutor
 *   memory-piscina <n>    the same on raw piscina
 *
 * Peak RSS is the kernel's high-water mark (VmHWM), which only a fresh process makes meaningful.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import Piscina from 'piscina';
import { futures } from '../lib/threadkit';

function rssMb(field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux: fall through to what Node knows
  }
  return process.memoryUsage.rss() / 1024 / 1024;
}

async function memoryTpe(n: number): Promise<unknown> {
  const { ThreadPoolExecutor } = await futures();
  const workers = os.availableParallelism();
  const executor = new ThreadPoolExecutor({ maxWorkers: workers });
  try {
    await Promise.all(Array.from({ length: workers }, (_, i) => executor.submit((x: number) => x + 1, i).result()));
    const base = rssMb('VmRSS');
    const futures = Array.from({ length: n }, (_, i) => executor.submit((x: number) => x + 1, i));
    const queued = rssMb('VmRSS');
    await Promise.all(futures.map((f) => f.result()));
    return { baseRssMb: base, queuedRssMb: queued, peakRssMb: rssMb('VmHWM') };
  } finally {
    await executor.shutdown();
  }
}

async function memoryPiscina(n: number): Promise<unknown> {
  const workers = os.availableParallelism();
  const pool = new Piscina({ filename: path.resolve(__dirname, '../peers/trivial.cjs'), minThreads: workers, maxThreads: workers, execArgv: [] });
  try {
    await Promise.all(Array.from({ length: workers }, (_, i) => pool.run(i)));
    const base = rssMb('VmRSS');
    const pending = Array.from({ length: n }, (_, i) => pool.run(i) as Promise<number>);
    const queued = rssMb('VmRSS');
    await Promise.all(pending);
    return { baseRssMb: base, queuedRssMb: queued, peakRssMb: rssMb('VmHWM') };
  } finally {
    await pool.destroy();
  }
}

async function main(): Promise<void> {
  const [mode, count] = process.argv.slice(2);
  const n = Number(count ?? 100_000);
  const run = { 'memory-tpe': () => memoryTpe(n), 'memory-piscina': () => memoryPiscina(n) }[mode];
  if (!run) throw new TypeError(`expected a mode of memory-tpe or memory-piscina, got ${JSON.stringify(mode)}`);
  process.stdout.write(`${JSON.stringify(await run())}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
