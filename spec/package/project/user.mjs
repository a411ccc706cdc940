// A user's ES module program, run against the installed package (spec/package/package.spec.ts):
// the same checks as user.cjs.
import { isMainThread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Thread } from 'threadkit/threading';
import { ThreadPoolExecutor } from 'threadkit/futures';
import { Pool } from 'threadkit/multiprocessing';
import { fromModule } from 'threadkit';

export const triple = (x) => 3 * x;

async function main() {
  const word = new Int32Array(new SharedArrayBuffer(4));
  const thread = new Thread({ target: (w, value) => { w[0] = value; }, args: [word, 42] });
  thread.start();
  await thread.join();
  console.log(`thread: ${word[0]}`);

  const executor = new ThreadPoolExecutor({ maxWorkers: 2 });
  try {
    console.log(`fromModule: ${await executor.submit(fromModule(import.meta.url, 'triple'), 14)}`);
    const error = await executor.submit(() => { throw new RangeError('from a target'); }).result().catch((e) => e);
    console.log(`error: ${error.name}: ${error.message}`);
    console.log(`submitted at: ${/--- task submitted at ---\n {4}at .*user\.mjs:\d+:\d+/.test(error.stack)}`);
  } finally {
    await executor.shutdown();
  }

  const pool = new Pool(2);
  try {
    console.log(`pool: ${(await pool.map((x) => x * x, [1, 2, 3])).join(' ')}`);
  } finally {
    await pool.terminate();
  }
}

// Worker threads share the program's argv, so the thread check comes first: only the program runs main().
if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) await main();
