/**
 * The protocol between a process pool and its children: the parent side
 * (`internal/process-pool/worker-process.ts`, scheduled by `process-lanes.ts`) and the child side
 * (`process-entry.ts`) both import these types. Imports nothing but types.
 *
 * Messages travel over the fork IPC channel, with Node's structured-clone serialization, or for the
 * distributed worker's pools as JSON when that carries them exactly, else as v8's serialization in
 * text (`internal/child/channel.ts`): either way a message arrives as it was sent.
 *
 * Life of a child:
 *   parent → child  `init`     once, first: the initializer to run (or none).
 *   child  → parent `ready`    the initializer returned; tasks may be sent.
 *                   `init-failed` it threw: the pool is broken (as Python's BrokenProcessPool).
 *   parent → child  `tasks`    one or more tasks, run one at a time in the order sent.
 *   child  → parent `results`  the outcomes of one or more finished tasks, in the order run.
 *                   `exiting`  last, from the child's 'exit' handler, after flushing its results.
 *   The parent ends a child by disconnecting the channel; the child exits on 'disconnect', which also
 *   makes orphans exit when the parent dies, however it dies.
 *
 * Batching without losing track of the running task. A fork IPC round trip costs ≈ 60 µs, so small
 * tasks are sent in batches and their results are held back and sent together. A child that dies
 * (kill -9, out of memory, crash) must fail only the task it was running, so the parent must be able
 * to tell that task from those that finished before it and those that had not started. The rule that
 * makes this possible: a child may hold back a finished result across the start of the next task only
 * when both tasks are marked `fast` by the parent (their target recently ran briefly): before starting
 * a task not marked fast, and right after finishing one, the child sends what it holds. So when a
 * child dies, with `U` its unreported tasks in order, `U[0]` was running (or had just finished); a
 * later task can have started only if it and every task from `U[0]` on are marked fast; every other
 * task of `U` never started and is re-queued. Only that short run of fast tasks is failed; a task
 * not marked fast (a slow or first-seen target) is exact.
 * A child that exits through its 'exit' handler (process.exit(), an uncaught error) first sends what
 * it holds and then `exiting`: then `U[0]` alone was running, whatever the marks. Only a death by
 * signal (kill -9, out of memory, a native crash) leaves the short run of fast tasks in doubt.
 *
 * The parent handles a death only once the child has exited AND its IPC channel has disconnected:
 * 'exit' can come before the last messages the child wrote, which would then be mistaken for lost.
 */
import type { EncodedOutcome } from '../transport';
import type { WireBatch } from '../executor/batch';
import type { WireInitializer } from '../executor/run-item';

export interface InitMessage {
  readonly type: 'init';
  readonly initializer: WireInitializer | null;
}

/**
 * Tasks to run in order: a wire batch (`internal/executor/batch.ts`: each distinct target sent
 * once), numbered `first`, `first + 1`, … within this child.
 */
export interface TasksMessage {
  readonly type: 'tasks';
  readonly first: number;
  readonly batch: WireBatch;
  /** Indexes (item numbers within `batch`) of the tasks NOT marked fast; usually empty. */
  readonly slow: number[];
}

export type ParentMessage = InitMessage | TasksMessage;

/** `[task id, outcome, milliseconds the task ran]` */
export type ResultRecord = [id: number, outcome: EncodedOutcome, ms: number];

export interface ReadyMessage {
  readonly type: 'ready';
}
export interface InitFailedMessage {
  readonly type: 'init-failed';
  readonly outcome: EncodedOutcome;
}
export interface ResultsMessage {
  readonly type: 'results';
  readonly results: ResultRecord[];
}

/** Sent last, from the child's 'exit' handler, after every finished result (see the header). */
export interface ExitingMessage {
  readonly type: 'exiting';
}

export type ChildMessage = ReadyMessage | InitFailedMessage | ResultsMessage | ExitingMessage;

/** A child sends held results once it holds this many… */
export const MAX_HELD_RESULTS = 256;
/** …or once the oldest has been held this long. */
export const MAX_HOLD_MS = 2;
