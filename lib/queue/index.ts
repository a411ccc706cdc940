/**
 * `threadkit/queue` — Python's `queue` for Node.js worker threads.
 *
 * Which queue to use:
 * - {@link Queue}: first in, first out, optionally bounded (`maxsize`), with `taskDone()`/`join()`.
 * - {@link LifoQueue}: last in, first out (a stack).
 * - {@link PriorityQueue}: lowest item first (numbers, strings, or `[priority, data]` arrays).
 * - {@link SimpleQueue}: unbounded first in, first out, without task tracking.
 *
 * Every queue lives in shared memory and is passed to threads (Thread, Timer, ThreadPoolExecutor
 * tasks) as an argument, arriving as a working instance over the same items. Items are
 * structured-cloned into that memory; threadkit's shared objects inside them (a Lock, an Event,
 * another queue) arrive as working instances. Every blocking call comes twice: `put`/`get` return
 * Promises and leave the event loop free, `putSync`/`getSync` block the calling thread. Timeouts
 * are milliseconds; `undefined` waits forever, `0` tries once. For processes, use the queues of
 * `threadkit/multiprocessing`.
 */
export { Queue, LifoQueue, PriorityQueue } from './queue';
export { SimpleQueue } from './simple-queue';
