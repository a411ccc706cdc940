/**
 * Seed 001, section 8 "互斥锁" (the mutex): three processes share one multiprocessing Lock, and each
 * prints its three lines while it holds it, so one process's lines are never cut by another's.
 *
 *   npx tsx examples/multiprocessing-lock.ts
 *
 * Which process goes first is up to the scheduler, but once one has the Lock it prints 1, 2 and 3
 * before the next one starts. The Lock lives in memory the processes share (not in this process), so
 * the child that holds it blocks the others directly, without messages. The seed sleeps 1 s between
 * lines; this one 100 ms. A child's console.log goes straight to the same terminal or pipe
 * (synchronously), so the lines appear in the order they were printed.
 */
import { Lock, Process } from 'threadkit/multiprocessing';

/** The seed's task(name, lock). */
function task(name: string, lock: Lock): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  lock.acquireSync(); // the seed's lock.acquire(): blocks while another process holds it
  try {
    console.log(`${name} 1`);
    sleepSync(100);
    console.log(`${name} 2`);
    sleepSync(100);
    console.log(`${name} 3`);
  } finally {
    lock.release();
  }
}

const lock = new Lock();
for (let i = 0; i < 3; i++) {
  const p = new Process({ target: task, args: [`process ${i}`, lock] }); // the seed's '进程%s' % i
  p.start();
}
