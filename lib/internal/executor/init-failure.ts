/**
 * What happens when a worker's initializer throws, for every pool (ThreadPoolExecutor,
 * ProcessPoolExecutor, Pool): Python logs "Exception in initializer:" with the traceback (at
 * CRITICAL level, so it shows on stderr) before the pool breaks; we print the same on the calling
 * side's console, once per pool, and put the error's name and message in the Broken error.
 */

/** Prints the initializer's error and returns its summary ("ValueError: error in initializer"). */
export function reportInitializerFailure(cause: unknown): string {
  console.error('Exception in initializer:', cause);
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
