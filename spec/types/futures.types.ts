/**
 * Executor and asCompleted types match what they give at runtime. Checked by `npm run typecheck`;
 * never run.
 */
import { asCompleted, type CompletedFuture, type Future, type ThreadPoolExecutor } from 'threadkit/futures';
import { expectType } from './expect-type';

declare const executor: ThreadPoolExecutor;

export async function executors(): Promise<void> {
  expectType<Future<number>>()(executor.submit((a: number, b: number) => a + b, 1, 2));
  expectType<Future<string>>()(executor.submit(async (n: number) => String(n), 1));
  expectType<number>()(await executor.submit((n: number) => n, 1));
  for await (const value of executor.map((x: number) => x * 2, [1, 2])) expectType<number>()(value);
  // @ts-expect-error an argument of the wrong type
  executor.submit((n: number) => n, '1');
}

export async function completed(futures: Future<number>[]): Promise<void> {
  for await (const f of asCompleted(futures)) {
    // asCompleted yields the futures themselves; their value is `await f.result()`.
    expectType<CompletedFuture<number>>()(f);
    expectType<number>()(await f.result());
    // `await f` gives the value at runtime too, but TypeScript cannot type it so (a `for await`
    // element that had a `then` would be unwrapped by the loop itself): it is an error to use it
    // as the value, which points to f.result().
    // @ts-expect-error `await f` is typed as the future, not the number
    const value: number = await f;
    void value;
  }
}
