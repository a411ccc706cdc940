/**
 * `warmThreads`: how long a Thread's worker stays warm after its target ended, how many are kept,
 * and starting some ahead of need. Not in Python, whose threads cost nothing to start; here a cold
 * start is a new Worker (a V8 isolate and a Node environment, tens of milliseconds), and a warm one
 * is a message (tens of microseconds).
 */
import { configureWarmWorkers } from '../internal/thread/warm-pool';
import { checkMilliseconds, describe, optionsObject } from '../internal/validate';
import { ValueError } from '../errors';

/** Options of {@link warmThreads}. */
export interface WarmThreadsOptions {
  /**
   * Milliseconds an idle worker stays warm for the next Thread; `Infinity` keeps it until the
   * process ends (idle workers never keep the process alive, whatever this says).
   * @default 5000
   */
  idleTimeout?: number;
  /** Idle workers kept warm, at most (0: none, every Thread starts cold). @default 8 */
  max?: number;
  /** Start workers now, in the background, until this many are idle (at most `max`). @default 0 */
  prestart?: number;
}

/** The settings in force, and how many workers are warm now. */
export interface WarmThreadsState {
  readonly idleTimeout: number;
  readonly max: number;
  /** Idle workers now (prestarted ones count once they are started, which is at once). */
  readonly idle: number;
}

function count(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError(`Expected \`${name}\` to be a whole number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < 0) throw new ValueError(`Expected \`${name}\` to be a whole number from 0 up, got ${value}`);
  return value;
}

/**
 * Keeps the workers of finished Threads warm longer (or shorter), and starts some ahead of need.
 *
 * A Thread that finds an idle worker left by a finished one starts in tens of microseconds; one that
 * finds none starts a Worker, which takes tens of milliseconds. By default up to 8 idle workers wait
 * 5 s for a next Thread. A program that starts threads now and then can keep them longer
 * (`idleTimeout: Infinity`), and one whose first threads must start fast can `prestart` workers at
 * start-up. The settings apply to the whole process; options not given keep their value, and a new
 * `idleTimeout` restarts the idle workers' clocks. Idle workers never keep the process alive.
 *
 * @example
 * warmThreads({ idleTimeout: Infinity, prestart: 2 });  // two workers boot now and wait, unref'd
 * const t = new Thread({ target: () => 42 });
 * t.start();                                          // finds one warm
 *
 * @returns the settings in force and the number of idle workers
 * @throws TypeError for an option of the wrong type; ValueError (a RangeError) for a negative
 *   `idleTimeout`, or a `max` or `prestart` that is not a whole number from 0 up
 */
export function warmThreads(options?: WarmThreadsOptions): WarmThreadsState {
  const opts = optionsObject(options);
  const idleTimeout = opts.idleTimeout === undefined ? undefined : checkMilliseconds(opts.idleTimeout, 'idleTimeout');
  return configureWarmWorkers({ idleTimeout, max: count(opts.max, 'max'), prestart: count(opts.prestart, 'prestart') });
}
