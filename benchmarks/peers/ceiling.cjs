// The no-pool ceiling of the CPU-bound speedup benchmarks: a plain worker thread or child process
// that runs `count` tasks of the shared task module per message, with no pool and no per-task
// message — what the hardware gives two cores of work, against which the pools are judged.
// Loads the same TypeScript task module as every other strategy (through tsx's require hook).
'use strict';
require('tsx/cjs');
const { parentPort } = require('node:worker_threads');
const { run } = require('../workloads/tasks.ts');

function work({ name, arg, count }) {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += run(name, arg);
  return sum;
}

if (parentPort) parentPort.on('message', (task) => parentPort.postMessage(work(task)));
else process.on('message', (task) => process.send(work(task)));
