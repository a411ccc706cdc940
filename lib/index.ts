/**
 * threadkit — Python's `threading`, `queue`, `concurrent.futures` and `multiprocessing` for Node.js.
 *
 * This entry point holds everything from `threadkit/threading`, `threadkit/queue` and
 * `threadkit/futures`, the error classes, and the target helpers (`fromModule`, `Target`).
 * `threadkit/multiprocessing` is imported on its own, since its names (Lock, Queue, …) repeat the
 * threading ones for objects that also cross processes.
 */
export * from './errors';
export { fromModule, type Target, type ModuleTarget, type TargetOptions, type TargetArgs } from './target';
export * from './threading';
export * from './queue';
export * from './futures';
