/**
 * Encoding of arguments, `this` values and results for another thread or process.
 *
 * A value crosses a thread boundary by structured clone, which cannot carry threadkit's shared
 * objects as working instances (it would copy their fields, and a Lock keeps its state in `#private`
 * fields, so the copy would be an empty object). So before sending, every shareable object found in
 * the value — at the top, inside arrays and inside plain objects, and inside another shareable's
 * handle data — is replaced by its encoded handle `{ [HANDLE_TAG]: tag, data }`; on the other side
 * {@link decodeValue} revives each handle into an instance over the same shared memory.
 *
 * Checking up front. A value that structured clone would reject (a function, a Symbol, a Proxy, a
 * WeakMap…) is a `TypeError` before anything starts, naming where it was found:
 * `argument 2 (args[1].items[0]) cannot be sent to another thread: …`. Positions are 1-based
 * ("argument 2"), the path after them is the 0-based JavaScript access path. Primitives cost one
 * `typeof`; arrays and plain objects are walked (that walk is needed anyway to find shared objects);
 * well-known cloneable classes (Date, typed arrays, Map, Set, …) are accepted by their type tag; only
 * unknown kinds of object are test-cloned. Type checks use `Object.prototype.toString`, never
 * `instanceof`, because values may come from another realm (a jest test context, a worker).
 *
 * Copy on change: an array or object that contains no shareable is passed through as it is, so the
 * common case allocates nothing.
 */
import { types } from 'node:util';
import { HANDLE_TAG, isShareable, kShare } from './shareable';
// Loaded on first use (an error message, a handle to revive): a worker's cold start pays for every
// module it loads, and most runs need neither.
const describe = (value: unknown): string => (require('../validate') as typeof import('../validate')).describe(value);
const loadReviver = (tag: string): ((data: unknown) => unknown) => (require('./registry') as typeof import('./registry')).loadReviver(tag);

/** Options of {@link encodeArgs} and {@link encodeValue}. */
export interface EncodeOptions {
  /** The receiver is another process: only `crossProcess` shareables (multiprocessing objects) may go. */
  readonly crossProcess?: boolean;
  /** The receiver is another machine: no shared object, no SharedArrayBuffer may go. */
  readonly crossMachine?: boolean;
  /**
   * What a SharedArrayBuffer found in the value becomes (serializer.ts: v8's serializer cannot carry
   * one, so it travels as a number that names it); without it, it is left as it is.
   */
  readonly sharedArrayBuffer?: (buffer: SharedArrayBuffer) => unknown;
}

/** An encoded shareable object, as it travels. */
interface EncodedHandle {
  readonly [HANDLE_TAG]: string;
  readonly data: unknown;
}

/** Objects structured clone copies faithfully with no nested values to inspect. */
const CLONEABLE_LEAVES = new Set([
  'Date', 'RegExp', 'ArrayBuffer', 'Boolean', 'Number', 'String', 'BigInt', 'Error', 'DOMException',
  'Blob', 'File',
]);

/**
 * Bookkeeping shared by the encoding and decoding walks.
 *
 * Copy on change with cycles: a walk normally copies an array or object only after one of its
 * children changed, so an object met again through a cycle while it is being walked is left as it is.
 * If such a cyclic structure also changed somewhere, the back-reference would point at the original
 * (with the live shared object still inside); then the walk is redone *eagerly*, copying every
 * container before walking into it, so that the cycle closes on the copies. Only cyclic structures
 * holding shared objects pay for the second pass.
 */
class Graph {
  /** Containers being walked. */
  readonly active = new Set<object>();
  /** Containers already walked → their result, so a shared reference is walked (and copied) once. */
  readonly done = new Map<object, unknown>();
  /** Copy every container before walking into it (second pass). */
  eager = false;
  sawCycle = false;
  changed = false;

  /** Runs `pass` once, or twice (eagerly) when a cycle met a change. */
  run<T>(pass: () => T): T {
    const result = pass();
    if (!this.sawCycle || !this.changed) return result;
    this.active.clear();
    this.done.clear();
    this.eager = true;
    return pass();
  }

  /** Walks the items of an array, copying it on change (or first, when eager). */
  array(value: unknown[], item: (v: unknown, i: number) => unknown): unknown {
    if (this.eager) {
      const copy = new Array<unknown>(value.length);
      this.done.set(value, copy);
      for (let i = 0; i < value.length; i++) copy[i] = item(value[i], i);
      return copy;
    }
    this.active.add(value);
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      // Fast path: numbers, strings, booleans… need neither a walk nor a copy.
      if (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol') continue;
      const out = item(v, i);
      if (out !== v) {
        copy ??= value.slice();
        copy[i] = out;
      }
    }
    this.active.delete(value);
    if (copy !== undefined) this.changed = true;
    const result = copy ?? value;
    this.done.set(value, result);
    return result;
  }

  /** Walks the own enumerable properties of a plain object, copying it on change (or first, when eager). */
  record(value: Record<string, unknown>, item: (v: unknown, key: string) => unknown): unknown {
    const keys = Object.keys(value);
    if (this.eager) {
      const copy: Record<string, unknown> = {};
      this.done.set(value, copy);
      for (const key of keys) copy[key] = item(value[key], key);
      return copy;
    }
    this.active.add(value);
    let copy: Record<string, unknown> | undefined;
    for (const key of keys) {
      const v = value[key];
      if (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol') continue;
      const out = item(v, key);
      if (out !== v) {
        copy ??= { ...value };
        copy[key] = out;
      }
    }
    this.active.delete(value);
    if (copy !== undefined) this.changed = true;
    const result = copy ?? value;
    this.done.set(value, result);
    return result;
  }

  /** Replaces a shared object by `shell` (its encoded handle), registered before `shell[field] = child()` is walked. */
  replace(value: object, shell: Record<string, unknown>, field: string, child: () => unknown): unknown {
    this.changed = true;
    this.done.set(value, shell);
    shell[field] = child();
    return shell;
  }

  /** The result for an object already seen, or undefined (noting a cycle). */
  seen(value: object): { result: unknown } | undefined {
    if (this.done.has(value)) return { result: this.done.get(value) };
    if (this.active.has(value)) {
      this.sawCycle = true;
      return { result: value };
    }
    return undefined;
  }
}

/** State of one encoding walk. */
class Walk extends Graph {
  /** Property path from the top value, kept as a stack so that the fast path builds no strings. */
  readonly path: (string | number)[] = [];

  constructor(
    /** Prefix of error messages: "argument 2" or "value". */
    readonly what: string,
    /** Base of the path shown after `what`: "args[1]", or "" for a single value. */
    readonly root: string,
    readonly check: boolean,
    readonly crossProcess: boolean,
    readonly crossMachine = false,
    readonly sharedArrayBuffer?: (buffer: SharedArrayBuffer) => unknown,
  ) {
    super();
  }

  fail(reason: string): never {
    let where = this.root;
    for (const key of this.path) {
      where += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    }
    const at = where === '' || where === this.what ? '' : ` (${where})`;
    const peer = this.crossMachine ? 'another machine' : this.crossProcess ? 'another process' : 'another thread';
    throw new TypeError(`${this.what}${at} cannot be sent to ${peer}: ${reason}`);
  }

  /** Encodes a child value at `key` of the path. */
  child(value: unknown, key: string | number): unknown {
    this.path.push(key);
    const out = encode(value, this);
    this.path.pop();
    return out;
  }
}

function typeTag(value: object): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

function encode(value: unknown, walk: Walk): unknown {
  switch (typeof value) {
    case 'object':
      if (value === null) return value;
      return encodeObject(value, walk);
    case 'function':
      return walk.check ? walk.fail(`functions cannot be cloned (got ${describe(value)}); pass data, or send code as a target`) : value;
    case 'symbol':
      return walk.check ? walk.fail(`symbols cannot be cloned (got ${String(value)})`) : value;
    default:
      return value;
  }
}

function encodeObject(value: object, walk: Walk): unknown {
  const seen = walk.seen(value);
  if (seen !== undefined) return seen.result;
  if (isShareable(value)) return encodeShareable(value, walk);
  if (Array.isArray(value)) return walk.array(value, (v, i) => walk.child(v, i));
  if (ArrayBuffer.isView(value)) return value;
  const tag = typeTag(value);
  if (tag === 'Object' && !types.isProxy(value)) return walk.record(value as Record<string, unknown>, (v, key) => walk.child(v, key));
  if (walk.sharedArrayBuffer !== undefined && tag === 'SharedArrayBuffer') {
    walk.changed = true;
    return walk.sharedArrayBuffer(value as SharedArrayBuffer);
  }
  if (!walk.check) return value;
  if (CLONEABLE_LEAVES.has(tag)) return value;
  if (tag === 'SharedArrayBuffer') {
    if (walk.crossMachine) walk.fail('a SharedArrayBuffer is memory of this machine; send a copy (an ArrayBuffer or a typed array)');
    return walk.crossProcess ? walk.fail('a SharedArrayBuffer cannot be shared between processes; use Value or Array from threadkit/multiprocessing') : value;
  }
  if (tag === 'Map' || tag === 'Set') return checkCollection(value as Map<unknown, unknown> | Set<unknown>, walk);
  try {
    structuredClone(value);
  } catch (error) {
    walk.fail(`${(error as Error).message} (got ${describe(value)})`);
  }
  return value;
}

function encodeShareable(value: object, walk: Walk): unknown {
  const handle = (value as { [kShare](): { tag: string; crossProcess?: boolean; data: unknown } })[kShare]();
  if (walk.crossMachine) {
    walk.fail(`${handle.tag} is shared memory of this machine and cannot reach another one; pass plain values (shared state across machines belongs in Redis or a database)`);
  }
  if (walk.crossProcess && handle.crossProcess !== true) {
    const dot = handle.tag.indexOf('.');
    const short = dot === -1 ? handle.tag : handle.tag.slice(dot + 1);
    walk.fail(`${handle.tag} lives in this process's memory; use ${short} from threadkit/multiprocessing`);
  }
  return walk.replace(value, { [HANDLE_TAG]: handle.tag }, 'data', () => walk.child(handle.data, '<shared data>'));
}

/** Map and Set contents are cloned as they are: check them, and refuse shared objects inside. */
function checkCollection(value: Map<unknown, unknown> | Set<unknown>, walk: Walk): unknown {
  walk.done.set(value, value);
  let i = 0;
  for (const entry of value.entries()) {
    for (const part of entry) {
      if (walk.child(part, `<entry ${i}>`) !== part) {
        walk.fail('shared objects inside a Map or Set cannot be sent; put them in an array or a plain object');
      }
    }
    i++;
  }
  return value;
}

/**
 * Encodes the arguments of a call in another thread (or process, with `crossProcess`): shared objects
 * become handles, and every argument is checked to be sendable.
 * @throws TypeError naming the argument (1-based) and the path inside it when something cannot be sent
 */
export function encodeArgs(args: readonly unknown[], options?: EncodeOptions): unknown[] {
  const crossMachine = options?.crossMachine === true;
  const crossProcess = crossMachine || options?.crossProcess === true;
  let out: unknown[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'object' && typeof arg !== 'function' && typeof arg !== 'symbol') continue;
    if (arg === null) continue;
    const walk = new Walk(`argument ${i + 1}`, `args[${i}]`, true, crossProcess, crossMachine);
    const encoded = walk.run(() => encode(arg, walk));
    if (encoded !== arg) {
      out ??= args.slice();
      out[i] = encoded;
    }
  }
  return out ?? (args as unknown[]);
}

/**
 * Encodes one value for another thread: shared objects become handles. With `what` (e.g.
 * `'field "lock" of the thread'`), the value is also checked to be sendable, and `what` names it in
 * the error; without it, it is not checked (the channel that sends it reports what cannot go).
 * @throws TypeError when checked and something cannot be sent
 */
export function encodeValue(value: unknown, what?: string, options?: EncodeOptions): unknown {
  if (typeof value !== 'object' || value === null) {
    if (what === undefined || (typeof value !== 'function' && typeof value !== 'symbol')) return value;
  }
  const walk = new Walk(what ?? 'value', what ?? '', what !== undefined, options?.crossProcess === true || options?.crossMachine === true, options?.crossMachine === true, options?.sharedArrayBuffer);
  return walk.run(() => encode(value, walk));
}

/** True when `value` is an encoded handle. */
function isEncodedHandle(value: object): value is EncodedHandle {
  return typeof (value as Record<string, unknown>)[HANDLE_TAG] === 'string';
}

function decode(encoded: unknown, graph: Graph): unknown {
  if (typeof encoded !== 'object' || encoded === null) return encoded;
  const seen = graph.seen(encoded);
  if (seen !== undefined) return seen.result;
  if (Array.isArray(encoded)) return graph.array(encoded, (v) => decode(v, graph));
  if (ArrayBuffer.isView(encoded) || typeTag(encoded) !== 'Object') return encoded;
  if (isEncodedHandle(encoded)) {
    // Revived after its data: a handle cannot be part of a cycle through its own data.
    graph.changed = true;
    const instance = loadReviver(encoded[HANDLE_TAG])(decode(encoded.data, graph));
    graph.done.set(encoded, instance);
    return instance;
  }
  return graph.record(encoded as Record<string, unknown>, (v) => decode(v, graph));
}

/** Rebuilds one encoded value: handles become live instances over the same shared memory. */
export function decodeValue(encoded: unknown): unknown {
  if (typeof encoded !== 'object' || encoded === null) return encoded;
  const graph = new Graph();
  return graph.run(() => decode(encoded, graph));
}

/** Rebuilds encoded arguments (see {@link decodeValue}). */
export function decodeArgs(encoded: unknown[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < encoded.length; i++) {
    const item = encoded[i];
    if (typeof item !== 'object' || item === null) continue;
    const decoded = decodeValue(item);
    if (decoded !== item) {
      out ??= encoded.slice();
      out[i] = decoded;
    }
  }
  return out ?? encoded;
}
