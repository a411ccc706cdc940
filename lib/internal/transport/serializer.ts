/**
 * The serializer for shared memory: turns a value into bytes that another thread or process reads
 * back from shared memory, and back. Every path that carries values through shared memory uses it:
 * the items of every queue and Pipe (internal/shm/item-ring.ts), and the results that pool threads
 * write into their batch slots (internal/executor/batch-slot.ts).
 *
 * Format: a *kind* (one byte the caller stores next to the bytes) and a payload.
 *
 *     UNDEFINED, NULL, TRUE, FALSE   no payload
 *     NUMBER                         8 bytes, a float64 (little-endian)
 *     STRING                         the string in UTF-8
 *     V8                             v8's serialization of the value, shared objects as handles
 *     V8_BUFFERS                     [count u32][0 u32][count × float64 buffer ids][v8 serialization]
 *     BYTES, BUFFER                  the bytes of a Uint8Array, a Buffer (not over shared memory)
 *
 * Every kind but the two V8 ones skips v8's serializer on both sides: creating one costs more than
 * everything else a small item costs, and most items are numbers, strings or bytes.
 * Everything else is structured-cloned with v8's serializer, after the library's handle encoding
 * (values.ts): a Lock, a Value or a queue inside the value travels as its handle and is revived on
 * the other side as a working instance over the same shared memory.
 *
 * SharedArrayBuffers. A SharedArrayBuffer must arrive as the same memory, not a copy, and v8's own
 * serializer cannot do that here (Node 20's deserializer cannot read one back). So a caller that
 * stays inside one process passes a {@link BufferShelf}: each SharedArrayBuffer in the value (a
 * threading object's memory, a user's buffer, the buffer under a typed array) goes on the shelf
 * (a process-wide table in the native addon, see internal/queue/shelf.ts) and its id travels in the
 * payload; the reader takes it off again. Without a shelf, or across processes, a SharedArrayBuffer
 * is a TypeError (batch slots fall back to postMessage then; a multiprocessing queue says to use
 * Value or Array).
 *
 * Typed arrays are written as v8 host objects (as Node's own `v8.serialize` does): a view over an
 * ArrayBuffer is copied (its own bytes only, not the whole buffer under it), a Buffer comes back as a
 * Buffer, and a view over a SharedArrayBuffer becomes a view over the same SharedArrayBuffer.
 *
 * Values deserialized by v8 are made in Node's main realm (see DESIGN notes on realms): callers that
 * need the library's classes rebuild them (errors.ts does).
 */
import * as v8 from 'node:v8';
import { describe } from '../validate';
import { encodeValue, decodeValue } from './values';
import { HANDLE_TAG, registerShareable } from './shareable';

/** Kind: undefined (no payload). */
export const UNDEFINED = 0;
/** Kind: null (no payload). */
export const NULL = 1;
/** Kind: true (no payload). */
export const TRUE = 2;
/** Kind: false (no payload). */
export const FALSE = 3;
/** Kind: a number, as 8 bytes of float64. */
export const NUMBER = 4;
/** Kind: a string, in UTF-8. */
export const STRING = 5;
/** Kind: a v8-serialized value. */
export const V8 = 6;
/** Kind: a v8-serialized value with SharedArrayBuffers on the shelf. */
export const V8_BUFFERS = 7;
/** Kind: a Uint8Array's bytes. */
export const BYTES = 8;
/** Kind: a Buffer's bytes. */
export const BUFFER = 9;
/** The first kind left to the serializer's users for payloads of their own (the queue's spills). */
export const FIRST_USER_KIND = 16;

const NUMBER_BYTES = 8;
const BUFFERS_HEADER_BYTES = 8;
const ID_BYTES = 8;

/** How SharedArrayBuffers travel inside one process: a table that any thread can take them from. */
export interface BufferShelf {
  /** Puts `buffer` on the shelf; returns its id. */
  put(buffer: SharedArrayBuffer): number;
  /** Takes buffer `id` off the shelf (undefined if it is gone). */
  take(id: number): SharedArrayBuffer | undefined;
  /** Removes buffer `id` without taking it (a write that was abandoned). */
  drop(id: number): void;
}

/** Options of {@link serialize} and {@link deserialize}. */
export interface SerializeOptions {
  /** The reader is another process: threading objects and SharedArrayBuffers are refused. */
  readonly crossProcess?: boolean;
  /** How SharedArrayBuffers travel (in-process only); without it they are refused. */
  readonly buffers?: BufferShelf;
  /** What the value is called in a TypeError ("item", "result"). @default 'value' */
  readonly what?: string;
  /**
   * The value is already in the library's handle encoding (values.ts: an executor's outcome, encoded
   * where the task ran) and is wanted back in it: neither side walks it for shared objects again.
   */
  readonly encoded?: boolean;
}

/**
 * Bytes a payload is written to and read from; `f64`, a Float64Array over the same memory from the
 * same start, lets an 8-aligned number be one store (the ring's chunks have one).
 */
export interface ByteView {
  readonly u8: Uint8Array;
  readonly f64?: Float64Array;
}

const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);

function writeFloat64(u8: Uint8Array, offset: number, value: number): void {
  scratch[0] = value;
  u8.set(scratchBytes, offset);
}

function readFloat64(u8: Uint8Array, offset: number): number {
  for (let i = 0; i < NUMBER_BYTES; i++) scratchBytes[i] = u8[offset + i];
  return scratch[0];
}

/** Lengths from which {@link ownBytes} skips zeroing (below, the zeroing costs less than the detour). */
const UNZEROED_FROM = 4096;

/**
 * A Uint8Array of `length` bytes over an ArrayBuffer of its own, for a caller that writes every
 * byte at once: a large one is not zeroed first (a megabyte item would be written twice).
 */
export function ownBytes(length: number): Uint8Array {
  if (length < UNZEROED_FROM) return new Uint8Array(length);
  const buffer = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

/** A private copy of `length` bytes (Buffer's slice() would alias the shared memory). */
function copyOut(u8: Uint8Array, offset: number, length: number): Uint8Array {
  const out = ownBytes(length);
  out.set(u8.subarray(offset, offset + length));
  return out;
}

function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** A serialized value: its kind, its payload's length, and how to write the payload. */
export class Encoded {
  constructor(
    readonly kind: number,
    readonly length: number,
    /** NUMBER: the number. */
    readonly number: number,
    /** STRING: the string. */
    readonly string: string | undefined,
    /** V8, V8_BUFFERS: v8's bytes. */
    readonly bytes: Uint8Array | undefined,
    /** V8_BUFFERS: ids of the SharedArrayBuffers on the shelf. */
    readonly ids: readonly number[] | undefined,
  ) {}

  /** Writes the payload at `offset` of `view.u8` (`length` bytes). */
  write(view: ByteView, offset: number): void {
    const u8 = view.u8;
    switch (this.kind) {
      case NUMBER:
        if (view.f64 !== undefined && (offset & 7) === 0) view.f64[offset >> 3] = this.number;
        else writeFloat64(u8, offset, this.number);
        return;
      case STRING:
        asBuffer(u8).write(this.string!, offset, this.length, 'utf8');
        return;
      case V8:
      case BYTES:
      case BUFFER:
        u8.set(this.bytes!, offset);
        return;
      case V8_BUFFERS: {
        const ids = this.ids!;
        new DataView(u8.buffer, u8.byteOffset).setUint32(offset, ids.length, true);
        new DataView(u8.buffer, u8.byteOffset).setUint32(offset + 4, 0, true);
        for (let i = 0; i < ids.length; i++) writeFloat64(u8, offset + BUFFERS_HEADER_BYTES + i * ID_BYTES, ids[i]);
        u8.set(this.bytes!, offset + BUFFERS_HEADER_BYTES + ids.length * ID_BYTES);
        return;
      }
      default:
        return;
    }
  }

  /** Gives back what this value put on the shelf (its write was abandoned: a full queue, a timeout). */
  abandon(options?: SerializeOptions): void {
    if (this.ids === undefined || options?.buffers === undefined) return;
    for (const id of this.ids) options.buffers.drop(id);
  }
}

const ENCODED_UNDEFINED = new Encoded(UNDEFINED, 0, 0, undefined, undefined, undefined);
const ENCODED_NULL = new Encoded(NULL, 0, 0, undefined, undefined, undefined);
const ENCODED_TRUE = new Encoded(TRUE, 0, 0, undefined, undefined, undefined);
const ENCODED_FALSE = new Encoded(FALSE, 0, 0, undefined, undefined, undefined);

// ---------------------------------------------------------------------------------------------
// v8 with typed arrays as host objects and SharedArrayBuffers by number

/** Tag of the handle that stands for a SharedArrayBuffer inside an encoded value. */
const BUFFER_TAG = 'transport.SharedArrayBuffer';
/** Host object flag: a view over a SharedArrayBuffer (its index in the item's buffer list follows). */
const SHARED_VIEW = 0x100;

type ViewClass = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): ArrayBufferView };

const VIEW_CLASSES: readonly [string, ViewClass, number][] = [
  ['Int8Array', Int8Array, 1], ['Uint8Array', Uint8Array, 1], ['Uint8ClampedArray', Uint8ClampedArray, 1],
  ['Int16Array', Int16Array, 2], ['Uint16Array', Uint16Array, 2], ['Int32Array', Int32Array, 4],
  ['Uint32Array', Uint32Array, 4], ['Float32Array', Float32Array, 4], ['Float64Array', Float64Array, 8],
  ['BigInt64Array', BigInt64Array, 8], ['BigUint64Array', BigUint64Array, 8], ['DataView', DataView, 1],
];
/** Host object type index of a Buffer (after the view classes). */
const BUFFER_TYPE = VIEW_CLASSES.length;

function typeTag(value: object): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

function viewType(view: ArrayBufferView): number {
  if (Buffer.isBuffer(view)) return BUFFER_TYPE;
  const tag = typeTag(view);
  const i = VIEW_CLASSES.findIndex(([name]) => name === tag);
  if (i < 0) throw new TypeError(`${tag} cannot be cloned`);
  return i;
}

function isShared(buffer: ArrayBufferLike): buffer is SharedArrayBuffer {
  return typeTag(buffer) === 'SharedArrayBuffer';
}

/** The SharedArrayBuffers of one value being written, in order of first appearance. */
class BufferList {
  readonly list: SharedArrayBuffer[] = [];
  readonly #index = new Map<SharedArrayBuffer, number>();

  indexOf(buffer: SharedArrayBuffer): number {
    let i = this.#index.get(buffer);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(buffer);
      this.#index.set(buffer, i);
    }
    return i;
  }
}

class ItemSerializer extends v8.Serializer {
  constructor(private readonly buffers: BufferList | undefined, private readonly crossProcess: boolean) {
    super();
    (this as unknown as { _setTreatArrayBufferViewsAsHostObjects(flag: boolean): void })._setTreatArrayBufferViewsAsHostObjects(true);
  }

  _getSharedArrayBufferId(): number {
    // Raw SharedArrayBuffers were replaced by handles before (encodeValue's hook); one left here
    // is one that must not travel.
    throw new TypeError(this.#refusal());
  }

  #refusal(): string {
    return this.crossProcess
      ? 'a SharedArrayBuffer cannot be shared between processes; use Value or Array from threadkit/multiprocessing'
      : 'a SharedArrayBuffer cannot be carried through shared memory here';
  }

  _writeHostObject(object: object): void {
    if (!ArrayBuffer.isView(object)) throw new TypeError(`${describe(object)} cannot be cloned`);
    const type = viewType(object);
    const buffer = object.buffer;
    if (isShared(buffer)) {
      if (this.buffers === undefined) throw new TypeError(this.#refusal());
      this.writeUint32(type | SHARED_VIEW);
      this.writeUint32(this.buffers.indexOf(buffer));
      this.writeUint32(object.byteOffset);
      this.writeUint32(object.byteLength);
      return;
    }
    this.writeUint32(type);
    this.writeUint32(object.byteLength);
    this.writeRawBytes(new Uint8Array(buffer, object.byteOffset, object.byteLength));
  }
}

/** The SharedArrayBuffers of the value being read (one read at a time per thread: reads are synchronous). */
let reading: readonly SharedArrayBuffer[] = [];

class ItemDeserializer extends v8.Deserializer {
  _readHostObject(): unknown {
    const word = this.readUint32();
    const type = word & ~SHARED_VIEW;
    if (type > BUFFER_TYPE) throw new TypeError('internal error: unknown host object in a serialized value');
    if ((word & SHARED_VIEW) !== 0) {
      const buffer = reading[this.readUint32()];
      const byteOffset = this.readUint32();
      const byteLength = this.readUint32();
      if (type === BUFFER_TYPE) return Buffer.from(buffer, byteOffset, byteLength);
      const [, View, size] = VIEW_CLASSES[type];
      return new View(buffer, byteOffset, type === VIEW_CLASSES.length - 1 ? byteLength : byteLength / size);
    }
    const byteLength = this.readUint32();
    const raw = this.readRawBytes(byteLength);
    const copy = new ArrayBuffer(byteLength);
    new Uint8Array(copy).set(raw);
    if (type === BUFFER_TYPE) return Buffer.from(copy);
    const [, View, size] = VIEW_CLASSES[type];
    return new View(copy, 0, type === VIEW_CLASSES.length - 1 ? byteLength : byteLength / size);
  }
}

// A handle that stands for a SharedArrayBuffer is revived from the list of the read in progress.
registerShareable(BUFFER_TAG, (index: unknown) => {
  const buffer = typeof index === 'number' ? reading[index] : undefined;
  if (buffer === undefined) throw new TypeError('Invalid handle: a SharedArrayBuffer that is not part of this value');
  return buffer;
});

// ---------------------------------------------------------------------------------------------
// serialize / deserialize

/**
 * Serializes `value`.
 * @throws TypeError naming `options.what` (and the path inside it) when it cannot be sent: a
 *   function, a symbol, a threading object or SharedArrayBuffer to another process, …
 */
export function serialize(value: unknown, options?: SerializeOptions): Encoded {
  switch (typeof value) {
    case 'number':
      return new Encoded(NUMBER, NUMBER_BYTES, value, undefined, undefined, undefined);
    case 'string':
      return new Encoded(STRING, Buffer.byteLength(value, 'utf8'), 0, value, undefined, undefined);
    case 'undefined':
      return ENCODED_UNDEFINED;
    case 'boolean':
      return value ? ENCODED_TRUE : ENCODED_FALSE;
    case 'object':
      if (value === null) return ENCODED_NULL;
      if (ArrayBuffer.isView(value) && !isShared(value.buffer)) {
        if (Buffer.isBuffer(value)) return new Encoded(BUFFER, value.length, 0, undefined, value, undefined);
        if (typeTag(value) === 'Uint8Array') return new Encoded(BYTES, value.byteLength, 0, undefined, value as Uint8Array, undefined);
      }
      break;
    default:
      break;
  }
  return serializeWithV8(value, options);
}

function serializeWithV8(value: unknown, options: SerializeOptions | undefined): Encoded {
  const crossProcess = options?.crossProcess === true;
  const shelf = crossProcess ? undefined : options?.buffers;
  const buffers = shelf === undefined ? undefined : new BufferList();
  let bytes: Uint8Array;
  try {
    const encoded = options?.encoded === true ? value : encodeValue(value, undefined, {
      crossProcess,
      sharedArrayBuffer: buffers === undefined ? undefined : (b) => ({ [HANDLE_TAG]: BUFFER_TAG, data: buffers.indexOf(b) }),
    });
    const serializer = new ItemSerializer(buffers, crossProcess);
    serializer.writeHeader();
    serializer.writeValue(encoded);
    bytes = serializer.releaseBuffer();
  } catch (error) {
    throw refusal(value, error, options);
  }
  if (buffers === undefined || buffers.list.length === 0) return new Encoded(V8, bytes.length, 0, undefined, bytes, undefined);
  const ids = buffers.list.map((b) => shelf!.put(b));
  return new Encoded(V8_BUFFERS, BUFFERS_HEADER_BYTES + ids.length * ID_BYTES + bytes.length, 0, undefined, bytes, ids);
}

/** The TypeError for a value that could not be serialized, with the path to the culprit when the check finds it. */
function refusal(value: unknown, error: unknown, options: SerializeOptions | undefined): unknown {
  const what = options?.what ?? 'value';
  const crossProcess = options?.crossProcess === true;
  try {
    // The checking walk names the path ("item (item.parts[2]) cannot be sent …").
    encodeValue(value, what, { crossProcess });
  } catch (checked) {
    return checked;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TypeError(`${what} cannot be sent to another ${crossProcess ? 'process' : 'thread'}: ${message}`, { cause: error });
}

/** A payload copied out of shared memory, to be deserialized later (outside a lock). */
export class Pending {
  constructor(readonly kind: number, readonly bytes: Uint8Array) {}
}

/**
 * Reads a payload: the value itself for the kinds that need no v8 (cheap enough to do under a
 * lock), else a {@link Pending} holding a private copy of the bytes, for {@link finish}.
 */
export function readPayload(kind: number, view: ByteView, offset: number, length: number): unknown {
  switch (kind) {
    case NUMBER:
      return view.f64 !== undefined && (offset & 7) === 0 ? view.f64[offset >> 3] : readFloat64(view.u8, offset);
    case STRING:
      return asBuffer(view.u8).toString('utf8', offset, offset + length);
    case UNDEFINED:
      return undefined;
    case NULL:
      return null;
    case TRUE:
      return true;
    case FALSE:
      return false;
    case BYTES:
      return copyOut(view.u8, offset, length);
    case BUFFER: {
      const copy = copyOut(view.u8, offset, length);
      return Buffer.from(copy.buffer, 0, length);
    }
    case V8:
    case V8_BUFFERS:
      // A private copy: v8's deserializer reads its input as it goes, and the memory may be reused.
      return new Pending(kind, copyOut(view.u8, offset, length));
    default:
      throw new TypeError(`internal error: unknown payload kind ${kind}`);
  }
}

/** Deserializes a payload read by {@link readPayload}. */
export function finish(pending: Pending, options?: SerializeOptions): unknown {
  let bytes = pending.bytes;
  let buffers: SharedArrayBuffer[] = [];
  if (pending.kind === V8_BUFFERS) {
    const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = data.getUint32(0, true);
    const shelf = options?.buffers;
    if (shelf === undefined) throw new TypeError('internal error: shared memory in a payload read without a shelf');
    buffers = Array.from({ length: count }, (_, i) => {
      const id = readFloat64(bytes, BUFFERS_HEADER_BYTES + i * ID_BYTES);
      const buffer = shelf.take(id);
      if (buffer === undefined) throw new Error(`internal error: shared memory ${id} of an item is not on the shelf`);
      return buffer;
    });
    bytes = bytes.subarray(BUFFERS_HEADER_BYTES + count * ID_BYTES);
  }
  const previous = reading;
  reading = buffers;
  try {
    const deserializer = new ItemDeserializer(bytes);
    deserializer.readHeader();
    const value = deserializer.readValue();
    return options?.encoded === true ? value : decodeValue(value);
  } finally {
    reading = previous;
  }
}

/** Reads and deserializes a payload (the bytes are copied only when v8 must read them). */
export function deserialize(kind: number, view: ByteView, offset: number, length: number, options?: SerializeOptions): unknown {
  const value = readPayload(kind, view, offset, length);
  return value instanceof Pending ? finish(value, options) : value;
}
