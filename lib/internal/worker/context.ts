/**
 * Which threadkit thread this is: read by `currentThread()` on any thread, set inside a worker by the
 * entry that runs it (the thread entry per run; an executor's task runner may set it too, e.g. to
 * Python's 'ThreadPoolExecutor-0_0' names). Also the counter behind default names ('Thread-N'),
 * shared by every thread worker of the process so that names are unique, as Python's are.
 * Imports nothing: worker-side code and public code share it.
 */
import { isMainThread, threadId } from 'node:worker_threads';

/** What `currentThread()` says about a thread. */
export interface ThreadInfo {
  readonly name: string;
  readonly ident: number;
  readonly daemon: boolean;
}

/** The main thread of the process (its `threadId` is 0). */
export const MAIN_THREAD: ThreadInfo = Object.freeze({ name: 'MainThread', ident: 0, daemon: false });

// A worker not started by threadkit (another library's pool) is named as Python names threads it did
// not create ("Dummy-N"); it is a daemon: nothing waits for it.
let current: ThreadInfo = isMainThread ? MAIN_THREAD : Object.freeze({ name: `Dummy-${threadId}`, ident: threadId, daemon: true });

/** The thread running this code. */
export function getCurrentThread(): ThreadInfo {
  return current;
}

/** Sets what `currentThread()` reports in this worker (the ident is always this worker's threadId). */
export function setCurrentThread(name: string, daemon: boolean): void {
  if (current.name !== name || current.daemon !== daemon) current = Object.freeze({ name, ident: threadId, daemon });
}

/** Slots of the shared counters: default thread names, and Process numbers (multiprocessing). */
const NAME_COUNTER = 0;
const PROCESS_COUNTER = 1;
const COUNTER_SLOTS = 2;

/**
 * The process's default-name counter: created by the first thread that needs it, handed to every
 * thread worker (thread-entry adopts it), so a thread started inside a thread is not 'Thread-1' again.
 */
let nameCounter: Int32Array | undefined;

/** The shared name counter, to pass to a new thread worker. */
export function threadNameCounter(): Int32Array {
  return (nameCounter ??= new Int32Array(new SharedArrayBuffer(COUNTER_SLOTS * Int32Array.BYTES_PER_ELEMENT)));
}

/** Adopts the creating thread's name counter (thread-entry, at startup). */
export function adoptThreadNameCounter(counter: Int32Array): void {
  nameCounter = counter;
}

/** The next default thread name: 'Thread-1', 'Thread-2', … unique in the process. */
export function nextThreadName(): string {
  return `Thread-${Atomics.add(threadNameCounter(), NAME_COUNTER, 1) + 1}`;
}

/**
 * The next Process number of this process: 1, 2, … unique across its threads (Python's
 * `_process_counter`); a Process's name and identity are made from it ('Process-3').
 */
export function nextProcessNumber(): number {
  return Atomics.add(threadNameCounter(), PROCESS_COUNTER, 1) + 1;
}
