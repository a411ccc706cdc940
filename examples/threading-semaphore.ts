/**
 * Seed 001, section 14 "信号量" (Semaphore): a lock that up to N holders may take at once.
 * Semaphore(5) and 23 threads: at most five of them are inside at any time.
 *
 *   npx tsx examples/threading-semaphore.ts
 *
 * The seed sleeps 3 s inside; this one 300 ms. To show the limit, every thread also counts the
 * holders in a shared Int32Array, and the main thread prints the highest count seen.
 */
import { Semaphore, Thread } from 'threadkit/threading';

/** Slots of the shared counters. */
const HOLDERS = 0;
const MOST = 1;

function func(sm: Semaphore, counters: Int32Array, holdersSlot: number, mostSlot: number): void {
  const { currentThread, sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  sm.acquireSync();
  const holding = Atomics.add(counters, holdersSlot, 1) + 1;
  // Raise the high-water mark if this thread made a new one (compare-and-swap: another holder may race us).
  for (let most = Atomics.load(counters, mostSlot); holding > most; most = Atomics.load(counters, mostSlot)) {
    if (Atomics.compareExchange(counters, mostSlot, most, holding) === most) break;
  }
  console.log(`${currentThread().name} get sm`);
  sleepSync(300);
  Atomics.sub(counters, holdersSlot, 1);
  sm.release();
}

async function main(): Promise<void> {
  const sm = new Semaphore(5);
  const counters = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  const threads: Thread[] = [];
  for (let i = 0; i < 23; i++) {
    const t = new Thread({ target: func, args: [sm, counters, HOLDERS, MOST] });
    t.start();
    threads.push(t);
  }
  for (const t of threads) await t.join();
  console.log(`${threads.length} threads done; at most ${Atomics.load(counters, MOST)} held the semaphore at once (its value is 5)`);
}

void main();
