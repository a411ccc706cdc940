/**
 * `sleep` and `sleepSync`: Python's `time.sleep`, in milliseconds.
 */
import { describe } from '../internal/shm/deadline';
import { ValueError } from '../errors';
import { after } from '../internal/timer';

/** A private word nobody ever notifies: `Atomics.wait` on it is a pure sleep. */
const NEVER_NOTIFIED = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
/** Slot of NEVER_NOTIFIED. */
const WORD = 0;

function checkMs(ms: unknown): number {
  if (typeof ms !== 'number') throw new TypeError(`Expected \`ms\` to be a number of milliseconds, got ${describe(ms)}`);
  if (Number.isNaN(ms) || ms < 0) throw new ValueError(`Expected \`ms\` to be a non-negative number of milliseconds, got ${ms}`);
  return ms;
}

/**
 * Resolves after `ms` milliseconds, leaving the event loop free (a pending sleep keeps the process
 * alive, like any timer).
 * @example
 * await sleep(50);
 * @throws RangeError (rejects) when `ms` is negative or NaN; TypeError when it is not a number.
 */
export async function sleep(ms: number): Promise<void> {
  checkMs(ms);
  // Forever, as sleepSync(Infinity); the interval only keeps the process alive meanwhile.
  if (ms === Infinity) return new Promise<void>(() => setInterval(noop, 0x7fffffff));
  await new Promise<void>((resolve) => after(ms, resolve));
}

/**
 * Blocks the calling thread for `ms` milliseconds (`Atomics.wait`; on the main thread this freezes
 * its event loop, which is the caller's choice).
 * @example
 * sleepSync(50);
 * @throws RangeError when `ms` is negative or NaN; TypeError when it is not a number.
 */
export function sleepSync(ms: number): void {
  checkMs(ms);
  if (ms === 0) return;
  Atomics.wait(NEVER_NOTIFIED, WORD, 0, ms === Infinity ? undefined : ms);
}

function noop(): void {}
