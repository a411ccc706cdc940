/**
 * Seed 004 "孤儿进程" (orphan processes; also seed 001 section 3 and seed 002's recap): a parent
 * that ends before its child leaves an orphan, which init (or a subreaper) adopts and later reaps.
 * The seed forks and lets the parent exit at once; the child sleeps 1 s and prints its new ppid.
 *
 *   npx tsx examples/multiprocessing-orphan.ts
 *
 * A non-daemon Process normally keeps its parent alive until it ends (Python's parent joins it at
 * exit), so this parent leaves by `process.exit()`, which skips that wait. The child sees its
 * parent gone with `parentProcess().isAlive()`, and reads its new parent from /proc (Linux;
 * `process.ppid` is read once, at startup). A daemon child would have been ended instead.
 */
import { Process } from 'threadkit/multiprocessing';

function child(): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  const { parentProcess } = require('threadkit/multiprocessing') as typeof import('threadkit/multiprocessing');
  const fs = require('node:fs') as typeof import('node:fs');
  const parent = parentProcess()!;
  console.log(`im child ${process.pid}, my parent is ${parent.pid}`);
  for (let i = 0; i < 500 && parent.isAlive(); i++) sleepSync(10); // the seed's time.sleep(1): until the parent is gone
  const adopter = Number(fs.readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  console.log(`im child ${process.pid}, my parent ${parent.pid} is ${parent.isAlive() ? 'alive' : 'gone'}; I was adopted by pid ${adopter}`);
}

const p = new Process({ target: child });
p.start();
console.log(`im father ${process.pid}, ppid ${process.ppid}`);
// Give the child time to say hello (the seed's child does not wait for this), then leave.
setTimeout(() => {
  console.log('father died..');
  process.exit(0); // ends now: the non-daemon child is not waited for, and lives on as an orphan
}, 1_000);
