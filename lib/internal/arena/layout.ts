/**
 * The arena's layout in shared memory: the header of segment 0, the table of segments, the free
 * lists, and the header of every block. Everything here is read and written by every process of the
 * tree, so every slot is named and nothing depends on where a process mapped a segment: a place in
 * the arena is (segment index, byte offset), never an address.
 *
 * Segment 0 (ARENA_HEADER_BYTES, then blocks):
 *
 *     MAGIC, VERSION, ID_LO, ID_HI   identify the arena (a mapped segment is checked against them)
 *     ALLOC_LOCK                     mutex word (futex) guarding every slot below and every free list
 *     SEGMENT_COUNT                  segments created so far
 *     NEXT_OWNER                     counter for owner ids unique across the tree (RLock owners)
 *     USED_BYTES                     bytes in live blocks, headers included (a statistic)
 *     ALLOC_OWNER                    pid holding ALLOC_LOCK (0 when free), for dead-holder takeover
 *     FREE[class]                    head of each size class's free list, a packed ref or NONE
 *     SEGMENTS[i]                    per segment: SIZE (bytes / 8), BUMP (first free byte / 8),
 *                                    HOLDERS × (pid, fd): processes that keep an fd of it open
 *
 * Every other segment starts with SEGMENT_HEADER_WORDS: MAGIC, its index (where segment 0 has
 * VERSION), ID_LO, ID_HI.
 *
 * A block is a power of two of bytes (its class), at least MIN_CLASS, starting on an 8-byte boundary:
 * two header words — CLASS and REFS (processes holding it, see refs.ts) — then the payload, 8-byte
 * aligned too (Float64 and BigInt64 values live there). A free block's payload holds the packed ref
 * of the next free block of its class.
 */

export const MAGIC_VALUE = 0x544b4152; // 'TKAR'
export const VERSION_VALUE = 1;

// Segment 0's header words.
export const MAGIC = 0;
export const VERSION = 1;
export const ID_LO = 2;
export const ID_HI = 3;
export const ALLOC_LOCK = 4;
export const SEGMENT_COUNT = 5;
export const NEXT_OWNER = 6;
export const USED_BYTES = 7;
export const ALLOC_OWNER = 8;
/** First FREE[class] word. */
export const FREE = 9;
/** Size classes: 2^MIN_CLASS … 2^MAX_CLASS bytes. */
export const MIN_CLASS = 4;
export const MAX_CLASS = 27;
export const CLASSES = MAX_CLASS - MIN_CLASS + 1;
/** First word of the segment table. */
export const SEGMENT_TABLE = FREE + CLASSES;
/** Processes recorded as holders of each segment. */
export const HOLDERS = 6;
/** Words of one segment-table entry: SIZE, BUMP, HOLDERS × (pid, fd). */
export const SEGMENT_ENTRY_WORDS = 2 + HOLDERS * 2;
export const MAX_SEGMENTS = 32;
/** Bytes of segment 0's header, rounded up to 8. */
export const ARENA_HEADER_BYTES = Math.ceil(((SEGMENT_TABLE + MAX_SEGMENTS * SEGMENT_ENTRY_WORDS) * 4) / 8) * 8;

// A table entry's words.
export const SEG_SIZE = 0;
export const SEG_BUMP = 1;
export const SEG_HOLDERS = 2;

// Other segments' header.
export const SEGMENT_HEADER_WORDS = 4;
export const SEG_INDEX = 1;
export const SEGMENT_HEADER_BYTES = 16;

// A block's header words (before the payload).
export const BLOCK_CLASS = 0;
export const BLOCK_REFS = 1;
export const BLOCK_HEADER_BYTES = 8;

/** Default size of a segment: pages cost nothing until touched. */
export const SEGMENT_BYTES = 4 << 20;

/** No block (an empty free list). */
export const NONE = 0;
/** Bits of a packed ref for the offset (in 8-byte units) inside a segment. */
const OFFSET_BITS = 25;

/** Packs (segment, byte offset of a block) into one positive int32; never NONE. */
export function pack(segment: number, offset: number): number {
  return ((segment << OFFSET_BITS) | (offset >>> 3)) + 1;
}

export function refSegment(packed: number): number {
  return (packed - 1) >>> OFFSET_BITS;
}

export function refOffset(packed: number): number {
  return ((packed - 1) & ((1 << OFFSET_BITS) - 1)) << 3;
}

/** The size class of a block whose payload is `bytes` long. */
export function classFor(bytes: number): number {
  let c = MIN_CLASS;
  while ((1 << c) < bytes + BLOCK_HEADER_BYTES) c++;
  if (c > MAX_CLASS) throw new RangeError(`a shared object of ${bytes} bytes is larger than the arena's largest block (${(1 << MAX_CLASS) - BLOCK_HEADER_BYTES} bytes)`);
  return c;
}

/** First word of segment `i`'s entry in the table. */
export function entry(i: number): number {
  return SEGMENT_TABLE + i * SEGMENT_ENTRY_WORDS;
}
