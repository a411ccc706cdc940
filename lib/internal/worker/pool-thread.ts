// Runs inside a ThreadPoolExecutor worker thread (loaded by piscina); imports only internal/.
/**
 * The task handler of ThreadPoolExecutor's piscina threads: one piscina task is one batch, run item
 * by item through its batch slot's shared memory (`internal/executor/batch-slot.ts`), so that a
 * thread dying in item k fails only item k. Protocol: `pool-thread-protocol.ts`.
 */
import { workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { encodeError, type EncodedError, type EncodedOutcome, type EncodedTarget } from '../transport';
import { runInitializer, runItem } from '../executor/run-item';
import type { WireBatch } from '../executor/batch';
import { claim, closeClaims, markReady, slotViews, writeResult, type SlotViews } from '../executor/batch-slot';
import { setCurrentThread } from './context';
import { installDirectStdio } from './direct-stdio';
import type { PoolThreadData, PoolThreadReply, PoolThreadTask } from './pool-thread-protocol';

// A task's console output goes straight to fds 1/2, so none is lost when the process exits right
// after the work (Node would forward it through the main thread's event loop).
installDirectStdio();

const WORKER_NUMBER = 0;
const data = workerData as PoolThreadData;
setCurrentThread(`${data.namePrefix}_${Atomics.add(data.counter, WORKER_NUMBER, 1)}`, false);

/** Views of each slot, made on first use. */
const slots: SlotViews[] = [];

/** Every target this thread was sent whole, by its number (see the protocol). */
const targetsByNumber = new Map<number, EncodedTarget>();
/** Numbers remembered, at most; beyond this the thread starts over (and asks again when it meets one). */
const MAX_TARGETS = 1024;

/** The batch's targets from `[number, target or null]` pairs, or undefined when one is unknown here. */
function resolveTargets(pairs: Array<number | EncodedTarget | null>): EncodedTarget[] | undefined {
  const targets: EncodedTarget[] = new Array(pairs.length / 2);
  for (let i = 0; i < pairs.length; i += 2) {
    const number = pairs[i] as number;
    let target = pairs[i + 1] as EncodedTarget | null;
    if (target !== null) {
      if (targetsByNumber.size >= MAX_TARGETS) targetsByNumber.clear();
      targetsByNumber.set(number, target);
    } else {
      target = targetsByNumber.get(number) ?? null;
      if (target === null) return undefined;
    }
    targets[i / 2] = target;
  }
  return targets;
}

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
  const [slot, pairs, items] = task;
  const targets = resolveTargets(pairs);
  if (targets === undefined) return { missing: true };
  const views = (slots[slot] ??= slotViews(data.slots, slot));
  markReady(views.header);
  return runFrom(views, [targets, items]);
}

/** Claims and runs items until none is left; continues asynchronously after an async item. */
function runFrom(views: SlotViews, batch: WireBatch): PoolThreadReply | Promise<PoolThreadReply> {
  for (let i = claim(views.header); i >= 0; i = claim(views.header)) {
    const start = performance.now();
    const outcome = runItem(batch, i);
    if (outcome instanceof Promise) {
      return outcome.then((later) => record(views, later, performance.now() - start) ?? runFrom(views, batch));
    }
    const reply = record(views, outcome, performance.now() - start);
    if (reply !== undefined) return reply;
  }
  return undefined;
}

/** Writes an item's outcome to the slot; the final reply when the batch must end here. */
function record(views: SlotViews, outcome: EncodedOutcome, ms: number): PoolThreadReply {
  const status = writeResult(views, outcome, ms);
  if (status === 'written') return undefined;
  // Results must stay in item order, and the ones after this would have to follow it in the
  // reply, out of reach of a later death: end the batch here; the main side re-queues the rest.
  closeClaims(views.header);
  return { tail: status === 'unserializable' ? sendable(outcome) : outcome, ms };
}

/** The outcome itself when postMessage can send it, else a TypeError saying why not. */
function sendable(outcome: EncodedOutcome): EncodedOutcome {
  try {
    structuredClone(outcome);
    return outcome;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: encodeError(new TypeError(`the task's result cannot be sent back to the calling thread: ${reason}`)) };
  }
}
