/**
 * Seed 001 sections 6-7, seed 002 "Process的其他用法" and "name和is_alive", seed 003 "Process进程对象属性":
 * a process's name, pid, parent's pid, isAlive() and exitcode, seen from the child and from the parent.
 *
 *   npx tsx examples/multiprocessing-process-attributes.ts
 *
 * os.getpid() is `process.pid`; os.getppid() is `process.ppid`; current_process() is
 * `currentProcess()`; the child's pid is `p.pid` once started. The seed sleeps 200 s and 2 s; this
 * one 300 ms.
 */
import { Process, currentProcess, parentProcess } from 'threadkit/multiprocessing';

function task(): void {
  const mp = require('threadkit/multiprocessing') as typeof import('threadkit/multiprocessing');
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  console.log('child start');
  console.log(`child: my pid is ${mp.currentProcess().pid}, my name is ${mp.currentProcess().name}`);
  console.log(`child: my parent's pid is ${process.ppid} (${mp.parentProcess()?.name})`);
  sleepSync(300);
  console.log('child end');
}

async function main(): Promise<void> {
  const p = new Process({ target: task });
  const named = new Process({ target: task, name: 'rocky' }); // the seed's name='rocky' (not started)
  console.log(`names: ${p.name}, ${named.name}`); // default names count up: Process-1, then the given one
  console.log(`before start: pid ${p.pid}, isAlive ${p.isAlive()}, exitcode ${p.exitcode}`);
  p.start();
  console.log(`main: the child's pid is ${p.pid}`); // only after start()
  console.log(`main: my pid is ${process.pid}, my parent's pid is ${process.ppid}`);
  console.log(`main: I am ${currentProcess().name}; parentProcess() is ${parentProcess()}`);
  console.log(`while running: isAlive ${p.isAlive()}, exitcode ${p.exitcode}`);
  await p.join();
  console.log(`after join: isAlive ${p.isAlive()}, exitcode ${p.exitcode}`); // the code ran to its end: not alive
  console.log('main');
}

void main();
