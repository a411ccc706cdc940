/**
 * Encoding of thrown values, so that an error thrown by a target in another thread or process
 * arrives as the same kind of error.
 *
 * Why not send the Error itself: structured clone keeps only the built-in classes, drops own
 * properties such as `code`, and — the subtle part — makes the copy with the constructors of Node's
 * main realm. Under jest, whose tests run in their own realm, such a copy fails
 * `instanceof TypeError`. So an error travels as a plain record (class, name, message, stack, own
 * enumerable properties, cause, and an AggregateError's errors) and {@link decodeError} rebuilds it
 * with the constructors of the realm that loaded this module.
 *
 * Classes: the built-in error classes and threadkit's (lib/errors.ts) are rebuilt as themselves.
 * An error of another class arrives as its nearest known ancestor (usually `Error`) with its `name`
 * kept. A thrown value that is not an Error (`throw undefined`, `throw 0`, `throw 'str'`, an object)
 * arrives as it was: whether something was thrown is said by the outcome, never by the value.
 */
import * as threadkitErrors from '../../errors';
import { describe } from '../validate';
import { encodeValue, decodeValue } from './values';

/** A thrown value, as it travels. */
export type EncodedError =
  | {
      readonly kind: 'error';
      /** Name of the class to rebuild it with (a key of the known constructors, else 'Error'). */
      readonly type: string;
      readonly name: string;
      readonly message: string;
      readonly stack?: string;
      /** Own enumerable properties that could be sent (`code`, `errno`, …). */
      readonly props?: Record<string, unknown>;
      /** Present when the error had a `cause` (which may itself be any thrown value). */
      readonly cause?: EncodedError;
      /** An AggregateError's `errors`. */
      readonly errors?: EncodedError[];
    }
  | { readonly kind: 'value'; readonly value: unknown };

type ErrorConstructorLike = new (message?: string, options?: ErrorOptions) => Error;

/** The classes an error is rebuilt as, by name, with this realm's constructors. */
const KNOWN: ReadonlyMap<string, ErrorConstructorLike> = new Map<string, ErrorConstructorLike>([
  ['Error', Error],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
  ['AggregateError', AggregateError as unknown as ErrorConstructorLike],
  ...Object.entries(threadkitErrors).map(([name, ctor]) => [name, ctor as ErrorConstructorLike] as const),
]);

/** Properties an error record carries in its own fields. */
const OWN_FIELDS = new Set(['name', 'message', 'stack', 'cause', 'errors']);

/** Nested causes deeper than this are cut (a cause chain can be cyclic). */
const MAX_DEPTH = 8;

/** True for an Error of any realm. */
export function isError(value: unknown): value is Error {
  return value instanceof Error || (typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Error]');
}

/** The nearest class in the error's prototype chain that {@link decodeError} can rebuild. */
function knownType(error: object): string {
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const name = Object.prototype.hasOwnProperty.call(proto, 'constructor') ? (proto.constructor as { name?: unknown }).name : undefined;
    if (typeof name === 'string' && KNOWN.has(name)) return name;
  }
  return 'Error';
}

/** The value, or undefined when it cannot be sent (checked without throwing). */
function sendable(value: unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: encodeValue(value, 'value') };
  } catch {
    return { ok: false };
  }
}

/** Encodes a thrown value so that {@link decodeError} can rebuild it in another thread or process. */
export function encodeError(error: unknown, depth = 0): EncodedError {
  if (!isError(error)) {
    const sent = sendable(error);
    if (sent.ok) return { kind: 'value', value: sent.value };
    return encodeError(new TypeError(`the thrown value cannot be sent to another thread (got ${describe(error)})`), depth);
  }
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(error)) {
    if (OWN_FIELDS.has(key)) continue;
    const sent = sendable((error as unknown as Record<string, unknown>)[key]);
    if (sent.ok) (props ??= {})[key] = sent.value;
  }
  const type = knownType(error);
  const record: {
    kind: 'error'; type: string; name: string; message: string; stack?: string;
    props?: Record<string, unknown>; cause?: EncodedError; errors?: EncodedError[];
  } = {
    kind: 'error',
    type,
    name: String(error.name ?? type),
    message: String(error.message ?? ''),
  };
  if (typeof error.stack === 'string') record.stack = error.stack;
  if (props !== undefined) record.props = props;
  if (depth < MAX_DEPTH && Object.prototype.hasOwnProperty.call(error, 'cause')) {
    record.cause = encodeError((error as { cause?: unknown }).cause, depth + 1);
  }
  const errors = (error as { errors?: unknown }).errors;
  if (type === 'AggregateError' && Array.isArray(errors) && depth < MAX_DEPTH) {
    record.errors = errors.map((e) => encodeError(e, depth + 1));
  }
  return record;
}

/**
 * Rebuilds a thrown value encoded by {@link encodeError}, with this realm's constructors, so that
 * `instanceof TypeError` (or `instanceof RuntimeError`) holds for the caller.
 */
export function decodeError(encoded: EncodedError): unknown {
  if (typeof encoded !== 'object' || encoded === null || (encoded.kind !== 'error' && encoded.kind !== 'value')) {
    return encoded; // not an encoded error: a value thrown as it was
  }
  if (encoded.kind === 'value') return decodeValue(encoded.value);
  const Ctor = KNOWN.get(encoded.type) ?? Error;
  const options = encoded.cause === undefined ? undefined : { cause: decodeError(encoded.cause) };
  const error: Error = encoded.type === 'AggregateError'
    ? new AggregateError((encoded.errors ?? []).map(decodeError), encoded.message, options)
    : new Ctor(encoded.message, options);
  if (error.name !== encoded.name) {
    Object.defineProperty(error, 'name', { value: encoded.name, writable: true, configurable: true, enumerable: false });
  }
  if (encoded.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: encoded.stack, writable: true, configurable: true, enumerable: false });
  }
  if (encoded.props !== undefined) {
    for (const [key, value] of Object.entries(encoded.props)) (error as unknown as Record<string, unknown>)[key] = decodeValue(value);
  }
  return error;
}
