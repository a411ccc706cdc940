/**
 * A unit of executor work, and its wire form (what a worker receives).
 *
 * Shared by the executor base (main side) and the worker-side runner, so both executors and both
 * sides agree on one format. A batch sends each distinct target once: a map over 10 000 items
 * sends the function's source once per batch, not once per item.
 */
import type { Future } from '../../futures/future';
import type { EncodedTarget } from '../transport';
import type { CallSite } from '../transport/call-site';

/** One submitted task, as the executor base holds it. */
export interface WorkItem {
  /** The future the outcome settles. */
  readonly future: Future<any>;
  /** The task's function or module reference, encoded once by `submit`/`map`. */
  readonly target: EncodedTarget;
  /**
   * Encoded arguments. For a chunk (`chunk: true`), each element is the single argument of one
   * call, and the outcome's value is the array of the calls' results (Python's `_process_chunk`).
   */
  readonly args: unknown[];
  readonly chunk: boolean;
  /** Where it was submitted: shown under the stack of an error it throws. */
  readonly site?: CallSite;
}

/** What `packBatch` needs of an item: a WorkItem, or a multiprocessing.Pool job (`star` for starmap chunks). */
export type WireSource = Pick<WorkItem, 'target' | 'args' | 'chunk'> & {
  /** With `chunk`: each element of `args` is a whole argument list (starmap), not a single argument. */
  readonly star?: boolean;
};

/** Wire form of one item: index into `WireBatch.targets`, encoded args, chunk flag, star flag. */
export interface WireItem {
  readonly t: number;
  readonly a: unknown[];
  readonly c?: true;
  readonly s?: true;
}

/** Wire form of a batch of items sent to one worker in one message. */
export interface WireBatch {
  readonly targets: EncodedTarget[];
  readonly items: WireItem[];
}

/** Packs items for one worker message, sending each distinct target once. */
export function packBatch(items: readonly WireSource[]): WireBatch {
  const targets: EncodedTarget[] = [];
  const wire: WireItem[] = new Array(items.length);
  let last: EncodedTarget | undefined;
  let lastIndex = -1;
  for (let i = 0; i < items.length; i++) {
    const { target, args, chunk, star } = items[i];
    // Almost every batch has one target; the identity check against the previous one is the fast path.
    if (target !== last) {
      lastIndex = targets.indexOf(target);
      if (lastIndex === -1) lastIndex = targets.push(target) - 1;
      last = target;
    }
    wire[i] = !chunk ? { t: lastIndex, a: args } : star === true ? { t: lastIndex, a: args, c: true, s: true } : { t: lastIndex, a: args, c: true };
  }
  return { targets, items: wire };
}
