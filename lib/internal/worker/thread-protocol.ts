/**
 * The protocol between a Thread (lib/threading/thread.ts) and the worker that runs it
 * (thread-entry.ts): the slots of a thread's state word array and the messages on its port.
 * Imports nothing but types.
 *
 * Life of a thread, one word (slot LIFE) of a small Int32Array over a SharedArrayBuffer:
 *
 *     NEW ──start()──▶ STARTED ──entry begins──▶ RUNNING ──target ended──▶ STOPPED
 *
 * STOPPED is stored (and every waiter notified) by the entry after it posted the outcome, by the
 * entry's `process.on('exit')` handler when the target calls `process.exit()`, and by the creating
 * thread's Worker `'exit'` listener (crash, terminate). So `joinSync` can park on the word and is woken
 * however the thread ends; and because the outcome is posted *before* STOPPED is stored, a joiner that
 * sees STOPPED finds the outcome already queued on the port (or knows the worker died without one).
 *
 * A Timer's worker parks on slot CANCEL with its interval as the timeout; `cancel()` stores CANCELLED
 * there and notifies, so a cancelled Timer wakes at once without polling.
 */
import type { MessagePort } from 'node:worker_threads';
import type { EncodedTarget, EncodedError } from '../transport';

/** Slot of the life word. */
export const LIFE = 0;
/** Slot of a Timer's cancel word. */
export const CANCEL = 1;
/** Number of Int32 slots of a thread's state array. */
export const STATE_SLOTS = 2;

/** Values of the life word. */
export const NEW = 0;
export const STARTED = 1;
export const RUNNING = 2;
export const STOPPED = 3;

/** Values of the cancel word. */
export const NOT_CANCELLED = 0;
export const CANCELLED = 1;

/** `workerData` of a thread worker. */
export interface ThreadWorkerData {
  /** The worker's end of its private channel (the creating thread keeps the other end). */
  readonly port: MessagePort;
  /** The process's default-name counter (context.ts). */
  readonly nameCounter: Int32Array;
}

/** Creating thread → worker: run one target (the worker is idle when it gets this). */
export interface RunMessage {
  readonly type: 'run';
  /** The thread's state words (LIFE, CANCEL). */
  readonly state: SharedArrayBuffer;
  readonly target: EncodedTarget;
  readonly args: unknown[];
  /** Encoded `this` for a subclass's `run()` (its own fields). */
  readonly thisArg?: unknown;
  readonly name: string;
  readonly daemon: boolean;
  /** Send the target's value back instead of dropping it as a Thread does (the specs' target threads, spec/helpers/target-thread.ts). */
  readonly wantResult: boolean;
  /** Timer: fire at this absolute time (`performance.timeOrigin + performance.now()` scale), unless cancelled. */
  readonly fireAt?: number;
}

/** Worker → creating thread: the target ended (posted before LIFE becomes STOPPED). */
export type DoneMessage =
  | { readonly type: 'done'; readonly ok: true; readonly value?: unknown }
  | { readonly type: 'done'; readonly ok: false; readonly error: EncodedError };
