/**
 * The protocol between ThreadPoolExecutor's thread lanes (`internal/executor/thread-lanes.ts`) and
 * the pool threads that piscina runs (`pool-thread.ts`): piscina's `workerData`, its task and its
 * reply. Imports nothing but types.
 *
 * Life of a pool thread:
 *   start   piscina starts it with {@link PoolThreadData}: the pool's batch slots (one shared buffer,
 *           `internal/executor/batch-slot.ts`), the initializer, the name prefix and counter.
 *   task    {@link PoolThreadTask}: run the batch in slot `slot`. Before its first task the thread
 *           names itself ('ThreadPoolExecutor-0_1') and runs the initializer once; if it threw, every
 *           task replies `{ initError }` without running anything. Otherwise it stores READY in the
 *           slot, then claims items one by one through the slot and writes each outcome there.
 *           Targets travel by number: the pool numbers each distinct target, sends it whole the
 *           first times (a thread keeps every target it was sent, by number), and its number alone
 *           afterwards — piscina picks the thread, so a thread may meet a number it was never sent:
 *           it then replies `{ missing }` without running anything, and the batch is sent again with
 *           its targets whole. A function's source text, however long, crosses once per thread.
 *   reply   {@link PoolThreadReply}: nothing when every outcome is in the slot (the common case: the
 *           reply is as small as a message can be); the one outcome that did not fit in the slot's
 *           arena (the batch then ended there, and the main side re-queues the items after it); or
 *           the initializer's failure.
 *   A thread that dies (process.exit, an uncaught error, out of memory) makes piscina reject the
 *   task: the main side reads from the slot what ran, and fails only the item that was running.
 */
import type { EncodedError, EncodedOutcome } from '../transport';
import type { EncodedTarget } from '../transport';
import type { WireInitializer } from '../executor/run-item';

/** What the executor gives every pool thread (piscina's `workerData`). */
export interface PoolThreadData {
  /** The pool's batch slots, `maxWorkers` of them. */
  readonly slots: SharedArrayBuffer;
  readonly initializer?: WireInitializer;
  readonly namePrefix: string;
  /** `[0]`: the number of threads started so far; each new thread takes the next number. */
  readonly counter: Int32Array;
}

/**
 * One piscina task: the slot to run, the batch's targets as `[number, target or null]` pairs (null:
 * the thread should know it), and the items in their wire form (`internal/executor/batch.ts`).
 */
export type PoolThreadTask = [slot: number, targets: Array<number | EncodedTarget | null>, items: unknown[]];

/** The reply (see the header). */
export type PoolThreadReply =
  | undefined
  | { readonly tail: EncodedOutcome; readonly ms: number }
  | { readonly initError: EncodedError }
  | { readonly missing: true };
