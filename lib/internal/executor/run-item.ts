// Runs inside a pool worker (thread or child process); imports only internal/.
/**
 * The worker side of executor work, shared by ThreadPoolExecutor's pool thread and
 * ProcessPoolExecutor's child entry: run one wire item (a call, or a chunk of calls for `map`),
 * and run the pool's initializer once.
 */
import { invoke, type EncodedOutcome, type EncodedTarget } from '../transport';
import { invokeSync } from '../transport/invoke';
import type { WireBatch, WireItem } from './work-item';

/** An outcome now, or later (async target, module still loading). */
export type MaybeOutcome = EncodedOutcome | Promise<EncodedOutcome>;

/**
 * Runs one item of `batch`: a single call, or each call of a chunk in order (the first error wins);
 * in a star chunk each element is a whole argument list (starmap). Synchronous as long as the calls
 * are (see `invokeSync`): a worker running many small items pays no microtask hop per item.
 */
export function runItem(batch: WireBatch, item: WireItem): MaybeOutcome {
  const target = batch.targets[item.t];
  if (item.c !== true) return invokeSync(target, item.a);
  return runChunk(target, item, 0, new Array(item.a.length));
}

/** Calls `from..` of a chunk; goes async at the first call that does. */
function runChunk(target: EncodedTarget, item: WireItem, from: number, values: unknown[]): MaybeOutcome {
  for (let i = from; i < item.a.length; i++) {
    const outcome = invokeSync(target, item.s === true ? (item.a[i] as unknown[]) : [item.a[i]]);
    if (outcome instanceof Promise) {
      return outcome.then((later) => {
        if (!later.ok) return later;
        values[i] = later.value;
        return runChunk(target, item, i + 1, values);
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
