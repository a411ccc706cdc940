/**
 * PriorityQueue's order: Python compares items with `<`, so `(priority, data)` tuples come out by
 * priority, then by data. Here an item's *sort key* is encoded when it is put, next to its bytes in
 * the ring, and the ring's heap compares keys without deserializing items:
 *
 *     element := NUMBER f64 | STRING u32 n, n UTF-16 code units | ARRAY u32 n, n elements | OTHER
 *
 * - numbers compare as numbers (bigints and booleans count as numbers, as Python's ints and bools
 *   do; NaN comes after every number); strings compare by UTF-16 code units (JavaScript's `<`);
 *   arrays element by element, a shorter prefix first (Python's tuples and lists).
 * - Where Python would raise TypeError (a number against a string, two dicts), the queue does not
 *   fail a put or a get halfway: kinds order as numbers < strings < arrays < anything else, and two
 *   "anything else" are equal. Equal keys come out in arrival order (Python's heapq leaves that
 *   unspecified), so `[priority, object]` items need no tie-breaking counter.
 * - A key is encoded up to MAX_DEPTH levels of arrays, MAX_ELEMENTS elements per array,
 *   MAX_UNITS code units per string and MAX_KEY_BYTES in all; what lies beyond counts as equal.
 *
 * The heap entry of each item also keeps the key's leading number (E_TAG, KEY_NUMBER, KEY_EXACT in
 * item-ring.ts), so a queue of numbers or of `[number, …]` items rarely reads a key from the ring.
 */
import { KEY_EXACT, KEY_NUMBER } from '../internal/shm/item-ring';
import type { SortKey } from '../internal/queue/core';

const NUMBER = 1;
const STRING = 2;
const ARRAY = 3;
const OTHER = 4;

const MAX_DEPTH = 8;
const MAX_ELEMENTS = 256;
const MAX_UNITS = 4096;
const MAX_KEY_BYTES = 64 * 1024;

class KeyWriter {
  bytes = new Uint8Array(64);
  view = new DataView(this.bytes.buffer);
  length = 0;

  #room(n: number): boolean {
    if (this.length + n > MAX_KEY_BYTES) return false;
    if (this.length + n > this.bytes.length) {
      const grown = new Uint8Array(Math.min(MAX_KEY_BYTES, Math.max(this.bytes.length * 2, this.length + n)));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    return true;
  }

  number(n: number): boolean {
    if (!this.#room(9)) return false;
    this.bytes[this.length] = NUMBER;
    this.view.setFloat64(this.length + 1, n === 0 ? 0 : n, true);
    this.length += 9;
    return true;
  }

  string(s: string): boolean {
    const units = Math.min(s.length, MAX_UNITS);
    if (!this.#room(5)) return false;
    const fit = Math.min(units, Math.floor((MAX_KEY_BYTES - this.length - 5) / 2));
    this.bytes[this.length] = STRING;
    this.view.setUint32(this.length + 1, fit, true);
    this.length += 5;
    this.#room(fit * 2);
    for (let i = 0; i < fit; i++) this.view.setUint16(this.length + 2 * i, s.charCodeAt(i), true);
    this.length += fit * 2;
    return fit === units;
  }

  tag(t: number): boolean {
    if (!this.#room(1)) return false;
    this.bytes[this.length++] = t;
    return true;
  }

  /** Writes an ARRAY header for `n` elements; returns where the count is, to fix it if cut short. */
  array(n: number): number {
    if (!this.#room(5)) return -1;
    this.bytes[this.length] = ARRAY;
    this.view.setUint32(this.length + 1, n, true);
    this.length += 5;
    return this.length - 4;
  }
}

/** Writes `value`; false when the key was cut short (nothing more may follow). */
function write(w: KeyWriter, value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'number':
      return w.number(value);
    case 'bigint':
      return w.number(Number(value));
    case 'boolean':
      return w.number(value ? 1 : 0);
    case 'string':
      return w.string(value);
    default:
      break;
  }
  if (!Array.isArray(value) || depth >= MAX_DEPTH) return w.tag(OTHER);
  const n = Math.min(value.length, MAX_ELEMENTS);
  const at = w.array(n);
  if (at < 0) return false;
  for (let i = 0; i < n; i++) {
    if (!write(w, value[i], depth + 1)) {
      w.view.setUint32(at, i + 1, true);
      return false;
    }
  }
  return n === value.length;
}

function leadingNumber(value: unknown): number | undefined {
  switch (typeof value) {
    case 'number':
      return value;
    case 'bigint':
      return Number(value);
    case 'boolean':
      return value ? 1 : 0;
    default:
      return Array.isArray(value) && value.length > 0 ? leadingNumber(value[0]) : undefined;
  }
}

/** The sort key of a PriorityQueue item. */
export function sortKeyOf(item: unknown): SortKey {
  const w = new KeyWriter();
  write(w, item, 0);
  const first = leadingNumber(item);
  const exact = typeof item === 'number' || typeof item === 'bigint' || typeof item === 'boolean';
  return {
    key: w.bytes.subarray(0, w.length),
    tag: first === undefined ? 0 : KEY_NUMBER | (exact ? KEY_EXACT : 0),
    number: first ?? 0,
  };
}

/** A cursor over an encoded key. */
class KeyReader {
  constructor(
    readonly u8: Uint8Array,
    public at: number,
    readonly end: number,
  ) {}

  get done(): boolean {
    return this.at >= this.end;
  }

  u32(): number {
    const u = this.u8;
    const a = this.at;
    this.at += 4;
    return (u[a] | (u[a + 1] << 8) | (u[a + 2] << 16) | (u[a + 3] << 24)) >>> 0;
  }

  u16(): number {
    const a = this.at;
    this.at += 2;
    return this.u8[a] | (this.u8[a + 1] << 8);
  }

  f64(): number {
    for (let i = 0; i < 8; i++) scratchBytes[i] = this.u8[this.at + i];
    this.at += 8;
    return scratch[0];
  }
}

const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);

function compareNumbers(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  if (x === y) return 0;
  return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
}

/** Compares the next element of `a` and `b` (both positioned at one); 0 also when either was cut short. */
function compareElement(a: KeyReader, b: KeyReader): number {
  if (a.done || b.done) return 0;
  const ta = a.u8[a.at++];
  const tb = b.u8[b.at++];
  if (ta !== tb) return ta - tb;
  switch (ta) {
    case NUMBER:
      return compareNumbers(a.f64(), b.f64());
    case STRING: {
      const na = a.u32();
      const nb = b.u32();
      const n = Math.min(na, nb);
      for (let i = 0; i < n; i++) {
        const d = a.u16() - b.u16();
        if (d !== 0) return d;
      }
      a.at += (na - n) * 2;
      b.at += (nb - n) * 2;
      return na - nb;
    }
    case ARRAY: {
      const na = a.u32();
      const nb = b.u32();
      const n = Math.min(na, nb);
      for (let i = 0; i < n; i++) {
        const d = compareElement(a, b);
        if (d !== 0) return d;
      }
      // Equal prefixes: the shorter array first; elements left unread do not matter any more.
      return na - nb;
    }
    default:
      return 0;
  }
}

/** Orders two encoded keys (`u8`, offset, length): < 0 when `a` comes out first. */
export function compareSortKeys(a: Uint8Array, ao: number, al: number, b: Uint8Array, bo: number, bl: number): number {
  return compareElement(new KeyReader(a, ao, ao + al), new KeyReader(b, bo, bo + bl));
}
