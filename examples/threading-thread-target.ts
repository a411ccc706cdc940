/**
 * Seed 001, section 5 "创建子进程" (creating a child), way one — with a thread instead of a process:
 * hand the Thread a target function and its arguments, start it, and the main thread goes on.
 *
 *   npx tsx examples/threading-thread-target.ts
 *
 * The seed sleeps 3 s; this one sleeps 300 ms. Python's `kwargs={'name': …}` has no counterpart in
 * JavaScript: arguments are positional. The target is sent to the new thread by its source text, so
 * it uses only its parameters and `require(…)`, never variables of this file.
 */
import { Thread } from 'threadkit/threading';

/** The task a thread runs (the seed's `task(name)`). */
function task(name: string): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  console.log(`${name} is running`);
  sleepSync(300); // the seed's time.sleep(3): blocks only this thread
  console.log(`${name} is done`);
}

const t1 = new Thread({ target: task, args: ['thread 1'] });
const t2 = new Thread({ target: task, args: ['thread 2'] });
t1.start(); // the new thread runs task('thread 1'); start() returns at once
t2.start();
console.log('main'); // the seed's print('主'): printed first, the threads are still running
