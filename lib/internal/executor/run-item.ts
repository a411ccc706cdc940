// Runs inside a pool worker (thread or child process); imports only internal/.
/**
 * The worker side of pool work, shared by ThreadPoolExecutor's pool thread and the process pools'
 * child entry: run one item of a wire batch (a call, or a chunk of calls for `map`), and run the
 * pool's initializer once.
 */
import { invoke, type EncodedOutcome, type EncodedTarget } from '../transport';
import { invokeSync } from '../transport/invoke';
import { CHUNK, ITEM_ENTRIES, STAR, type WireBatch } from './batch';

/** An outcome now, or later (async target, module still loading). */
export type MaybeOutcome = EncodedOutcome | Promise<EncodedOutcome>;

/**
 * Runs item `index` of `batch`: a single call, or each call of a chunk in order (the first error
 * wins); in a star chunk each element is a whole argument list (starmap). Synchronous as long as
 * the calls are (see `invokeSync`): a worker running many small items pays no microtask hop per item.
 */
export function runItem(batch: WireBatch, index: number): MaybeOutcome {
  const [targets, items] = batch;
  const at = index * ITEM_ENTRIES;
  const target = targets[items[at] as number];
  const flags = items[at + 1] as number;
  const args = items[at + 2] as unknown[];
  if ((flags & CHUNK) === 0) return invokeSync(target, args);
  return runChunk(target, args, (flags & STAR) !== 0, 0, new Array(args.length));
}

/** Calls `from..` of a chunk; goes async at the first call that does. */
function runChunk(target: EncodedTarget, args: unknown[], star: boolean, from: number, values: unknown[]): MaybeOutcome {
  for (let i = from; i < args.length; i++) {
    const outcome = invokeSync(target, star ? (args[i] as unknown[]) : [args[i]]);
    if (outcome instanceof Promise) {
      return outcome.then((later) => {
        if (!later.ok) return later;
        values[i] = later.value;
        return runChunk(target, args, star, i + 1, values);
      });
    }
    if (!outcome.ok) return outcome;
    values[i] = outcome.value;
  }
  return { ok: true, value: values };
}

/** What a pool worker receives to run before its first task. */
export interface WireInitializer {
  readonly target: EncodedTarget;
  readonly args: unknown[];
}

/** Runs the initializer; its outcome tells the main side whether the pool is broken. */
export function runInitializer(init: WireInitializer): Promise<EncodedOutcome> {
  return invoke(init.target, init.args);
}
