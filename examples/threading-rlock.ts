/**
 * Seed 001, section 17 "递归锁" (RLock) and the deadlock it avoids.
 *
 *   npx tsx examples/threading-rlock.ts               # mutexA = mutexB = RLock(): every thread finishes
 *   npx tsx examples/threading-rlock.ts --two-locks   # two separate Locks: the threads deadlock
 *
 * Four threads each take A then B (func1), then B then A (func2, which sleeps while holding B). With
 * two plain Locks, one thread holds A and waits for B while another holds B and waits for A — a
 * deadlock, which this version breaks with a 2 s timeout so that the program still ends. With one
 * RLock used as both A and B, the thread that holds it may take it again (it counts its acquires),
 * and the others wait their turn: no deadlock. The seed sleeps 2 s in func2; this one 200 ms.
 *
 * Lines printed by different threads may reach the terminal out of their real order: each worker's
 * console output travels to the main thread asynchronously. The order within one thread holds.
 *
 * `run()` is sent to each thread by its source, so func1 and func2 are written inside it, and the
 * locks travel as the instance's own fields: they arrive as working locks over the same memory.
 */
import { Lock, RLock, Thread, setExcepthook } from 'threadkit/threading';

class MyThread extends Thread {
  constructor(readonly mutexA: Lock | RLock, readonly mutexB: Lock | RLock, readonly timeoutMs: number | undefined) {
    super();
  }

  override run(): void {
    const { currentThread, sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
    const name = currentThread().name;
    const { mutexA, mutexB, timeoutMs } = this;
    const take = (lock: Lock | RLock, label: string): void => {
      if (!lock.acquireSync(timeoutMs)) throw new Error(`${name} waited ${timeoutMs} ms for lock ${label}: deadlock`);
      console.log(`${name} got lock ${label}`);
    };
    const func1 = (): void => {
      take(mutexA, 'A');
      try {
        take(mutexB, 'B');
      } catch (error) {
        mutexA.release(); // on a deadlock, give A back so that the others can go on
        throw error;
      }
      mutexB.release();
      console.log(`${name} released lock B`);
      mutexA.release();
      console.log(`${name} released lock A`);
    };
    const func2 = (): void => {
      take(mutexB, 'B');
      sleepSync(200);
      try {
        take(mutexA, 'A');
      } finally {
        mutexB.release(); // on a deadlock, give B back so that the others can go on
      }
      mutexA.release();
      console.log(`${name} released lock A`);
      console.log(`${name} released lock B`);
    };
    func1();
    func2();
  }
}

async function main(): Promise<void> {
  const twoLocks = process.argv.includes('--two-locks');
  // The seed's `mutexA = mutexB = RLock()`: one reentrant lock under two names.
  const [mutexA, mutexB] = twoLocks ? [new Lock(), new Lock()] : ((lock) => [lock, lock])(new RLock());
  const threads = Array.from({ length: 4 }, () => new MyThread(mutexA, mutexB, twoLocks ? 2000 : undefined));
  let deadlocks = 0;
  setExcepthook((error) => {
    deadlocks++;
    console.log(error instanceof Error ? error.message : String(error));
  });
  for (const t of threads) t.start();
  for (const t of threads) await t.join();
  console.log(deadlocks === 0 ? `all ${threads.length} threads finished: no deadlock` : `${deadlocks} thread(s) gave up: that is the deadlock an RLock avoids`);
}

void main();
