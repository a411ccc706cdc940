/**
 * Seed 001, section 12 "进程池、线程池" (process pools and thread pools): concurrent.futures.
 * submit() returns a Future; add_done_callback(func) calls func(future) when the task ends;
 * shutdown(wait=True) waits for every task; map() is submit() for each item, results in order.
 *
 *   npx tsx examples/futures-executors.ts
 *
 * The seed's ProcessPoolExecutor(5) runs three tasks that each sleep 3–5 s; these sleep 300–500 ms.
 * The same code then runs on a ThreadPoolExecutor(3), and map() squares 1..11.
 */
import { ProcessPoolExecutor, ThreadPoolExecutor, type Executor, type Future } from 'threadkit/futures';

/** The task (runs in a pool worker): announce, sleep a random 300–500 ms, return the name. */
function task(name: string): string {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  console.log(`${name} is running`);
  sleepSync(300 + Math.floor(Math.random() * 3) * 100);
  return name;
}

/** The callback (runs here, in the thread that added it): the seed's func(future). */
async function func(future: Future<string>): Promise<void> {
  const name = await future.result();
  console.log(`${name}'s callback function`);
}

async function demo(executor: Executor, label: string): Promise<void> {
  console.log(`— ${label}`);
  const futures: Future<string>[] = [];
  for (let i = 0; i < 3; i++) {
    const future = executor.submit(task, `task${i}`);
    future.addDoneCallback(func);
    futures.push(future);
  }
  await executor.shutdown({ wait: true }); // the seed's executor.shutdown(True)
  console.log('main'); // the seed's print('主'): after every task has finished
  console.log(`results: ${(await Promise.all(futures.map((f) => f.result()))).join(', ')}`);
}

async function main(): Promise<void> {
  await demo(new ProcessPoolExecutor({ maxWorkers: 5 }), 'ProcessPoolExecutor(5)');
  await demo(new ThreadPoolExecutor({ maxWorkers: 3 }), 'ThreadPoolExecutor(3)');

  // The seed's executor.map(task, range(1, 12)): one task per item, results in input order.
  const executor = new ThreadPoolExecutor({ maxWorkers: 3 });
  try {
    const squares: number[] = [];
    for await (const square of executor.map((n: number) => n * n, Array.from({ length: 11 }, (_, i) => i + 1))) squares.push(square);
    console.log(`map: ${squares.join(' ')}`);
  } finally {
    await executor.shutdown();
  }
  // After shutdown no task is accepted (the seed: "不允许再向已关闭的进程/线程池内加入").
  try {
    executor.submit((n: number) => n, 1);
  } catch (error) {
    console.log(`submit after shutdown: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

void main();
