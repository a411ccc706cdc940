/**
 * The contract between shareable objects and the transport.
 *
 * A shareable object (every primitive of `threading`, every queue of `queue`, later every object of
 * `multiprocessing`) lives in shared memory. To send one to another thread, the transport asks it
 * for a *handle* — a plain, structured-cloneable object whose `tag` names its class and whose other
 * fields carry the SharedArrayBuffer(s), offsets and settings — and the receiving side *revives* the
 * handle into a working instance over the same memory.
 *
 * - `obj[kShare]()` returns the handle. Its `data` may contain other shareable objects (a Condition's
 *   lock, a Queue's conditions): the transport encodes and revives those recursively.
 * - The class registers a reviver under its tag with `registerShareable` when its module loads, and
 *   `registry.ts` knows which module to load for each tag, so a worker revives a Lock without
 *   having imported `threading` first.
 * - `crossProcess` is true only for `multiprocessing` objects; sending any other shareable to a
 *   child process is a TypeError that names the `threadkit/multiprocessing` equivalent.
 */

/** Method that returns an object's handle. */
export const kShare: unique symbol = Symbol.for('threadkit.share') as never;

/** Key marking a plain object as an encoded handle inside encoded arguments. */
export const HANDLE_TAG = '$threadkit$handle';

/** What a shareable object turns into when it is sent. */
export interface Handle {
  /** Registered tag of the class, e.g. `'threading.Lock'`. */
  readonly tag: string;
  /** True when the object works across processes (multiprocessing objects). */
  readonly crossProcess?: boolean;
  /** Class-specific state: SharedArrayBuffers, offsets, settings, nested shareable objects. */
  readonly data: unknown;
}

export interface Shareable {
  [kShare](): Handle;
}

export type Reviver = (data: any) => unknown;

const revivers = new Map<string, Reviver>();

/** Registers the function that rebuilds an instance of `tag` from its handle's (decoded) data. */
export function registerShareable(tag: string, revive: Reviver): void {
  revivers.set(tag, revive);
}

/** The reviver of `tag`, if its module has been loaded. */
export function reviverOf(tag: string): Reviver | undefined {
  return revivers.get(tag);
}

/** True when `value` is a shareable object of any realm. */
export function isShareable(value: unknown): value is Shareable {
  return typeof value === 'object' && value !== null && typeof (value as Record<symbol, unknown>)[kShare] === 'function';
}
