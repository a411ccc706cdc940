/**
 * Where a task was submitted (or a thread started), shown under the stack of an error its target
 * throws.
 *
 * Why: a function target runs from its source text in another thread or process, so the frames of
 * an error it throws read `threadkit-target:<name>`, and the rest of its stack is the worker's
 * machinery. Nothing in it says which line of the user's program sent the task. So the public calls
 * that send work (an executor's `submit`/`map`, Pool's `apply`/`map` family, `Thread.start`) record
 * their caller, and an error that comes back gets it appended:
 *
 *     Error: boom
 *         at square (threadkit-target:square:1:40)
 *         …
 *         --- task submitted at ---
 *         at main (/home/me/app.mjs:12:22)
 *
 * Cost: capturing a stack is the expensive part — V8 walks the frames and summarizes each one it
 * keeps, about 2 µs here even for one frame, when an executor's whole round trip for a trivial task
 * is a few µs. So:
 * - the capture keeps at most {@link DEPTH} frames (`Error.stackTraceLimit` lowered around it) and
 *   starts below the public method (`Error.captureStackTrace`'s second argument);
 * - nothing is formatted then: V8 turns the record into text only when `stack` is first read, which
 *   happens here only when an error comes back (until then the record holds the caller's function
 *   and receiver, so a site is kept only as long as its task or thread runs);
 * - in one synchronous stretch of code (until the next microtask), only the first
 *   {@link CAPTURES_PER_TICK} calls capture; after that a call reuses the site captured last in this
 *   stretch for the same key (the same target function), since a burst of thousands of submits is a
 *   loop at one line. A burst that submits the same function from two lines after the first
 *   CAPTURES_PER_TICK can show the earlier line; a program that submits a task at a time is exact.
 */
import * as path from 'node:path';
import { isError } from './errors';

/**
 * Frames kept: the caller of the public method, and one more, for when the caller is another
 * public method of the library (Pool's `apply` calls `applyAsync`, which records).
 */
const DEPTH = 2;

/** Frames of this library's own files are skipped: the user's caller is the first frame outside. */
const LIB_PREFIX = path.resolve(__dirname, '../..') + path.sep;

/** Marks an error that already carries its call site (an error settles one task, but be sure). */
const kWithSite = Symbol('threadkit.callSite');

/** The recorded caller of a public call; its `stack` is formatted lazily by V8 when first read. */
export interface CallSite {
  /** What happened there: 'task submitted', 'thread started'. */
  readonly what: string;
  readonly stack?: string;
}

/** Captures made in one synchronous stretch before sites are reused (see "Cost" above). */
const CAPTURES_PER_TICK = 32;
let capturesThisTick = 0;
/** The site captured last in this stretch, per key. */
const recent = new Map<unknown, CallSite>();

function newTick(): void {
  capturesThisTick = 0;
  recent.clear();
}

/**
 * Records the caller of `method` (a public method that is on the stack now).
 * @param what what happened there, shown in the separator line ('task submitted')
 * @param method the public function whose caller to record: its own frame and those above are skipped
 * @param key what a reused site must have in common with this call (the encoded target)
 */
export function captureCallSite(what: string, method: Function, key: unknown): CallSite {
  if (capturesThisTick >= CAPTURES_PER_TICK) {
    const reused = recent.get(key);
    if (reused !== undefined && reused.what === what) return reused;
  } else if (capturesThisTick === 0) {
    queueMicrotask(newTick);
  }
  capturesThisTick++;
  const site: { what: string; stack?: string } = { what };
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = DEPTH;
  Error.captureStackTrace(site, method);
  Error.stackTraceLimit = limit;
  recent.set(key, site);
  return site;
}

/**
 * Appends the call site under the stack of an error that came back from a target, and returns the
 * error. Anything else (a thrown non-Error value, an error without a stack, no call site) is returned
 * as it is.
 */
export function withCallSite<E>(error: E, site: CallSite | undefined): E {
  if (site === undefined || !isError(error) || typeof error.stack !== 'string' || kWithSite in error) return error;
  const frame = callerFrame(site);
  if (frame === undefined) return error;
  Object.defineProperty(error, kWithSite, { value: true });
  error.stack = `${error.stack}\n    --- ${site.what} at ---\n${frame}`;
  return error;
}

/** The first frame of the recorded stack that is not in this library, as V8 wrote it ("    at …"). */
function callerFrame(site: CallSite): string | undefined {
  const stack = site.stack;
  if (typeof stack !== 'string') return undefined;
  // The first line is the header (the holder object's description), the rest are frames.
  for (const line of stack.split('\n').slice(1)) {
    if (!line.includes(LIB_PREFIX)) return line;
  }
  return undefined;
}
