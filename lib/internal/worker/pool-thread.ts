// Runs inside a ThreadPoolExecutor worker thread (loaded by piscina); imports only internal/.
/**
 * The task handler of ThreadPoolExecutor's piscina workers: one piscina task is one batch of work
 * items, run one at a time in order through the batch slot's shared memory (see
 * `internal/executor/batch-slot.ts`), so that a worker dying in item k fails only item k.
 *
 * Before its first batch a worker names itself ('ThreadPoolExecutor-0_1', for `currentThread()`)
 * and runs the pool's initializer once; an initializer that throws makes every batch of this worker
 * reply `{ initError }` without running anything.
 */
import { workerData } from 'node:worker_threads';
import { encodeError, type EncodedError, type EncodedOutcome } from '../transport';
import { runInitializer, runItem, type WireInitializer } from '../executor/run-item';
import type { WireBatch } from '../executor/work-item';
import { claim, closeClaims, slotViews, writeResult, type SlotViews } from '../executor/batch-slot';
import { setCurrentThread } from './context';
import { installDirectStdio } from './direct-stdio';

/** What the executor gives every pool worker (piscina's `workerData`). */
export interface PoolThreadData {
  readonly initializer?: WireInitializer;
  readonly namePrefix: string;
  /** `[0]`: the number of workers started so far; each new worker takes the next number. */
  readonly counter: Int32Array;
}

/** One piscina task. */
export interface PoolThreadTask {
  readonly buffer: SharedArrayBuffer;
  readonly batch: WireBatch;
}

/** One outcome that did not go through the arena. */
export interface TailOutcome {
  readonly ok: boolean;
  readonly value: unknown;
}

/** The reply: the outcome after the arena's ones (at most one) — or the initializer's failure. */
export type PoolThreadReply = { readonly tail: TailOutcome[] } | { readonly initError: EncodedError };

// A task's console output goes straight to fds 1/2, so none is lost when the process exits right
// after the work (Node would forward it through the main thread's event loop).
installDirectStdio();

const WORKER_NUMBER = 0;
const data = workerData as PoolThreadData;
setCurrentThread(`${data.namePrefix}_${Atomics.add(data.counter, WORKER_NUMBER, 1)}`, false);

/** The initializer's run: pending, then its error (or null) once done. */
let initializing: Promise<void> | undefined;
let initError: EncodedError | null | undefined;

function initialize(): Promise<void> {
  const init = data.initializer;
  if (init === undefined) {
    initError = null;
    return Promise.resolve();
  }
  return runInitializer(init).then((outcome) => {
    initError = outcome.ok ? null : outcome.error;
  });
}

/** Piscina's handler: synchronous while the items are (piscina awaits whatever it returns). */
export default function runBatch(task: PoolThreadTask): PoolThreadReply | Promise<PoolThreadReply> {
  if (initError === undefined) return (initializing ??= initialize()).then(() => runBatch(task));
  if (initError !== null) return { initError };
  return runFrom(slotViews(task.buffer), task.batch);
}

/** Claims and runs items until none is left; continues asynchronously after an async item. */
function runFrom(views: SlotViews, batch: WireBatch): PoolThreadReply | Promise<PoolThreadReply> {
  for (let i = claim(views.header); i >= 0; i = claim(views.header)) {
    const outcome = runItem(batch, batch.items[i]);
    if (outcome instanceof Promise) return outcome.then((later) => record(views, later) ?? runFrom(views, batch));
    const reply = record(views, outcome);
    if (reply !== undefined) return reply;
  }
  return { tail: [] };
}

/** Writes an item's outcome to the slot; the final reply when the batch must end here. */
function record(views: SlotViews, outcome: EncodedOutcome): PoolThreadReply | undefined {
  const ok = outcome.ok;
  const value = outcome.ok ? outcome.value : outcome.error;
  const status = writeResult(views, ok, value);
  if (status === 'written') return undefined;
  // Results must stay in item order, and the ones after this would have to follow it in the
  // reply, out of reach of a later death: end the batch here; the main side re-queues the rest.
  closeClaims(views.header);
  return { tail: [status === 'unserializable' ? sendable(ok, value) : { ok, value }] };
}

/** The outcome itself when postMessage can send it, else a TypeError saying why not. */
function sendable(ok: boolean, value: unknown): TailOutcome {
  try {
    structuredClone(value);
    return { ok, value };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, value: encodeError(new TypeError(`the task's result cannot be sent back to the calling thread: ${reason}`)) };
  }
}
