import * as os from 'node:os';

/**
 * How many processors this process may use: `os.availableParallelism()` (which honours CPU affinity
 * masks, unlike `os.cpus().length`), as Python's `os.process_cpu_count()`.
 *
 * @example
 * const pool = new Pool(cpuCount());
 */
export function cpuCount(): number {
  return os.availableParallelism();
}
