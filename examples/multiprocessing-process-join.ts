/**
 * Seed 002 "Process的join用法": join() blocks the main process until the child has ended (and
 * reaps it: the seeds note that join calls wait()), then the main process goes on.
 *
 *   npx tsx examples/multiprocessing-process-join.ts
 *
 * `await p.join()` waits without blocking this process's event loop; `p.joinSync()` blocks it, as
 * Python's join does. The seed sleeps 2.3 s; this one 300 ms.
 */
import { Process } from 'threadkit/multiprocessing';

function foo(): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  console.log('child start');
  sleepSync(300); // the seed's time.sleep(2.3)
  console.log('child end');
}

async function main(): Promise<void> {
  const p = new Process({ target: foo });
  p.start();
  await p.join(); // wait for the child to end, then go on
  console.log(`main (the child ended with exitcode ${p.exitcode})`); // the seed's print('主')

  const q = new Process({ target: foo });
  q.start();
  q.joinSync(); // the same, blocking this thread as Python's join() does
  console.log(`main again (exitcode ${q.exitcode})`);
}

void main();
