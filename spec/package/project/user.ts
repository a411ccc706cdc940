// A user's TypeScript program, compiled with tsc --strict and run, and run with tsx, against the
// installed package (spec/package/package.spec.ts): the checks of user.cjs, a task module of its
// own (task.ts under tsx, the compiled task.js under node), `await using`, and the types.
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Thread } from 'threadkit/threading';
import { ThreadPoolExecutor } from 'threadkit/futures';
import { Pool } from 'threadkit/multiprocessing';
import { fromModule } from 'threadkit';

export function triple(x: number): number {
  return 3 * x;
}

async function main(): Promise<void> {
  const word = new Int32Array(new SharedArrayBuffer(4));
  const thread = new Thread({ target: (w: Int32Array, value: number) => { w[0] = value; }, args: [word, 42] });
  thread.start();
  await thread.join();
  console.log(`thread: ${word[0]}`);

  await using executor = new ThreadPoolExecutor({ maxWorkers: 2 });
  const tripled: number = await executor.submit(fromModule<[number], number>(__filename, 'triple'), 14);
  console.log(`fromModule: ${tripled}`);
  // task.ts when run by tsx, task.js once compiled by tsc.
  const halved: number = await executor.submit(fromModule<[number], number>(path.join(__dirname, `task${path.extname(__filename)}`), 'half'), 84);
  console.log(`task module: ${halved}`);
  const error = await executor.submit(() => { throw new RangeError('from a target'); }).result().catch((e: Error) => e);
  console.log(`error: ${error.name}: ${error.message}`);
  console.log(`submitted at: ${/--- task submitted at ---\n {4}at .*user\.(ts|js):\d+:\d+/.test(error.stack ?? '')}`);
  // tsc and tsx rename this import (node_crypto_1, import_node_crypto): the hint says what to do.
  const renamed = await executor.submit(() => randomUUID()).result().then(() => 'no error', (e: Error) => e.message);
  console.log(`renamed import: ${/^\w+ is not defined — it is an import of the file that defined the target.*require\(\) the module inside the target/.test(renamed)}`);

  const pool = new Pool(2);
  try {
    const squares: number[] = await pool.map((x: number) => x * x, [1, 2, 3]);
    console.log(`pool: ${squares.join(' ')}`);
  } finally {
    await pool.terminate();
  }
}

/** Never called: lines the compiler must reject, as the package's types declare them. */
export function typeErrors(pool: Pool): void {
  // @ts-expect-error a Thread's args must fit its target
  new Thread({ target: (n: number) => n, args: ['x'] });
  // @ts-expect-error Pool.map's results have the target's type
  void (async (): Promise<string[]> => pool.map((x: number) => x * x, [1, 2]))();
}

if (require.main === module) main().catch((error) => { console.error(error); process.exitCode = 1; });
