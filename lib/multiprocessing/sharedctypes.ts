/**
 * `Value` and `Array` (also exported as `SharedArray`) of `threadkit/multiprocessing`: numbers in
 * memory that every process of the tree shares (Python's `multiprocessing.Value` and `Array`).
 *
 * The data is a block of the arena (internal/arena), viewed through the typed array of its typecode.
 * As in Python, each is synchronized by default: a lock (a new multiprocessing RLock, or the Lock or
 * RLock given as `lock`) is taken around every read and write of `value`, `get`, `set` and
 * `toArray`, and `getLock()` returns it for compound updates (`v.value += 1` is a read and then a
 * write: hold the lock around both). With `lock: false` there is no lock (Python's `RawValue`):
 * reads and writes of one element are still single memory accesses, atomic for the integer
 * typecodes (Atomics), not for 'f' and 'd'.
 */
import { inspect } from 'node:util';
import { RuntimeError } from '../errors';
import { describe } from '../internal/validate';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import { blockRef, holdBy, newBlock, revivedBlock } from '../internal/arena/refs';
import type { ArenaBlock } from '../internal/arena/block';
import { Lock, RLock } from './synchronize';

/** Python's typecodes: b/B 8-bit, h/H 16-bit, i/I 32-bit, l/L/q/Q 64-bit (bigint), f float32, d float64. */
export type Typecode = 'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'f' | 'd';
/** The typecodes whose elements are bigints. */
export type BigTypecode = 'l' | 'L' | 'q' | 'Q';
/** The typecodes whose elements are numbers. */
export type NumberTypecode = Exclude<Typecode, BigTypecode>;

type View = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;
type ViewClass = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): View; readonly BYTES_PER_ELEMENT: number };

const VIEWS: Readonly<Record<Typecode, ViewClass>> = {
  b: Int8Array, B: Uint8Array, h: Int16Array, H: Uint16Array, i: Int32Array, I: Uint32Array,
  l: BigInt64Array, L: BigUint64Array, q: BigInt64Array, Q: BigUint64Array, f: Float32Array, d: Float64Array,
};

/** The most elements an Array may hold (its block must fit the arena's largest block). */
const MAX_BYTES = (1 << 27) - 8;

/** Options of {@link Value} and {@link SharedArray}. */
export interface SharedOptions {
  /**
   * `true`: a new multiprocessing RLock guards every access; `false`: no lock (`getLock()` throws);
   * a multiprocessing Lock or RLock: that one.
   * @default true
   */
  lock?: boolean | Lock | RLock;
}

function checkTypecode(typecode: unknown): Typecode {
  if (typeof typecode !== 'string' || !Object.prototype.hasOwnProperty.call(VIEWS, typecode)) {
    throw new TypeError(`Expected \`typecode\` to be one of ${Object.keys(VIEWS).join(', ')}, got ${describe(typecode)}`);
  }
  return typecode as Typecode;
}

function isBig(typecode: Typecode): boolean {
  return typecode === 'l' || typecode === 'L' || typecode === 'q' || typecode === 'Q';
}

/** Checks that `v` fits the kind of `typecode` (bigint for l/L/q/Q, an integer for the others but f/d). */
function checkElement(typecode: Typecode, v: unknown, name: string): number | bigint {
  if (isBig(typecode)) {
    if (typeof v === 'bigint') return v;
    throw new TypeError(`Expected \`${name}\` to be a bigint for typecode '${typecode}', got ${describe(v)}`);
  }
  if (typeof v !== 'number') throw new TypeError(`Expected \`${name}\` to be a number for typecode '${typecode}', got ${describe(v)}`);
  if (typecode !== 'f' && typecode !== 'd' && !Number.isInteger(v)) {
    throw new TypeError(`Expected \`${name}\` to be an integer for typecode '${typecode}', got ${v}`);
  }
  return v;
}

function lockFor(option: unknown): Lock | RLock | null {
  if (option === undefined || option === true) return new RLock();
  if (option === false) return null;
  if (option instanceof Lock || option instanceof RLock) return option;
  throw new TypeError(`Expected \`options.lock\` to be a boolean or a Lock or RLock of threadkit/multiprocessing, got ${describe(option)}`);
}

function checkOptions(options: unknown): SharedOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}`);
  return options as SharedOptions;
}

function isFloat(typecode: Typecode): boolean {
  return typecode === 'f' || typecode === 'd';
}

/** Reads element `i`: Atomics for the integer views, a plain load for floats (no float Atomics). */
function load(view: View, float: boolean, i: number): number | bigint {
  return float ? view[i] : Atomics.load(view as Int32Array, i);
}

function store(view: View, float: boolean, i: number, v: number | bigint): void {
  if (float) view[i] = v as number;
  else Atomics.store(view as Int32Array, i, v as number);
}

interface SharedData {
  readonly typecode: Typecode;
  readonly length: number;
  readonly lock: Lock | RLock | null;
}

/** The memory a reviver found, for the constructor it calls next. */
let revived: { block: ArenaBlock; data: SharedData } | undefined;

function revive(tag: string, make: () => unknown) {
  return (data: SharedData & Record<string, unknown>) => {
    const typecode = checkTypecode(data?.typecode);
    const length = data.length;
    if (!Number.isInteger(length) || length < 1 || length * VIEWS[typecode].BYTES_PER_ELEMENT > MAX_BYTES) throw new TypeError(`Invalid handle: ${tag}`);
    if (data.lock !== null && !(data.lock instanceof Lock || data.lock instanceof RLock)) throw new TypeError(`Invalid handle: ${tag}`);
    revived = { block: revivedBlock(data, length * VIEWS[typecode].BYTES_PER_ELEMENT, tag), data };
    try {
      return make();
    } finally {
      revived = undefined;
    }
  };
}

/** What Value and SharedArray share: the typed view over the block, the lock, the handle. */
abstract class Shared<T extends number | bigint> {
  readonly #block: ArenaBlock;
  protected readonly view: View;
  /** 'f' or 'd': read and written with plain accesses. */
  protected readonly float: boolean;
  protected readonly lock: Lock | RLock | null;
  readonly #typecode: Typecode;

  protected constructor(typecode: unknown, length: (typecode: Typecode) => number, options: unknown, fill: (view: View, typecode: Typecode) => void) {
    const given = revived;
    revived = undefined;
    if (given !== undefined) {
      this.#typecode = given.data.typecode;
      this.lock = given.data.lock;
      this.#block = given.block;
      this.view = new VIEWS[this.#typecode](given.block.i32.buffer, given.block.i32.byteOffset, given.data.length);
    } else {
      this.#typecode = checkTypecode(typecode);
      const n = length(this.#typecode);
      const opts = checkOptions(options);
      const lock = lockFor(opts.lock);
      this.#block = newBlock(n * VIEWS[this.#typecode].BYTES_PER_ELEMENT);
      this.lock = lock;
      this.view = new VIEWS[this.#typecode](this.#block.i32.buffer, this.#block.i32.byteOffset, n);
      fill(this.view, this.#typecode);
    }
    this.float = isFloat(this.#typecode);
    holdBy(this, this.#block);
  }

  /** The typecode. */
  get typecode(): Typecode {
    return this.#typecode;
  }

  /**
   * The lock that guards every access; hold it around a read-modify-write.
   * @throws RuntimeError when created with `lock: false`.
   */
  getLock(): Lock | RLock {
    if (this.lock === null) throw new RuntimeError(`this ${this.constructor === SharedValue ? 'Value' : 'Array'} has no lock (created with lock: false)`);
    return this.lock;
  }

  /** Runs `fn` holding the lock (if any). */
  protected locked<R>(fn: () => R): R {
    const lock = this.lock;
    if (lock === null) return fn();
    lock.acquireSync();
    try {
      return fn();
    } finally {
      lock.release();
    }
  }

  protected check(v: unknown, name: string): T {
    return checkElement(this.#typecode, v, name) as T;
  }

  protected share(tag: string): Handle {
    const data = { ...blockRef(this.#block), typecode: this.#typecode, length: this.view.length, lock: this.lock };
    return { tag, crossProcess: true, data };
  }
}

const VALUE_TAG = 'multiprocessing.Value';
const ARRAY_TAG = 'multiprocessing.Array';

/**
 * One number in memory shared by every process and thread it is passed to (Python's
 * `multiprocessing.Value`).
 *
 * `value` reads and writes it synchronously in any thread of any process, holding the lock (if
 * any) for that one access. `v.value += 1` is two accesses: for a safe increment, hold
 * `getLock()` around it. The l, L, q and Q typecodes hold bigints; the integer ones wrap around
 * as C integers do (as ctypes).
 *
 * @example
 * const counter = new Value('i', 0);
 * await pool.map((c) => c.getLock().withLockSync(() => { c.value += 1; }), [counter, counter]);
 * counter.value; // 2
 *
 * @throws TypeError for a bad typecode, initial value or lock; Error when the native addon is unavailable.
 */
class SharedValue<T extends number | bigint = number> extends Shared<T> {
  /**
   * @param typecode the C type, as Python's (see {@link Typecode}).
   * @param initial the first value. @default 0 (0n for l, L, q, Q)
   * @param options `lock`. @default { lock: true }
   */
  constructor(typecode: Typecode, initial?: T, options?: SharedOptions) {
    super(typecode, () => 1, options, (view, code) => {
      if (initial !== undefined) store(view, isFloat(code), 0, checkElement(code, initial, 'initial'));
    });
  }

  /** The number now (read under the lock). */
  get value(): T {
    const lock = this.lock;
    if (lock === null) return load(this.view, this.float, 0) as T;
    lock.acquireSync();
    try {
      return load(this.view, this.float, 0) as T;
    } finally {
      lock.release();
    }
  }

  set value(v: T) {
    const checked = this.check(v, 'value');
    const lock = this.lock;
    if (lock === null) {
      store(this.view, this.float, 0, checked);
      return;
    }
    lock.acquireSync();
    try {
      store(this.view, this.float, 0, checked);
    } finally {
      lock.release();
    }
  }

  [kShare](): Handle {
    return this.share(VALUE_TAG);
  }

  [inspect.custom](): string {
    return `<Value '${this.typecode}' ${String(load(this.view, this.float, 0))}>`;
  }
}

/**
 * A fixed-length array of numbers in memory shared by every process and thread it is passed to
 * (Python's `multiprocessing.Array`; exported as `Array` and `SharedArray`).
 *
 * `get`, `set`, `toArray` and iteration hold the lock (if any) for each call (iteration: for each
 * element, as Python's). The l, L, q and Q typecodes hold bigints.
 *
 * @example
 * const squares = new SharedArray('d', 4);
 * await pool.map((a, i) => a.set(i, i * i), …);
 *
 * @throws TypeError for a bad typecode, size, element or lock; RangeError for a negative size or
 *   an index out of range; Error when the native addon is unavailable.
 */
class SharedArrayImpl<T extends number | bigint = number> extends Shared<T> {
  /**
   * @param typecode the C type of the elements (see {@link Typecode}).
   * @param sizeOrInitial the length (elements start at 0), or the initial elements.
   * @param options `lock`. @default { lock: true }
   */
  constructor(typecode: Typecode, sizeOrInitial: number | Iterable<T>, options?: SharedOptions) {
    let items: unknown[] | undefined;
    super(typecode, (code) => {
      if (typeof sizeOrInitial === 'number') {
        if (!Number.isInteger(sizeOrInitial)) throw new TypeError(`Expected \`sizeOrInitial\` to be an integer or an iterable, got ${sizeOrInitial}`);
        if (sizeOrInitial < 1 || sizeOrInitial * VIEWS[code].BYTES_PER_ELEMENT > MAX_BYTES) {
          throw new RangeError(`Expected \`sizeOrInitial\` to be a length from 1 to ${Math.floor(MAX_BYTES / VIEWS[code].BYTES_PER_ELEMENT)}, got ${sizeOrInitial}`);
        }
        return sizeOrInitial;
      }
      if (sizeOrInitial === null || typeof (sizeOrInitial as Iterable<T>)?.[Symbol.iterator] !== 'function') {
        throw new TypeError(`Expected \`sizeOrInitial\` to be a length or an iterable, got ${describe(sizeOrInitial)}`);
      }
      items = globalThis.Array.from(sizeOrInitial as Iterable<unknown>);
      items.forEach((v, i) => checkElement(code, v, `sizeOrInitial[${i}]`));
      if (items.length < 1 || items.length * VIEWS[code].BYTES_PER_ELEMENT > MAX_BYTES) {
        throw new RangeError(`Expected \`sizeOrInitial\` to hold from 1 to ${Math.floor(MAX_BYTES / VIEWS[code].BYTES_PER_ELEMENT)} elements, got ${items.length}`);
      }
      return items.length;
    }, options, (view) => {
      if (items !== undefined) (view as unknown as { set(a: unknown[]): void }).set(items);
    });
  }

  /** Number of elements. */
  get length(): number {
    return this.view.length;
  }

  #index(i: unknown): number {
    if (typeof i !== 'number' || !Number.isInteger(i)) throw new TypeError(`Expected \`i\` to be an integer index, got ${describe(i)}`);
    const n = this.view.length;
    const at = i < 0 ? i + n : i; // Python's negative indices
    if (at < 0 || at >= n) throw new RangeError(`index ${i} out of range for an array of length ${n}`);
    return at;
  }

  /** Element `i` (negative: from the end). */
  get(i: number): T {
    const at = this.#index(i);
    return this.locked(() => load(this.view, this.float, at)) as T;
  }

  /** Sets element `i` (negative: from the end). */
  set(i: number, v: T): void {
    const at = this.#index(i);
    const checked = this.check(v, 'v');
    this.locked(() => store(this.view, this.float, at, checked));
  }

  /** A copy of every element, read under the lock at once. */
  toArray(): T[] {
    return this.locked(() => globalThis.Array.from({ length: this.view.length }, (_, i) => load(this.view, this.float, i))) as T[];
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.view.length; i++) yield this.get(i);
  }

  [kShare](): Handle {
    return this.share(ARRAY_TAG);
  }

  [inspect.custom](): string {
    const shown = globalThis.Array.from({ length: Math.min(this.view.length, 10) }, (_, i) => String(load(this.view, this.float, i)));
    return `<Array '${this.typecode}' [${shown.join(', ')}${this.view.length > 10 ? ', …' : ''}]>`;
  }
}

registerShareable(VALUE_TAG, revive(VALUE_TAG, () => new SharedValue('i')));
registerShareable(ARRAY_TAG, revive(ARRAY_TAG, () => new SharedArrayImpl('i', 1)));

/** The constructor of {@link Value}: the element type follows the typecode (bigint for l, L, q, Q). */
export interface ValueConstructor {
  new (typecode: BigTypecode, initial?: bigint, options?: SharedOptions): Value<bigint>;
  new (typecode: NumberTypecode, initial?: number, options?: SharedOptions): Value<number>;
  new <T extends number | bigint>(typecode: Typecode, initial?: T, options?: SharedOptions): Value<T>;
  readonly prototype: Value<number | bigint>;
}

/** The constructor of {@link SharedArray}: the element type follows the typecode (bigint for l, L, q, Q). */
export interface SharedArrayConstructor {
  new (typecode: BigTypecode, sizeOrInitial: number | Iterable<bigint>, options?: SharedOptions): SharedArray<bigint>;
  new (typecode: NumberTypecode, sizeOrInitial: number | Iterable<number>, options?: SharedOptions): SharedArray<number>;
  new <T extends number | bigint>(typecode: Typecode, sizeOrInitial: number | Iterable<T>, options?: SharedOptions): SharedArray<T>;
  readonly prototype: SharedArray<number | bigint>;
}

export type Value<T extends number | bigint = number> = SharedValue<T>;
export const Value = SharedValue as ValueConstructor;
export type SharedArray<T extends number | bigint = number> = SharedArrayImpl<T>;
export const SharedArray = SharedArrayImpl as SharedArrayConstructor;
