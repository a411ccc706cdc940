/**
 * What happens when a worker's initializer throws, for every pool (ThreadPoolExecutor,
 * ProcessPoolExecutor, Pool): Python logs "Exception in initializer:" with the traceback (at
 * CRITICAL level, so it shows on stderr) before the pool breaks; we print the same on the calling
 * side's console, once per pool, and put the error's name and message in the Broken error.
 */

/** The error's summary for a Broken error's message: "ValueError: error in initializer". */
export function initializerSummary(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

/** Prints the initializer's error (with its stack) and returns its summary. */
export function reportInitializerFailure(cause: unknown): string {
  console.error('Exception in initializer:', cause);
  return initializerSummary(cause);
}
