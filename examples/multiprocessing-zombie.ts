/**
 * Seed 004 "僵尸进程" (zombie processes; also seed 002's recap and seed 003 "如何处理僵尸进程"): the
 * seed's test.py starts a child that ends at once, never joins it, and sleeps; `ps aux | grep Z`
 * then shows the child as `Z` / `<defunct>` until the parent ends. With threadkit no finished child
 * is left a zombie: the child is reaped as soon as the parent's event loop runs, joined or not.
 *
 *   npx tsx examples/multiprocessing-zombie.ts
 *
 * This example looks at the child's state the way `ps` does, in /proc/<pid>/stat (Linux): while
 * the main process blocks (its event loop cannot run), the finished child is briefly a zombie —
 * every process is, between its exit and its reaping — and once the loop has turned it is gone.
 */
import * as fs from 'node:fs';
import { Process } from 'threadkit/multiprocessing';
import { sleep, sleepSync } from 'threadkit/threading';

/** The child's state letter as `ps` shows it (R, S, Z, …), or 'gone' when no such process exists. */
function state(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
  } catch {
    return 'gone';
  }
}

function run(): void {
  console.log(`child ${process.pid} says hello and ends`);
}

async function main(): Promise<void> {
  const p = new Process({ target: run });
  p.start();
  const pid = p.pid!;
  console.log(`main ${process.pid} started child ${pid}, and never joins it`);
  // Block this thread (as the seed's time.sleep does) until the child has ended.
  while (p.isAlive()) sleepSync(10);
  console.log(`the child ended while the main process was blocked: its state is ${state(pid)} (a zombie: exited, not reaped yet)`);
  await sleep(200); // the event loop turns: libuv reaps the child (waitpid), nobody called join()
  console.log(`after the event loop ran: ${state(pid)} (reaped; exitcode ${p.exitcode})`);
}

void main();
