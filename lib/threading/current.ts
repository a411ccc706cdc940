/**
 * Which thread is this, which threads are alive, and what happens to an error a thread did not catch:
 * Python's `threading.current_thread`, `main_thread`, `enumerate`, `active_count` and `excepthook`.
 */
import { inspect } from 'node:util';
import { getCurrentThread, MAIN_THREAD, type ThreadInfo } from '../internal/worker/context';
import { isError } from '../internal/transport';
import { describe } from '../internal/validate';

export type { ThreadInfo };

/** What the excepthook and `enumerate()` know of a thread (a Thread object satisfies it). */
export interface ThreadLike {
  readonly name: string;
  readonly ident: number | null;
}

/** Receives an error that a thread's target threw and did not catch. */
export type Excepthook = (error: unknown, thread: ThreadLike) => void;

/**
 * The thread running the calling code: in the main thread `{ name: 'MainThread', ident: 0 }`; inside
 * a Thread, that Thread's name, ident (its worker's `threadId`) and daemon flag.
 * @example
 * const t = new Thread({ target: () => require('threadkit/threading').currentThread().name, name: 'io' });
 */
export function currentThread(): ThreadInfo {
  return getCurrentThread();
}

/** The main thread of the process: `{ name: 'MainThread', ident: 0 }`, from any thread. */
export function mainThread(): { readonly name: string; readonly ident: number } {
  return MAIN_THREAD;
}

/** Threads started from this thread whose run may not have ended: Thread objects register here. */
const started = new Set<ThreadLike & { isAlive(): boolean }>();

/** Registers a Thread that was just started (thread.ts). */
export function trackThread(thread: ThreadLike & { isAlive(): boolean }): void {
  started.add(thread);
}

/** Forgets a Thread that ended (thread.ts). */
export function untrackThread(thread: ThreadLike & { isAlive(): boolean }): void {
  started.delete(thread);
}

/**
 * This thread, followed by the alive threads it started (the Thread objects themselves), as Python's
 * `threading.enumerate()` seen from the calling thread.
 */
export function enumerate(): ThreadLike[] {
  const list: ThreadLike[] = [getCurrentThread()];
  for (const thread of started) {
    if (thread.isAlive()) list.push(thread);
    else started.delete(thread);
  }
  return list;
}

/** `enumerate().length`. */
export function activeCount(): number {
  return enumerate().length;
}

function defaultExcepthook(error: unknown, thread: ThreadLike): void {
  const detail = isError(error) && typeof error.stack === 'string' ? error.stack : inspect(error);
  process.stderr.write(`Exception in thread ${thread.name}:\n${detail}\n`);
}

let excepthook: Excepthook = defaultExcepthook;

/**
 * Sets what receives an error that a thread's target threw and did not catch (Python's
 * `threading.excepthook`); `null` restores the default, which prints `Exception in thread <name>:`
 * and the stack to stderr. Either way the process goes on. The hook runs on the thread that started
 * the failing thread, before that thread's `join()` returns.
 * @throws TypeError when `hook` is neither a function nor null
 * @example
 * setExcepthook((error, thread) => log.error({ thread: thread.name, error }));
 */
export function setExcepthook(hook: Excepthook | null): void {
  if (hook !== null && typeof hook !== 'function') {
    throw new TypeError(`Expected \`hook\` to be a function or null, got ${describe(hook)}`);
  }
  excepthook = hook ?? defaultExcepthook;
}

/** Hands an uncaught thread error to the excepthook; a hook that throws is reported, never propagated. */
export function reportThreadException(error: unknown, thread: ThreadLike): void {
  try {
    excepthook(error, thread);
  } catch (hookError) {
    const detail = isError(hookError) && typeof hookError.stack === 'string' ? hookError.stack : inspect(hookError);
    process.stderr.write(`Exception in threading.excepthook:\n${detail}\n`);
    defaultExcepthook(error, thread);
  }
}
