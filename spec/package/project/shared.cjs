// A user's CommonJS program using threadkit/multiprocessing's shared memory from the installed
// package (spec/package/package.spec.ts): a Value updated under a Lock by a Process and by a Pool
// task at the same time as this process. Then where the native addon was loaded from.
const path = require('node:path');
const { Lock, Pool, Process, Value } = require('threadkit/multiprocessing');

/** 500 increments of `counter`, each under `lock` (sent by source to the other processes). */
function add(counter, lock) {
  for (let i = 0; i < 500; i++) lock.withLockSync(() => { counter.value += 1; });
}

async function main() {
  const counter = new Value('i', 0, { lock: false });
  const lock = new Lock();
  const child = new Process({ target: add, args: [counter, lock] });
  child.start();
  const pool = new Pool(1);
  try {
    const task = pool.apply(add, [counter, lock]);
    add(counter, lock);
    await task;
  } finally {
    await pool.terminate();
  }
  await child.join();
  console.log(`process exitcode: ${child.exitcode}`);
  console.log(`value: ${counter.value}`);
  const root = path.dirname(require.resolve('threadkit/package.json'));
  const loader = require(require.resolve('node-gyp-build', { paths: [root] }));
  console.log(`addon: ${path.relative(root, loader.path(path.join(root, 'native')))}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
