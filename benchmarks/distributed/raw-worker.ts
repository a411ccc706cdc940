/**
 * The raw-BullMQ side of the distributed benchmark: a bare BullMQ Worker doing the same trivial
 * work as the threadkit tasks (`x + 1`), in its own process, as a worker machine would run it:
 * inline in the worker's main thread, or — as threadkit runs tasks, away from the main thread —
 * in BullMQ's own sandbox (child processes, or worker threads).
 *
 *   node --require tsx/cjs raw-worker.ts <redis port> <queue> <concurrency> <inline|processes|threads>
 *
 * Prints "ready" once connected; SIGTERM closes it.
 */
import * as path from 'node:path';
import { Worker } from 'bullmq';

const [port, queue, concurrency, mode] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: Number(port) };
const worker =
  mode === 'inline'
    ? new Worker(queue, async (job) => (job.data as { x: number }).x + 1, { connection, concurrency: Number(concurrency) })
    : new Worker(queue, path.join(__dirname, 'raw-processor.cjs'), { connection, concurrency: Number(concurrency), useWorkerThreads: mode === 'threads' });
worker.on('error', (error) => process.stderr.write(`raw worker: ${error.message}\n`));
void worker.waitUntilReady().then(() => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
