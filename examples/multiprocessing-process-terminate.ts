/**
 * Seed 002 "Process的terminal" (and seed 001 section 7): terminate() asks the operating system to end
 * the child (SIGTERM); right after the call the child may still be alive, after join() it is not,
 * and its exitcode is -15 (ended by signal 15).
 *
 *   npx tsx examples/multiprocessing-process-terminate.ts
 *
 * The seed's child sleeps 50 s; it never gets to print its end. kill() would send SIGKILL (-9).
 */
import { Process } from 'threadkit/multiprocessing';

function foo(): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  console.log('child start');
  sleepSync(50_000);
  console.log('child end'); // never printed
}

async function main(): Promise<void> {
  const p = new Process({ target: foo });
  p.start();
  p.terminate(); // sends SIGTERM: a request to the operating system
  console.log(`right after terminate(): isAlive ${p.isAlive()}`); // usually true: the signal has not been handled yet (a race, as in Python)
  await p.join();
  console.log(`after join(): isAlive ${p.isAlive()}, exitcode ${p.exitcode}`); // false, -15
  console.log('main');
}

void main();
