/**
 * Seed 003, "进程池" (process pools): Pool(processes), apply_async, apply, close, join, map.
 * A pool keeps a few processes alive and feeds them tasks, instead of starting a process per task.
 *
 *   npx tsx examples/multiprocessing-pool.ts
 *
 * applyAsync() queues a task and returns an AsyncResult at once; apply() waits for its result;
 * close() accepts no more tasks; join() waits for the processes to end; map() runs a function over
 * an iterable and returns the results in order.
 */
import { Pool } from 'threadkit/multiprocessing';

/** An "event" handled by a pool process: sleep a little, report, return a value. */
function worker(msg: string): string {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  sleepSync(200);
  console.log(`${msg} handled by process ${process.pid}`);
  return msg.toUpperCase();
}

async function main(): Promise<void> {
  const pool = new Pool(4); // the seed's Pool(processes)

  // apply_async: queue the events, keep the AsyncResults.
  const results = Array.from({ length: 6 }, (_, i) => pool.applyAsync<string>(worker, [`hello ${i}`]));

  // apply: run one task and wait for its result.
  const sum = await pool.apply<number>((a: number, b: number) => a + b, [2, 3]);
  console.log(`apply: 2 + 3 = ${sum}`);

  // map: the results in input order.
  const squares = await pool.map<number, number>((n: number) => n * n, Array.from({ length: 10 }, (_, i) => i));
  console.log(`map: ${squares.join(' ')}`);

  pool.close(); // no more tasks
  await pool.join(); // wait for the queued tasks and the processes
  const values: string[] = [];
  for (const r of results) values.push(await r.get());
  console.log(`apply_async results: ${values.join(', ')}`);
  console.log(`all successful: ${results.every((r) => r.successful())}`);
}

void main();
