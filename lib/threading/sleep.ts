/**
 * `sleep` and `sleepSync`: Python's `time.sleep`, in milliseconds.
 */
import { checkMilliseconds } from '../internal/validate';
import { after } from '../internal/timer';
import { sleepBlocking } from '../internal/shm/block';

/**
 * Resolves after `ms` milliseconds, leaving the event loop free (a pending sleep keeps the process
 * alive, like any timer).
 * @example
 * await sleep(50);
 * @throws RangeError (rejects) when `ms` is negative or NaN; TypeError when it is not a number.
 */
export async function sleep(ms: number): Promise<void> {
  checkMilliseconds(ms, 'ms');
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
  checkMilliseconds(ms, 'ms');
  if (ms === 0) return;
  sleepBlocking(ms);
}

function noop(): void {}
