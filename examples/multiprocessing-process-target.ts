/**
 * Seed 000 "python中进程的创建" and seed 001 section 5 "创建子进程" way one (also seed 004, way one):
 * hand a Process a target function and its arguments, start it, and the main process goes on.
 *
 *   npx tsx examples/multiprocessing-process-target.ts
 *
 * Each child is a new Node.js process: start() returns as soon as it is forked, so 'main' comes
 * first. The seed sleeps 3 s; this one sleeps 300 ms. Python's `kwargs={'name': …}` has no
 * counterpart in JavaScript: arguments are positional. The target is sent to the child by its source
 * text, so it uses only its parameters and `require(…)`, never variables of this file — and no
 * `if __name__ == '__main__'` guard is needed: the child does not run this file.
 */
import { Process } from 'threadkit/multiprocessing';

/** The task a child process runs (the seed's `task(name)`). */
function task(name: string): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  console.log(`${name} is running`);
  sleepSync(300); // the seed's time.sleep(3)
  console.log(`${name} is done`);
}

const p1 = new Process({ target: task, args: ['child 1'] }); // the seed's args=('子进程1',)
const p2 = new Process({ target: task, args: ['child 2'] });
p1.start(); // forks a process that runs task('child 1'); start() returns at once
p2.start();
console.log('main'); // the seed's print('主'): printed first, the children are still starting
// Seed 000: the main process goes on with its own work; the children end by themselves, and a
// non-daemon child keeps this program alive until it has ended.
