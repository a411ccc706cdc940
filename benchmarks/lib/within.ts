/** A time limit for anything the benchmark awaits from the library: a hung pool must not hang the run. */

/** Resolves or rejects as `promise` does, or rejects after `ms` with a message naming `what`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** How long a pool's shutdown may take before the benchmark gives up on it. */
export const SHUTDOWN_LIMIT_MS = 5_000;
