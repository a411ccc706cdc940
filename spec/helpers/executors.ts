/**
 * Putting an executor (or Pool) in a known scheduling state. The scheduling core sends batches only
 * once the latest task ran fast; a test of what happens to batches must first make sure they form,
 * else it passes without ever exercising them.
 */
import { inspect } from 'node:util';

interface Submitter {
  submit(fn: (x: number) => number, x: number): PromiseLike<unknown>;
}

/** Runs rounds of trivial tasks until `inspect(executor)` says it is batching; fails after `timeout` ms. */
export async function untilBatching(executor: Submitter, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!inspect(executor).includes(' batching')) {
    if (Date.now() > deadline) throw new Error(`the executor did not start batching within ${timeout} ms: ${inspect(executor)}`);
    await Promise.all(Array.from({ length: 20 }, (_, i) => executor.submit((x: number) => x + 1, i)));
  }
}
