// Runs inside a process pool's child process (forked by internal/process-pool); imports only internal/.
/**
 * The child side of the process-pool protocol (`process-pool-protocol.ts`): runs the initializer,
 * then the tasks it is sent, one at a time and in order (with the executors' shared `runItem`), and
 * sends their outcomes back, holding back the results of fast tasks so that many small tasks cost
 * one message.
 */
import * as v8 from 'node:v8';
import { performance } from 'node:perf_hooks';
import { encodeError, type EncodedOutcome } from '../transport';
import { runInitializer, runItem, type MaybeOutcome } from '../executor/run-item';
import { Deque } from '../deque';
import { batchLength, type WireBatch } from '../executor/batch';
import { MAX_HELD_RESULTS, MAX_HOLD_MS, type ChildMessage, type ParentMessage, type ResultRecord } from './process-pool-protocol';
import { startChild } from '../child/startup';
import { fromChannel, toChannel } from '../child/channel';

// Adopt the identity the parent gave and arm the death watch: the pool retires this child, and its
// parent's death ends it, by closing the channel (it then exits with code 0).
const { config } = startChild();

interface Task {
  readonly id: number;
  readonly batch: WireBatch;
  /** The task's item number within `batch`. */
  readonly index: number;
  readonly fast: boolean;
}

const send = (message: ChildMessage): void => {
  process.send!(toChannel(message, config.channel));
};

/** Tasks received and not yet started. */
const queue = new Deque<Task>();
let draining = false;
let ready: Promise<void> = Promise.resolve();
/** Set once the initializer has run (tasks wait for it). */
let isReady = false;

/** Finished results not yet sent, and when the oldest of them finished. */
let held: ResultRecord[] = [];
let heldSince = 0;
let flushScheduled = false;

function flush(): void {
  if (held.length === 0) return;
  const results = held;
  held = [];
  try {
    send({ type: 'results', results });
  } catch {
    if (!process.connected) return; // the parent is gone; 'disconnect' ends this process
    // A result that cannot be cloned (a function, a socket…) fails only its own task.
    for (const record of results) {
      if (!record[1].ok) continue;
      try {
        v8.serialize(record[1].value);
      } catch (cause) {
        const error = new TypeError(`the task's result cannot be sent back to the parent process: ${(cause as Error).message}`);
        record[1] = { ok: false, error: encodeError(error) };
      }
    }
    send({ type: 'results', results });
  }
}

/**
 * Results held while a task awaits something real (a timer, I/O) go out as soon as the event loop
 * gets a turn: a setImmediate never runs during a synchronous stretch of tasks, only when one waits.
 */
function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(() => {
    flushScheduled = false;
    flush();
  });
}

/** Runs a task: its outcome now when it is synchronous (see `invokeSync`), else a Promise of it. */
function run(task: Task): MaybeOutcome {
  try {
    const outcome = runItem(task.batch, task.index);
    return outcome instanceof Promise ? outcome.catch((error): EncodedOutcome => ({ ok: false, error: encodeError(error) })) : outcome;
  } catch (error) {
    return { ok: false, error: encodeError(error) };
  }
}

/**
 * Runs the queued tasks in order: synchronously while they are, continuing after an async task
 * settles (a microtask hop per small task would cost more than the task).
 */
function drain(): void {
  draining = true;
  if (!isReady) {
    void ready.then(drain);
    return;
  }
  for (let task = queue.shift(); task !== undefined; task = queue.shift()) {
    // The protocol's rule: before a task not marked fast, send every held result, so that a death
    // during it cannot be mistaken for a death during an earlier, finished task (and vice versa).
    if (held.length > 0 && (!task.fast || held.length >= MAX_HELD_RESULTS || performance.now() - heldSince > MAX_HOLD_MS)) flush();
    const start = performance.now();
    const outcome = run(task);
    if (outcome instanceof Promise) {
      void outcome.then((later) => {
        finished(task, start, later);
        drain();
      });
      return;
    }
    finished(task, start, outcome);
  }
  draining = false;
  flush();
}

/** Holds (or sends) a finished task's result. */
function finished(task: Task, start: number, outcome: EncodedOutcome): void {
  const end = performance.now();
  if (held.length === 0) heldSince = end;
  held.push([task.id, outcome, end - start]);
  // The result of a task not marked fast is never held across the start of the next task: a
  // death during that next task must not leave the parent in doubt about which one was running.
  if (!task.fast) flush();
  else scheduleFlush();
}

async function initialize(message: Extract<ParentMessage, { type: 'init' }>): Promise<void> {
  if (message.initializer !== null) {
    const outcome = await runInitializer(message.initializer).catch((error): EncodedOutcome => ({ ok: false, error: encodeError(error) }));
    if (!outcome.ok) {
      send({ type: 'init-failed', outcome });
      // Never run a task in a process whose initializer failed; the parent ends us.
      return new Promise<never>(() => {});
    }
  }
  isReady = true;
  send({ type: 'ready' });
}

process.on('message', (received: unknown) => {
  const message = fromChannel(received, config.channel) as ParentMessage;
  if (message.type === 'init') {
    ready = initialize(message);
  } else if (message.type === 'tasks') {
    const { first, batch, slow } = message;
    const count = batchLength(batch);
    let nextSlow = 0;
    for (let i = 0; i < count; i++) {
      const fast = nextSlow >= slow.length || slow[nextSlow] !== i;
      if (!fast) nextSlow++;
      queue.push({ id: first + i, batch, index: i, fast });
    }
    if (!draining) drain();
  }
});

// A task that calls process.exit() (or throws asynchronously): the results finished before it still
// reach the parent (the IPC write is attempted synchronously), so only that task is failed.
process.on('exit', () => {
  if (!process.connected) return;
  try {
    flush();
    send({ type: 'exiting' });
  } catch {
    // nothing more can be done while exiting
  }
});
