/**
 * multiprocessing.Pool's methods are typed like Executor.submit/map: the result type comes from the
 * target, and the arguments must fit its parameters. Checked by `npm run typecheck`; never run.
 */
import { fromModule } from 'threadkit';
import { Pool, type AsyncResult } from 'threadkit/multiprocessing';
import { expectType } from './expect-type';

declare const pool: Pool;
const square = (x: number): number => x * x;

export async function results(): Promise<void> {
  expectType<number[]>()(await pool.map((x: number) => x * x, [1, 2]));
  expectType<number[]>()(await pool.map(square, [1, 2], 1));
  expectType<string[]>()(await pool.map(async (x: number) => String(x), [1, 2]));
  expectType<number>()(await pool.apply((a: number, b: number) => a + b, [1, 2]));
  expectType<number>()(await pool.apply(() => 5));
  expectType<AsyncResult<number>>()(pool.applyAsync((a: number) => a, [1], { callback: (value: number) => void value }));
  expectType<AsyncResult<number[]>>()(pool.mapAsync(square, [1, 2], { callback: (values: number[]) => void values }));
  expectType<number[]>()(await pool.starmap((a: number, b: number) => a * b, [[1, 2], [3, 4]]));
  const pairs = [1, 2, 3].map((i) => [i, i + 1]);
  expectType<number[]>()(await pool.starmap((a: number, b: number) => a * b, pairs));
  expectType<string[]>()(await pool.starmap((n: number, s: string) => s.repeat(n), [[2, 'a']]));
  expectType<AsyncResult<number[]>>()(pool.starmapAsync((a: number, b: number) => a * b, pairs));
  for await (const value of pool.imap(square, [1, 2])) expectType<number>()(value);
  for await (const value of pool.imapUnordered(async (x: number) => [x], [1, 2])) expectType<number[]>()(value);
  // A module reference carries the signature it was declared with.
  const task = fromModule<[string, number], Promise<number>>('/abs/task.js', 'task');
  expectType<number>()(await pool.apply(task, ['a', 1]));
  // Python's `apply<R>` style, an explicit result type, still works (async targets included).
  expectType<number>()(await pool.apply<number>(async () => 1));
  expectType<number[]>()(await pool.map<number, number>(square, [1]));
}

export async function mistakes(): Promise<void> {
  // @ts-expect-error an argument of the wrong type
  await pool.apply((x: number) => x, ['1']);
  // @ts-expect-error the target needs arguments and none are given
  await pool.apply((x: number) => x);
  // @ts-expect-error too many arguments
  await pool.apply(() => 1, [1]);
  // @ts-expect-error the result is a number, not a string
  const wrong: string = await pool.apply((x: number) => x, [1]);
  // @ts-expect-error the callback takes the result type
  pool.applyAsync((x: number) => x, [1], { callback: (value: string) => void value });
  // @ts-expect-error items of the wrong type
  await pool.map(square, ['a']);
  // @ts-expect-error the results are numbers
  const words: string[] = await pool.map(square, [1]);
  // @ts-expect-error starmap items must fit the parameters
  await pool.starmap((a: number, b: number) => a * b, [['x', 1]]);
  // @ts-expect-error a module reference checks its declared arguments
  await pool.apply(fromModule<[string], number>('/abs/task.js'), [1]);
  void wrong;
  void words;
}
