/**
 * Shared memory blocks of the primitives, and their handles.
 *
 * Each primitive owns a small block of 32-bit words, an Int32Array view over a SharedArrayBuffer.
 * Its algorithm addresses words by named slot constants relative to the view, so the same code runs
 * over a block of its own (threading objects) or a block carved out of a larger buffer
 * (multiprocessing objects). A handle carries the buffer and the view's byte offset; reviving one
 * checks it before any Atomics call touches it.
 */

/** A fresh zeroed block of `words` 32-bit words. */
export function allocate(words: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(words * Int32Array.BYTES_PER_ELEMENT));
}

/** What a handle stores to find a block again. */
export interface MemoryRef {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
}

/** The part of a handle's data that locates `i32`. */
export function memoryRef(i32: Int32Array): MemoryRef {
  return { buffer: i32.buffer as SharedArrayBuffer, byteOffset: i32.byteOffset };
}

/**
 * The block of `words` words that `data` (a handle's data) points at.
 * Buffers made in another realm fail `instanceof`, hence the toString check.
 * @throws TypeError `Invalid handle` when `data` does not locate such a block.
 */
export function reviveMemory(data: unknown, words: number, tag: string): Int32Array {
  const ref = data as Partial<MemoryRef> | null;
  if (
    typeof ref !== 'object' || ref === null ||
    Object.prototype.toString.call(ref.buffer) !== '[object SharedArrayBuffer]' ||
    !Number.isInteger(ref.byteOffset) || (ref.byteOffset as number) < 0 ||
    (ref.byteOffset as number) % Int32Array.BYTES_PER_ELEMENT !== 0 ||
    (ref.byteOffset as number) + words * Int32Array.BYTES_PER_ELEMENT > (ref.buffer as SharedArrayBuffer).byteLength
  ) {
    throw new TypeError(`Invalid handle: ${tag} needs a SharedArrayBuffer block of ${words} words`);
  }
  return new Int32Array(ref.buffer as SharedArrayBuffer, ref.byteOffset, words);
}
