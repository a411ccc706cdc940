/**
 * `threadkit/threading` — Python's `threading` for Node.js worker threads.
 *
 * Which primitive to use:
 * - {@link Thread}: run a function in a new worker thread; {@link Timer}: the same, after a delay;
 *   {@link warmThreads}: how long finished threads' workers stay warm for the next ones.
 * - {@link Lock}: mutual exclusion, not reentrant; {@link RLock}: reentrant per thread.
 * - {@link Condition}: wait until another thread changes shared state and notifies.
 * - {@link Semaphore}: admit at most N holders at once; {@link BoundedSemaphore}: also catches a
 *   release without an acquire.
 * - {@link Event}: a flag that threads wait for; {@link Barrier}: N threads meet, then all go on.
 *
 * Every primitive lives in a SharedArrayBuffer and is passed to threads as an argument; it arrives as
 * a working instance over the same memory. Every blocking method comes twice: `x.acquire()` returns a
 * Promise and leaves the event loop free; `x.acquireSync()` blocks the calling thread with
 * `Atomics.wait`. Timeouts are milliseconds; `undefined` waits forever.
 */
export { Thread, type ThreadOptions } from './thread';
export { warmThreads, type WarmThreadsOptions, type WarmThreadsState } from './warm-threads';
export { Timer } from './timer';
export { Lock } from './lock';
export { RLock } from './rlock';
export { Condition } from './condition';
export { Semaphore, BoundedSemaphore } from './semaphore';
export { Event } from './event';
export { Barrier, type BarrierOptions } from './barrier';
export { currentThread, mainThread, enumerate, activeCount, setExcepthook, type ThreadInfo } from './current';
export { sleep, sleepSync } from './sleep';
