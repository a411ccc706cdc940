/**
 * Seed 001, section 18 "GIL全局解释器锁" (the GIL): in CPython, threads for IO-bound work, processes
 * for CPU-bound work. This program measures the same two kinds of work in Node, where it comes out
 * differently: JavaScript has no GIL — each worker thread has its own engine instance — so threads
 * run CPU-bound code in parallel just as processes do; and for IO that does not block, one event
 * loop already overlaps every wait, so plain async code needs no thread at all.
 *
 *   npx tsx examples/gil-io-vs-cpu.ts
 *
 * (`npm run bench` measures this thoroughly, with more workloads and strategies.)
 */
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Thread } from 'threadkit/threading';
import { ProcessPoolExecutor, ThreadPoolExecutor, type Executor } from 'threadkit/futures';

const IO_TASKS = 8;
const IO_MS = 200;
const CPU_TASKS = 4;
const FIB_N = 30;

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

async function time(label: string, fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  console.log(`  ${label.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms`);
  return ms;
}

async function onPool(executor: Executor, fn: (n: number) => number, n: number, count: number): Promise<void> {
  try {
    await Promise.all(Array.from({ length: count }, () => executor.submit(fn, n).result()));
  } finally {
    await executor.shutdown();
  }
}

async function main(): Promise<void> {
  const cores = os.availableParallelism();
  console.log(`IO-bound: ${IO_TASKS} tasks that each wait ${IO_MS} ms`);
  const ioSerial = await time('serial (await one by one)', async () => {
    for (let i = 0; i < IO_TASKS; i++) await new Promise((r) => setTimeout(r, IO_MS));
  });
  const ioAsync = await time('async (Promise.all, one thread)', () =>
    Promise.all(Array.from({ length: IO_TASKS }, () => new Promise((r) => setTimeout(r, IO_MS)))));
  await time(`${IO_TASKS} threads (blocking sleep each)`, async () => {
    const threads = Array.from({ length: IO_TASKS }, () => new Thread({
      target: (ms: number) => (require('threadkit/threading') as typeof import('threadkit/threading')).sleepSync(ms),
      args: [IO_MS],
    }));
    threads.forEach((t) => t.start());
    for (const t of threads) await t.join();
  });

  console.log(`CPU-bound: ${CPU_TASKS} × fib(${FIB_N}) on ${cores} cores`);
  const cpuSerial = await time('serial', () => { for (let i = 0; i < CPU_TASKS; i++) fib(FIB_N); });
  const cpuAsync = await time('async (Promise.all, one thread)', () => Promise.all(Array.from({ length: CPU_TASKS }, async () => fib(FIB_N))));
  // Pools are started (and warmed) before timing, as a long-lived program would have them.
  const threads = new ThreadPoolExecutor({ maxWorkers: cores });
  const processes = new ProcessPoolExecutor({ maxWorkers: cores });
  await Promise.all([threads, processes].flatMap((e) => Array.from({ length: cores }, () => e.submit(fib, 20).result())));
  const cpuThreads = await time(`ThreadPoolExecutor(${cores})`, () => onPool(threads, fib, FIB_N, CPU_TASKS));
  const cpuProcesses = await time(`ProcessPoolExecutor(${cores})`, () => onPool(processes, fib, FIB_N, CPU_TASKS));

  console.log('Conclusion');
  console.log(`  IO-bound: async on one thread was ${(ioSerial / ioAsync).toFixed(1)}× faster than serial — the event loop overlaps the waits;`);
  console.log('    threads pay off only when the IO blocks its thread (sync calls), as in CPython.');
  console.log(`  CPU-bound: async gave ${(cpuSerial / cpuAsync).toFixed(1)}× (one thread runs one piece of JavaScript at a time);`);
  console.log(`    threads gave ${(cpuSerial / cpuThreads).toFixed(1)}× and processes ${(cpuSerial / cpuProcesses).toFixed(1)}× — no GIL, so threads run in parallel too.`);
}

void main();
