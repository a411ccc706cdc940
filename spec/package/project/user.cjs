// A user's CommonJS program, run against the installed package (spec/package/package.spec.ts):
// a Thread, a ThreadPoolExecutor task that is a function of this very file (fromModule), an error
// thrown by a target, and a Pool.map. One line of output per check.
const { Thread } = require('threadkit/threading');
const { ThreadPoolExecutor } = require('threadkit/futures');
const { Pool } = require('threadkit/multiprocessing');
const { fromModule } = require('threadkit');

exports.triple = (x) => 3 * x;

async function main() {
  const word = new Int32Array(new SharedArrayBuffer(4));
  const thread = new Thread({ target: (w, value) => { w[0] = value; }, args: [word, 42] });
  thread.start();
  await thread.join();
  console.log(`thread: ${word[0]}`);

  const executor = new ThreadPoolExecutor({ maxWorkers: 2 });
  try {
    console.log(`fromModule: ${await executor.submit(fromModule(__filename, 'triple'), 14)}`);
    const error = await executor.submit(() => { throw new RangeError('from a target'); }).result().catch((e) => e);
    console.log(`error: ${error.name}: ${error.message}`);
    console.log(`submitted at: ${/--- task submitted at ---\n {4}at .*user\.cjs:\d+:\d+/.test(error.stack)}`);
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

// Each worker that runs `triple` loads this file: only the program itself runs main().
if (require.main === module) main().catch((error) => { console.error(error); process.exitCode = 1; });
