/**
 * `threadkit/multiprocessing` — Python's `multiprocessing` for Node.js child processes.
 *
 * - {@link Pool}: a pool of child processes with Python's `apply`/`map`/`imap` family and
 *   {@link AsyncResult}s.
 * - {@link cpuCount}: how many processors this machine offers.
 * - {@link Process}: a function running in a child process, with Python's life cycle (start, join,
 *   terminate, kill, exitcode, daemon); {@link currentProcess}, {@link parentProcess}, {@link activeChildren}.
 * - {@link Lock}, {@link RLock}, {@link Condition}, {@link Semaphore}, {@link BoundedSemaphore},
 *   {@link Event}, {@link Barrier}: the threading primitives in memory that every process of the
 *   tree shares; {@link Value} and {@link SharedArray} (also `Array`): numbers in that memory.
 * - {@link Queue}, {@link JoinableQueue}, {@link SimpleQueue}: `threadkit/queue`'s queues across
 *   processes (items in that memory, no feeder thread); {@link Pipe}: two connected
 *   {@link Connection} ends that send messages both ways (or one way).
 */
export { Pool, type PoolOptions, type MapAsyncOptions } from './pool';
export { AsyncResult, type AsyncResultCallbacks } from './async-result';
export { cpuCount } from './cpu-count';
export { Process, type ProcessOptions } from './process';
export { currentProcess, parentProcess, activeChildren, type ProcessInfo, type ParentProcessInfo } from './current';
export { Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event, Barrier } from './synchronize';
export { Value, SharedArray, SharedArray as Array, type Typecode, type SharedOptions } from './sharedctypes';
export { Queue, JoinableQueue, SimpleQueue } from './queues';
export { Pipe, Connection } from './connection';
