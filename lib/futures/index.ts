/**
 * `threadkit/futures` — Python's `concurrent.futures` for Node.js.
 *
 * - {@link ThreadPoolExecutor}: a pool of worker threads (piscina underneath) — CPU-bound JavaScript,
 *   blocking synchronous calls, anything that must not stall the main event loop.
 * - {@link ProcessPoolExecutor}: a pool of child processes — isolation (a crash, `process.exit()` or
 *   an out-of-memory task takes only its own process down) and separate heaps.
 * - {@link Future}: the pending result of a submitted task; `await future` gives its value.
 * - {@link wait} and {@link asCompleted}: wait for several futures at once.
 */
export { Future, type CompletedFuture } from './future';
export { Executor, type MapOptions, type ShutdownOptions } from './executor';
export { ThreadPoolExecutor, type ThreadPoolExecutorOptions } from './thread-pool-executor';
export { ProcessPoolExecutor, type ProcessPoolExecutorOptions } from './process-pool-executor';
export { wait, asCompleted, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, type ReturnWhen, type WaitOptions } from './wait';
