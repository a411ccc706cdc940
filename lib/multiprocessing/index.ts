/**
 * `threadkit/multiprocessing` — Python's `multiprocessing` for Node.js child processes.
 *
 * - {@link Pool}: a pool of child processes with Python's `apply`/`map`/`imap` family and
 *   {@link AsyncResult}s.
 * - {@link cpuCount}: how many processors this machine offers.
 *
 * Process, the cross-process synchronization primitives, queues, pipes and shared ctypes (Python's
 * `Process`, `Lock`…`Barrier`, `Queue`, `Pipe`, `Value` and `Array`) come in a later release.
 */
export { Pool, type PoolOptions, type MapAsyncOptions } from './pool';
export { AsyncResult, type AsyncResultCallbacks } from './async-result';
export { cpuCount } from './cpu-count';
