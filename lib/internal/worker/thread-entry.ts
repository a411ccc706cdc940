// Runs inside the worker of a threadkit Thread; imports only internal/.
/**
 * The thread entry: a worker that runs one Thread's target at a time, for as many Threads as reuse
 * it. Protocol and state words: thread-protocol.ts.
 *
 * For each run: set `currentThread()`, mark RUNNING, (Timer: wait for the interval unless
 * cancelled), invoke the target, post the outcome, then mark STOPPED and wake joiners — in that order,
 * so that a joiner woken by STOPPED finds the outcome already queued on its port.
 */
import { workerData } from 'node:worker_threads';
// The transport's own files, not its index: a cold Thread start pays for every module its worker
// loads (each of Node's own too: node:perf_hooks costs more than a millisecond in a fresh worker),
// and the index would also load what only the creating side needs (target encoding, entry paths).
// What only a Timer needs (the clock, parking on the cancel word) is loaded when a Timer runs, and
// the error encoder when something fails.
const encodeError = (error: unknown): EncodedError => (require('../transport/errors') as typeof import('../transport/errors')).encodeError(error);
import { invoke, type EncodedOutcome } from '../transport/invoke';
import type { EncodedError } from '../transport/errors';
import { decodeValue } from '../transport/values';
import { adoptThreadNameCounter, setCurrentThread } from './context';
import { installDirectStdio } from './direct-stdio';
import { LocalBlock } from '../shm/block';
import {
  CANCEL, CANCELLED, LIFE, NOT_CANCELLED, RUNNING, STOPPED,
  type DoneMessage, type RunMessage, type ThreadWorkerData,
} from './thread-protocol';

const { port, nameCounter } = workerData as ThreadWorkerData;
adoptThreadNameCounter(nameCounter);
installDirectStdio();

/** State words of the run in progress, for the exit handler. */
let running: LocalBlock | undefined;

function markStopped(state: LocalBlock): void {
  Atomics.store(state.i32, LIFE, STOPPED);
  state.wake(LIFE, Infinity);
}

// A target that calls process.exit() ends this worker: its joiners must still wake, even when the
// creating thread is blocked in joinSync and cannot see the Worker's 'exit' event.
process.on('exit', () => {
  if (running !== undefined) markStopped(running);
});

/** A Timer's wait: true when the interval passed, false when cancelled first. */
function waitForTimer(state: LocalBlock, fireAt: number): boolean {
  const { parkSync } = require('../shm/park') as typeof import('../shm/park');
  const { performance } = require('node:perf_hooks') as typeof import('node:perf_hooks');
  const deadline = fireAt - performance.timeOrigin;
  while (Atomics.load(state.i32, CANCEL) === NOT_CANCELLED) {
    if (parkSync(state, CANCEL, NOT_CANCELLED, deadline) === 'timed-out') return Atomics.load(state.i32, CANCEL) !== CANCELLED;
  }
  return false;
}

async function run(msg: RunMessage): Promise<void> {
  const state = new LocalBlock(new Int32Array(msg.state));
  running = state;
  setCurrentThread(msg.name, msg.daemon);
  Atomics.store(state.i32, LIFE, RUNNING);
  let outcome: EncodedOutcome = { ok: true, value: undefined };
  if (msg.fireAt === undefined || waitForTimer(state, msg.fireAt)) {
    try {
      outcome = await invoke(msg.target, msg.args, decodeValue(msg.thisArg));
    } catch (error) {
      outcome = { ok: false, error: encodeError(error) };
    }
  }
  const done: DoneMessage = outcome.ok
    ? { type: 'done', ok: true, value: msg.wantResult ? outcome.value : undefined }
    : { type: 'done', ok: false, error: outcome.error };
  try {
    port.postMessage(done);
  } catch (error) {
    // The value could not be cloned (DataCloneError): say so instead of leaving the joiner without an outcome.
    const reason = new TypeError(`the value returned by the target cannot be sent to another thread: ${(error as Error).message}`);
    port.postMessage({ type: 'done', ok: false, error: encodeError(reason) } satisfies DoneMessage);
  }
  running = undefined;
  markStopped(state);
}

port.on('message', (msg: RunMessage) => void run(msg));
