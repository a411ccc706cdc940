/**
 * The blocks of `threadkit/threading` objects, and their handles.
 *
 * Each primitive owns a small block of 32-bit words (block.ts). Its algorithm addresses words by
 * named slot constants relative to the block, so the same code runs over a block of its own
 * (threading objects: a SharedArrayBuffer of this process, {@link LocalBlock}) or a block carved out
 * of the cross-process arena (multiprocessing objects, `internal/arena`). A threading object's
 * handle carries the buffer and the view's byte offset; reviving one checks it before any Atomics
 * call touches it.
 */
import { LocalBlock, localBlock } from './block';

/** A fresh zeroed block of `words` words in this process's memory. */
export const allocate = localBlock;

/** What a handle stores to find a block again. */
export interface MemoryRef {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
}

/** The part of a handle's data that locates `block`. */
export function memoryRef(block: LocalBlock): MemoryRef {
  return { buffer: block.i32.buffer as SharedArrayBuffer, byteOffset: block.i32.byteOffset };
}

/**
 * The block of `words` words that `data` (a handle's data) points at.
 * Buffers made in another realm fail `instanceof`, hence the toString check.
 * @throws TypeError `Invalid handle` when `data` does not locate such a block.
 */
export function reviveMemory(data: unknown, words: number, tag: string): LocalBlock {
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
  return new LocalBlock(new Int32Array(ref.buffer as SharedArrayBuffer, ref.byteOffset, words));
}
