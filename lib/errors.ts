/**
 * threadkit's error classes, named as in Python's `threading`, `queue`, `concurrent.futures` and
 * `multiprocessing`.
 *
 * Every class sets `name` to its own class name (so `err.name === 'RuntimeError'` holds after the
 * error crossed a thread or process boundary), and every message states the broken rule in
 * lowercase, as CPython does ("cannot release un-acquired lock").
 *
 * Bad arguments are not listed here: they use the built-in `TypeError` (wrong type, a value that
 * cannot be sent to another thread or process) and `RangeError` (negative count, bad timeout).
 */

/** Misuse of state: releasing an unlocked Lock, starting a Thread twice, submitting after shutdown. */
export class RuntimeError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

/**
 * A value out of its allowed range given the object's state: a BoundedSemaphore released above its
 * initial value, `taskDone()` called too often, `AsyncResult.successful()` before it is ready. Also
 * every number argument out of range (a negative or NaN timeout, a count below its minimum), where
 * Python raises ValueError too. Extends `RangeError`, so `instanceof RangeError` holds for all of them.
 */
export class ValueError extends RangeError {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ValueError';
  }
}

/** A wait that must produce a value ran out of time (`Future.result(t)`, `AsyncResult.get(t)`, …). */
export class TimeoutError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TimeoutError';
  }
}

/** `result()` / `exception()` of a cancelled Future. */
export class CancelledError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CancelledError';
  }
}

/** `setResult` / `setException` on a Future that is already done. */
export class InvalidStateError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidStateError';
  }
}

/** An executor can no longer run tasks: the worker running a task died, or an initializer failed. */
export class BrokenExecutorError extends RuntimeError {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokenExecutorError';
  }
}

/** The worker thread running a task died (exit, crash, terminate, out of memory) before it finished. */
export class BrokenThreadPoolError extends BrokenExecutorError {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokenThreadPoolError';
  }
}

/** The child process running a task died (exit, crash, kill -9) before it finished. */
export class BrokenProcessPoolError extends BrokenExecutorError {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokenProcessPoolError';
  }
}

/** A Barrier was aborted, reset while waited on, or a wait on it timed out. */
export class BrokenBarrierError extends RuntimeError {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokenBarrierError';
  }
}

/** `put` with timeout 0 (or `putNowait`) on a full queue, or a `put` that timed out. */
export class QueueFullError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueueFullError';
  }
}

/** `get` with timeout 0 (or `getNowait`) on an empty queue, or a `get` that timed out. */
export class QueueEmptyError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueueEmptyError';
  }
}

/** `Connection.recv()` when the other end is closed and nothing is left to read. */
export class EOFError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EOFError';
  }
}
