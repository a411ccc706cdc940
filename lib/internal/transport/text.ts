/**
 * Values as text, exactly: `'j' + JSON` when JSON carries the value exactly, else `'v' + base64` of
 * v8's serialization (structured clone's own format). Used where values must travel as text: the
 * distributed executor's jobs in Redis, and the IPC channel of the children threadkit forks
 * (internal/child/channel.ts).
 *
 * Why JSON when it can: most calls and results are plain data (numbers, strings, arrays, plain
 * objects), which JSON carries exactly, several times cheaper to make and read than v8's format
 * (whose serializer costs microseconds per call even for one number, and allocates a buffer each
 * time). {@link jsonExact} decides, value by value, strictly; anything else keeps v8's fidelity
 * (Map, Date, BigInt, typed arrays, `undefined`, -0).
 */
import * as v8 from 'node:v8';

/** Nesting beyond which a value is left to v8's serializer (which also handles cycles) without looking further. */
const MAX_JSON_DEPTH = 32;

/**
 * True when `JSON.parse(JSON.stringify(value))` is a structured clone of `value`: only strings,
 * booleans, null, finite numbers other than -0, and arrays (dense, no other own properties) and
 * plain objects of those. Anything else — `undefined`, -0, NaN, BigInt, Date, Map, typed arrays,
 * class instances, null-prototype objects, a key `__proto__`, deep or cyclic nesting — is not.
 */
export function jsonExact(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth === MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) if (!(i in value) || !jsonExact(value[i], depth + 1)) return false;
    return Object.keys(value).length === value.length;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    if (key === '__proto__' || !Object.hasOwn(value, key)) return false;
    if (!jsonExact((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/** A value's text form: 'j' + JSON when that is exact, else 'v' + base64 of v8's serialization. @throws what v8.serialize throws */
export function toText(value: unknown): string {
  return jsonExact(value, 0) ? `j${JSON.stringify(value)}` : `v${v8.serialize(value).toString('base64')}`;
}

/** The value of a text form. @throws TypeError for a text that is neither form */
export function fromText(text: string): unknown {
  if (text.startsWith('j')) return JSON.parse(text.slice(1));
  if (text.startsWith('v')) return v8.deserialize(Buffer.from(text.slice(1), 'base64'));
  throw new TypeError(`not a value's text form: ${JSON.stringify(text.slice(0, 20))}`);
}
