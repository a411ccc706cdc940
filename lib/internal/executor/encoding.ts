/**
 * Main-side encoding shared by the executors and multiprocessing.Pool: targets (encoded once per
 * function), initializers, and decoding a worker's outcome in this realm.
 */
import { decodeError, decodeValue, encodeArgs, encodeTarget, type EncodedOutcome, type EncodedTarget } from '../transport';
import { describe } from '../validate';
import type { WireInitializer } from './run-item';

/**
 * Encodes targets, returning the same EncodedTarget object for the same code: the same function
 * is encoded once (its source is read once), and a loop that submits a fresh arrow function each
 * time still yields one target, which a batch then sends once.
 */
export class TargetCache {
  readonly #byFunction = new WeakMap<object, EncodedTarget>();
  #last: EncodedTarget | undefined;

  /** @throws TypeError (naming `argName`) when `fn` is not a target */
  encode(fn: unknown, argName = 'fn'): EncodedTarget {
    const key = typeof fn === 'function' || (typeof fn === 'object' && fn !== null) ? fn : undefined;
    if (key !== undefined) {
      const known = this.#byFunction.get(key);
      if (known !== undefined) return known;
    }
    let target = encodeTarget(fn, argName);
    const last = this.#last;
    if (last !== undefined && sameTarget(last, target)) target = last;
    else this.#last = target;
    if (key !== undefined) this.#byFunction.set(key, target);
    return target;
  }
}

function sameTarget(a: EncodedTarget, b: EncodedTarget): boolean {
  if (a === b) return true;
  if (a.kind === 'source') return b.kind === 'source' && a.source === b.source && a.name === b.name;
  return b.kind === 'module' && a.href === b.href && a.exportName === b.exportName;
}

/**
 * The `initializer`/`initargs` options in wire form, or undefined without an initializer.
 * @throws TypeError for a non-target initializer, initargs that is not an array (even without an
 *   initializer), or an argument that cannot be sent
 */
export function encodeInitializer(initializer: unknown, initargs: unknown, crossProcess: boolean): WireInitializer | undefined {
  if (initargs !== undefined && !Array.isArray(initargs)) {
    throw new TypeError(`Expected \`initargs\` to be an array, got ${describe(initargs)}`);
  }
  if (initializer === undefined) return undefined;
  const target = encodeTarget(initializer, 'initializer');
  try {
    return { target, args: encodeArgs(initargs ?? [], { crossProcess }) };
  } catch (error) {
    // encodeArgs names the position; say which list it is in.
    if (error instanceof TypeError) throw new TypeError(`\`initargs\`: ${error.message}`, { cause: error });
    throw error;
  }
}

/** A worker's outcome decoded in this realm; a value that cannot be decoded is a failure. */
export function decodeOutcome(outcome: EncodedOutcome): { ok: boolean; value: unknown } {
  try {
    return outcome.ok ? { ok: true, value: decodeValue(outcome.value) } : { ok: false, value: decodeError(outcome.error) };
  } catch (error) {
    return { ok: false, value: error };
  }
}
