// Runs inside a pool worker (thread or child process); imports only internal/.
/**
 * The worker side of executor work, shared by ThreadPoolExecutor's pool thread and
 * ProcessPoolExecutor's child entry: run one wire item (a call, or a chunk of calls for `map`),
 * and run the pool's initializer once.
 */
import { invoke, type EncodedOutcome, type EncodedTarget } from '../transport';
import type { WireBatch, WireItem } from './work-item';

/**
 * Runs one item of `batch`: a single call, or each call of a chunk in order (the first error wins);
 * in a star chunk each element is a whole argument list (starmap).
 */
export async function runItem(batch: WireBatch, item: WireItem): Promise<EncodedOutcome> {
  const target = batch.targets[item.t];
  if (item.c !== true) return invoke(target, item.a);
  const values: unknown[] = new Array(item.a.length);
  for (let i = 0; i < item.a.length; i++) {
    const outcome = await invoke(target, item.s === true ? (item.a[i] as unknown[]) : [item.a[i]]);
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
