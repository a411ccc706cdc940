// One cold start in a fresh process, run with plain node (no TypeScript loader anywhere):
//   node thread-start-child.cjs thread <built lib dir>   start→join of the process's first Thread
//   node thread-start-child.cjs worker                    a bare `new Worker` running a trivial .js file, start→its first message
// Prints {"coldMs": n}.
'use strict';
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const [mode, lib] = process.argv.slice(2);
const print = (t0) => process.stdout.write(`${JSON.stringify({ coldMs: performance.now() - t0 })}\n`);

if (mode === 'thread') {
  const { Thread } = require(path.join(lib, 'threading'));
  const t0 = performance.now();
  const thread = new Thread({ target: () => undefined });
  thread.start();
  thread.join().then(() => {
    print(t0);
    process.exit(0);
  });
} else if (mode === 'worker') {
  const { Worker } = require('node:worker_threads');
  const t0 = performance.now();
  const worker = new Worker(path.resolve(__dirname, '../peers/bare-worker.cjs'), { execArgv: [] });
  worker.once('message', () => {
    print(t0);
    process.exit(0);
  });
} else {
  process.stderr.write(`expected a mode of thread or worker, got ${JSON.stringify(mode)}\n`);
  process.exit(2);
}
