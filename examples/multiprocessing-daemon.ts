/**
 * Seed 002 "守护进程" (also seed 001 section 4 and seed 003's p.daemon): a daemon child ends when the
 * main process ends, even in the middle of its work.
 *
 *   npx tsx examples/multiprocessing-daemon.ts
 *
 * Set `daemon` before start(). A daemon child never keeps the program alive; when the main process
 * exits it is sent SIGTERM (as Python does at exit), and if the main process dies any other way —
 * even by SIGKILL — it ends by itself. As in the seed, the child would need 5 s and the main process
 * waits 2 s: the child prints its start, never its end.
 */
import { Process } from 'threadkit/multiprocessing';

function foo(): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  console.log('daemon start');
  sleepSync(5_000); // the seed's time.sleep(5)
  console.log('daemon end'); // never printed: the main process ends first
}

const p = new Process({ target: foo });
p.daemon = true; // make this child a daemon (before start)
p.start();
setTimeout(() => console.log('main'), 2_000); // the seed's time.sleep(2); print('主'); then the program ends
