/**
 * The task functions of the main benchmark, one per workload.
 *
 * This module is loaded on the main thread (serial and async strategies) and inside every worker
 * thread and child process (threadkit's `fromModule` targets, piscina, workerpool), so that every
 * strategy runs exactly the same code. It imports only Node built-ins: loading it in a fresh worker
 * must stay cheap. Every task returns a number derived from its work, so the harness can check that
 * each strategy computed the same thing as the serial run.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFile as readFileAsync } from 'node:fs/promises';
import * as http from 'node:http';

/** CPU-bound: naive doubly-recursive Fibonacci (no allocation, pure JS execution). */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** CPU-bound: counts the primes below `limit` with a sieve of Eratosthenes (memory traffic). */
export function sieve(limit: number): number {
  const composite = new Uint8Array(limit);
  let count = 0;
  for (let i = 2; i < limit; i++) {
    if (composite[i] === 0) {
      count++;
      for (let j = i * i; j < limit; j += i) composite[j] = 1;
    }
  }
  return count;
}

/** Size of the buffer each hashing round digests. */
const HASH_BLOCK_BYTES = 64 * 1024;

/** CPU-bound in native code: `rounds` chained SHA-256 digests of a 64 KiB block (node:crypto, synchronous). */
export function sha256(rounds: number): number {
  const block = Buffer.alloc(HASH_BLOCK_BYTES, 7);
  let digest: Buffer = Buffer.alloc(32);
  for (let i = 0; i < rounds; i++) {
    digest = createHash('sha256').update(digest).update(block).digest();
  }
  return digest.readUInt32BE(0);
}

/** IO-bound, non-blocking: waits `ms` on a timer (stands for any awaited latency). */
export async function timer(ms: number): Promise<number> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
  return ms;
}

/** IO-bound, non-blocking: reads a whole file with fs.promises; returns its length in bytes. */
export async function readFile(path: string): Promise<number> {
  return (await readFileAsync(path)).length;
}

/** IO-bound, non-blocking: one HTTP GET (a new connection each time); returns the body length. */
export function httpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      let length = 0;
      response.on('data', (chunk: Buffer) => (length += chunk.length));
      response.on('end', () => resolve(length));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/**
 * IO-bound but blocking: runs `sleep` synchronously, as code that calls a blocking API
 * (execFileSync, readFileSync on a slow disk, a synchronous driver) does. The calling thread does
 * nothing else meanwhile — on the main thread, the event loop stops.
 */
export function blockingSleep(ms: number): number {
  execFileSync('sleep', [String(ms / 1000)]);
  return ms;
}

/** The word {@link blockingWait} waits on; nobody ever notifies it, so every wait runs to its timeout. */
const NEVER_NOTIFIED = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
const NEVER_NOTIFIED_SLOT = 0;

/**
 * Blocking without a process to start: `Atomics.wait` for `ms` — the calling thread sleeps in the
 * kernel, as in a synchronous call to a slow device or driver. Unlike {@link blockingSleep} it costs
 * no CPU, so it shows what blocking alone does to each strategy.
 */
export function blockingWait(ms: number): number {
  Atomics.wait(NEVER_NOTIFIED, NEVER_NOTIFIED_SLOT, 0, ms);
  return ms;
}

/** The tasks by name, for the workers of the raw peers and for {@link intoSlot}. */
export const TASKS = { fib, sieve, sha256, timer, readFile, httpGet, blockingSleep, blockingWait } as const;

/** A task name. */
export type TaskName = keyof typeof TASKS;

/** Runs task `name` with `arg` (the peers' workers receive `{ name, arg }`). */
export function run(name: TaskName, arg: never): Promise<number> | number {
  return (TASKS[name] as (arg: never) => Promise<number> | number)(arg);
}

/**
 * Runs task `name` and stores its result in `results[slot]`: a Thread has no return value, so the
 * thread-per-task strategy hands each thread a Float64Array over one SharedArrayBuffer.
 */
export async function intoSlot(results: Float64Array, slot: number, name: TaskName, arg: never): Promise<void> {
  results[slot] = Number(await run(name, arg));
}
