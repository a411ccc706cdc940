/**
 * What the lock-like primitives share: `withLock`/`withLockSync` (Python's `with lock:`), and the
 * protocol a Condition uses to release its lock fully while it waits and to restore it after.
 */
import { describe } from '../internal/validate';

/** Anything with Python's acquire/release pair. */
export interface Acquirable {
  acquire(timeout?: number): Promise<boolean>;
  acquireSync(timeout?: number): boolean;
  release(): void;
}

function checkFn(fn: unknown): void {
  if (typeof fn !== 'function') throw new TypeError(`Expected \`fn\` to be a function, got ${describe(fn)}`);
}

/** Acquires `lock`, runs `fn` (awaited), and releases the lock however `fn` ends. */
export async function withLockAsync<T>(lock: Acquirable, fn: () => T | Promise<T>): Promise<T> {
  checkFn(fn);
  await lock.acquire();
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Acquires `lock` (blocking this thread), runs `fn`, and releases the lock however `fn` ends. */
export function withLockSync<T>(lock: Acquirable, fn: () => T): T {
  checkFn(fn);
  lock.acquireSync();
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/**
 * Condition's view of its lock (CPython's `_is_owned`, `_release_save`, `_acquire_restore`):
 * an RLock held at depth 3 must be released *fully* while the condition waits, and held at depth 3
 * again afterwards.
 */
export const kIsOwned: unique symbol = Symbol('threadkit.isOwned');
export const kReleaseSave: unique symbol = Symbol('threadkit.releaseSave');
export const kAcquireRestore: unique symbol = Symbol('threadkit.acquireRestore');
export const kAcquireRestoreSync: unique symbol = Symbol('threadkit.acquireRestoreSync');

/** A lock a Condition can wait with. */
export interface ConditionLock extends Acquirable {
  /** True when the calling thread may wait/notify (Lock: locked by anyone; RLock: owned by this thread). */
  [kIsOwned](): boolean;
  /** Releases the lock fully; returns what {@link kAcquireRestore} needs to take it back. */
  [kReleaseSave](): number;
  [kAcquireRestore](saved: number): Promise<void>;
  [kAcquireRestoreSync](saved: number): void;
}
