/**
 * A block: the 32-bit words of one primitive, together with the way to sleep on them and wake them.
 *
 * The algorithms of `internal/shm` are written once and run over two kinds of memory:
 *
 * - {@link LocalBlock}: a SharedArrayBuffer of this process (every `threadkit/threading` object).
 *   Sleeping is `Atomics.wait` / `Atomics.waitAsync`, waking is `Atomics.notify`: V8's waiter list,
 *   which only threads of this process can be on.
 * - the arena's blocks (`internal/arena`): memory mapped in several processes. Sleeping and waking
 *   go through the native addon's futex, which the kernel shares between processes.
 *
 * The two never mix: V8's `Atomics.notify` does not wake a futex waiter, and a futex wake does not
 * wake a thread in `Atomics.wait`, even inside one process. A word slept on one way and woken the
 * other way is a lost wake-up, a waiter asleep for ever. So the way to sleep and wake belongs to
 * the memory, not to the call site: every algorithm receives a Block and calls only its `waitSync`,
 * `waitAsync` and `wake` (through `park.ts`), never `Atomics.wait`/`notify` directly. The fast
 * paths (a CAS on `block.i32`) are plain Atomics on either kind: memory is memory.
 */

/** Why a wait ended. Any wait may also end early ('ok' with no wake meant for it): re-check in a loop. */
export type ParkResult = 'ok' | 'not-equal' | 'timed-out';

/** The words of a primitive and how to sleep on them and wake them. */
export interface Block {
  /** The words; algorithms address them by slot constants. */
  readonly i32: Int32Array;
  /** Sleeps while `i32[index] === expected`, at most `ms` milliseconds (Infinity: no limit). */
  waitSync(index: number, expected: number, ms: number): ParkResult;
  /**
   * As waitSync, without blocking the event loop; a pending wait keeps the process alive (as a
   * pending timer does). A result at once when there is nothing to wait for.
   */
  waitAsync(index: number, expected: number, ms: number): ParkResult | Promise<ParkResult>;
  /** Wakes up to `count` (Infinity: all) sleepers of `i32[index]`; returns how many were woken. */
  wake(index: number, count: number): number;
}

let pendingAsync = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;

function noop(): void {}

/**
 * Keeps the process alive while `waited` is pending: a pending `Atomics.waitAsync` does not keep
 * Node's event loop alive, so a program whose only pending work is `await lock.acquire()` would
 * simply exit. One ref'd interval serves every pending wait of this thread.
 */
async function held(waited: Promise<ParkResult>): Promise<ParkResult> {
  if (pendingAsync++ === 0) keepAlive = setInterval(noop, 0x7fffffff);
  try {
    return await waited;
  } finally {
    if (--pendingAsync === 0 && keepAlive !== undefined) {
      clearInterval(keepAlive);
      keepAlive = undefined;
    }
  }
}

/** Memory of this process: V8's `Atomics.wait`, `Atomics.waitAsync` and `Atomics.notify`. */
export class LocalBlock implements Block {
  constructor(readonly i32: Int32Array) {}

  waitSync(index: number, expected: number, ms: number): ParkResult {
    return Atomics.wait(this.i32, index, expected, ms === Infinity ? undefined : ms);
  }

  waitAsync(index: number, expected: number, ms: number): ParkResult | Promise<ParkResult> {
    const waited = Atomics.waitAsync(this.i32, index, expected, ms === Infinity ? undefined : ms);
    return waited.async ? held(waited.value) : waited.value;
  }

  wake(index: number, count: number): number {
    return Atomics.notify(this.i32, index, count);
  }
}

/** A fresh zeroed block of `words` words in this process's memory. */
export function localBlock(words: number): LocalBlock {
  return new LocalBlock(new Int32Array(new SharedArrayBuffer(words * Int32Array.BYTES_PER_ELEMENT)));
}

/** A private word nobody ever wakes: waiting on it is a pure sleep. */
let neverWoken: LocalBlock | undefined;

/**
 * Blocks the calling thread for `ms` milliseconds (Infinity: for ever), without spinning: the one
 * pure sleep of the library (sleepSync, a retried write to a full pipe, polling a child's end).
 */
export function sleepBlocking(ms: number): void {
  (neverWoken ??= localBlock(1)).waitSync(0, 0, ms);
}

/**
 * How a primitive's constructor is given its memory instead of allocating its own: a reviver (a
 * handle received from another thread) or a `threadkit/multiprocessing` subclass (a block of the
 * arena) hands the state over right before `new`/`super()`, and the constructor takes it first
 * thing. JavaScript runs one constructor at a time per thread, so nothing can come in between.
 */
let handed: unknown;

/** Hands `state` to the next primitive constructor; returns `args`, for `super(...handOver(state, a, b))`. */
export function handOver<A extends unknown[]>(state: unknown, ...args: A): A {
  handed = state;
  return args;
}

/** The state handed over for this constructor, if any (once). */
export function takeHandOver<T>(): T | undefined {
  const state = handed as T | undefined;
  handed = undefined;
  return state;
}
