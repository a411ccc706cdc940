/**
 * A job — one call, or a chunk of calls — and the wire form of a batch of jobs: what the main side
 * of every pool (ThreadPoolExecutor, ProcessPoolExecutor, multiprocessing.Pool) sends to a worker,
 * and what the worker side (`run-item.ts`) reads. Used on both sides; imports only transport types.
 *
 * The wire form is flat because every serializer on the way (postMessage's structured clone, the
 * fork channel's structured clone or JSON) pays per object and per property name: a batch is
 * `[targets, items]` where `targets` holds each distinct target once (a map over 10 000 items sends
 * the function's source once per batch, not once per item) and `items` holds three entries per job
 * — the index of its target, its flags, its encoded arguments. A lone job costs three array slots,
 * not three objects.
 */
import type { EncodedTarget } from '../transport';
import type { CallSite } from '../transport/call-site';

/** What a pool runs: a call of `target` with `args`, or (`chunk`) one call per element of `args`. */
export interface Job {
  /** The function or module reference, encoded once per function (`TargetCache`): its identity is the object's. */
  readonly target: EncodedTarget;
  /**
   * Encoded arguments. For a chunk, each element is the single argument of one call (or, with
   * `star`, a whole argument list, for starmap), and the outcome's value is the array of the
   * calls' results (Python's `_process_chunk`).
   */
  readonly args: unknown[];
  readonly chunk: boolean;
  readonly star?: boolean;
  /** Where it was submitted: shown under the stack of an error it throws (transport/call-site.ts). */
  readonly site?: CallSite;
  /**
   * The caller takes the outcome as the worker encoded it, undecoded: the distributed worker,
   * which signs it and sends it on to the machine that decodes it (job-queue.ts `complete`).
   */
  readonly encodedOutcome?: boolean;
}

/** Wire flags of an item. */
export const CHUNK = 1;
export const STAR = 2;
/** Entries per item in `WireBatch[1]`: target index, flags, arguments. */
export const ITEM_ENTRIES = 3;

/** A batch on the wire: `[targets, items]` (see the header). */
export type WireBatch = [targets: EncodedTarget[], items: unknown[]];

/** Packs jobs for one worker message, sending each distinct target once. */
export function packBatch(jobs: readonly Job[]): WireBatch {
  const targets: EncodedTarget[] = [];
  const items: unknown[] = new Array(jobs.length * ITEM_ENTRIES);
  let last: EncodedTarget | undefined;
  let lastIndex = -1;
  for (let i = 0, at = 0; i < jobs.length; i++, at += ITEM_ENTRIES) {
    const { target, args, chunk, star } = jobs[i];
    // Almost every batch has one target; the identity check against the previous one is the fast path.
    if (target !== last) {
      lastIndex = targets.indexOf(target);
      if (lastIndex === -1) lastIndex = targets.push(target) - 1;
      last = target;
    }
    items[at] = lastIndex;
    items[at + 1] = !chunk ? 0 : star === true ? CHUNK | STAR : CHUNK;
    items[at + 2] = args;
  }
  return [targets, items];
}

/** Number of items in a wire batch. */
export function batchLength(batch: WireBatch): number {
  return batch[1].length / ITEM_ENTRIES;
}
