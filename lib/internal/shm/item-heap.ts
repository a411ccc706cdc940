/**
 * The heap of LIFO and PRIORITY rings (LifoQueue and PriorityQueue of `threadkit/queue`): which
 * record a get takes, when it is not simply the oldest one (item-ring.ts).
 *
 * Records stay where item-ring.ts appended them; a binary heap of 8-word entries (the record's
 * chunk and position, its arrival number, its sort key's leading number) says which comes out
 * next. The entries live in a vector of segments of doubling size: the first in the ring's block,
 * the others in chunks of the store, allocated as the heap grows (their refs in the block's VEC
 * words). PRIORITY orders by sort key (lib/queue/priority-key.ts compares the encoded keys; the
 * leading number settles most comparisons without reading a key from the ring), then arrival;
 * LIFO by arrival, newest first.
 *
 * A record taken out of the middle is marked DEAD and its space is not reused at once: HEAD moves
 * over dead records (their space comes back in arrival order), and TAIL steps back over the record
 * just taken when it was the last one — so LIFO, a stack, never leaves a hole. PRIORITY can leave
 * holes behind a long-lived item; when the ring would grow while less than half of it holds live
 * records, {@link compact} slides the live records to the front first.
 *
 * Threads only: the heap is updated in place under LOCK, in several stores, so a holder that died
 * in the middle would leave it broken. Only `threadkit/queue` has LIFO and PRIORITY queues, and a
 * thread cannot be killed alone (condition-queue.ts on dying waiters); every queue processes share
 * is FIFO, whose state item-ring.ts commits with one store.
 */
import * as layout from './item-layout';
import type { Chunk, RecordReader, RecordSource, Ring } from './item-layout';

// Module-local copies: some loaders (esbuild/tsx) turn imported bindings into getters, a call on
// every access in the hot paths.
const {
  CH_END, CH_NEXT_A, CH_NEXT_B, CH_SIZE, CHUNK_HEADER_BYTES, COUNT, DEAD, E_A, E_B, E_NUMBER_F64, E_POS,
  E_SEQ_HI, E_SEQ_LO, E_TAG, ENTRY_WORDS, HEAD_A, HEAD_B, HEAD_POS, KEY_EXACT, KEY_NUMBER, KIND_MASK, LIFO,
  LIVE_BYTES, PRIORITY, RECORD_HEADER_BYTES, R_KIND, R_LENGTH, SEQ_HI, SEQ_LO, SEQ_WRAP, TAIL_A, TAIL_B,
  TAIL_POS, align8, recordAt, recordBytes, sameChunk,
} = layout;

function seqOf(c: Chunk, w: number): number {
  return c.i32[w + E_SEQ_HI] * SEQ_WRAP + (c.i32[w + E_SEQ_LO] >>> 0);
}

/** The encoded key of the record an entry names. */
function keyOf(r: Ring, c: Chunk, w: number): { u8: Uint8Array; offset: number; length: number } {
  const chunk = r.store.chunk(c.i32[w + E_A], c.i32[w + E_B]);
  const pos = c.i32[w + E_POS];
  return { u8: chunk.u8, offset: pos + RECORD_HEADER_BYTES + 8, length: chunk.i32[(pos >> 2) + 2] };
}

function compareNumbers(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  if (x === y) return 0;
  // NaN sorts after every number, and equal to itself.
  return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
}

/** < 0 when entry (ca, wa) comes out before entry (cb, wb). */
function before(r: Ring, ca: Chunk, wa: number, cb: Chunk, wb: number): boolean {
  const seqA = seqOf(ca, wa);
  const seqB = seqOf(cb, wb);
  if (r.order === LIFO) return seqA > seqB;
  const tagA = ca.i32[wa + E_TAG];
  const tagB = cb.i32[wb + E_TAG];
  let order = 0;
  // The number prefixes decide only between keys of one shape: two numbers, or two arrays that
  // start with a number (a number and an array never compare by their numbers).
  if ((tagA & KEY_NUMBER) !== 0 && tagA === tagB) {
    order = compareNumbers(ca.f64[(wa >> 1) + E_NUMBER_F64], cb.f64[(wb >> 1) + E_NUMBER_F64]);
    if (order === 0 && (tagA & KEY_EXACT) === 0) {
      const ka = keyOf(r, ca, wa);
      const kb = keyOf(r, cb, wb);
      order = r.compareKeys!(ka.u8, ka.offset, ka.length, kb.u8, kb.offset, kb.length);
    }
  } else {
    const ka = keyOf(r, ca, wa);
    const kb = keyOf(r, cb, wb);
    order = r.compareKeys!(ka.u8, ka.offset, ka.length, kb.u8, kb.offset, kb.length);
  }
  return order !== 0 ? order < 0 : seqA < seqB;
}

function swap(ca: Chunk, wa: number, cb: Chunk, wb: number): void {
  for (let k = 0; k < ENTRY_WORDS; k++) {
    const t = ca.i32[wa + k];
    ca.i32[wa + k] = cb.i32[wb + k];
    cb.i32[wb + k] = t;
  }
}

export function heapPush(r: Ring, pos: number, source: RecordSource): void {
  const s = r.s;
  let i = s[COUNT];
  const { c, w } = r.entry(i)!;
  c.i32[w + E_A] = s[TAIL_A];
  c.i32[w + E_B] = s[TAIL_B];
  c.i32[w + E_POS] = pos;
  c.i32[w + E_TAG] = source.keyTag ?? 0;
  c.i32[w + E_SEQ_HI] = s[SEQ_HI];
  c.i32[w + E_SEQ_LO] = s[SEQ_LO];
  c.f64[(w >> 1) + E_NUMBER_F64] = source.keyNumber ?? 0;
  // Sift up.
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = r.entry(parent)!;
    const me = r.entry(i)!;
    if (!before(r, me.c, me.w, p.c, p.w)) break;
    swap(me.c, me.w, p.c, p.w);
    i = parent;
  }
}

export function heapPop<T>(r: Ring, read: RecordReader<T>): T {
  const s = r.s;
  const top = r.entry(0)!;
  const a = top.c.i32[top.w + E_A];
  const b = top.c.i32[top.w + E_B];
  const pos = top.c.i32[top.w + E_POS];
  const chunk = r.store.chunk(a, b);
  const { length, kind } = recordAt(chunk, pos);
  const keyBytes = r.order === PRIORITY ? align8(8 + chunk.i32[(pos >> 2) + 2]) : 0;
  const value = read(kind & KIND_MASK, chunk, pos + RECORD_HEADER_BYTES + keyBytes, length - keyBytes);
  chunk.i32[(pos >> 2) + R_KIND] = kind | DEAD;
  const bytes = recordBytes(length);
  s[LIVE_BYTES] -= bytes;
  // Move the last entry to the top and sift it down.
  const n = s[COUNT] - 1;
  if (n > 0) {
    const last = r.entry(n)!;
    for (let k = 0; k < ENTRY_WORDS; k++) top.c.i32[top.w + k] = last.c.i32[last.w + k];
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      let child = left;
      const l = r.entry(left)!;
      let best = l;
      if (left + 1 < n) {
        const rt = r.entry(left + 1)!;
        if (before(r, rt.c, rt.w, l.c, l.w)) {
          child = left + 1;
          best = rt;
        }
      }
      const me = r.entry(i)!;
      if (!before(r, best.c, best.w, me.c, me.w)) break;
      swap(best.c, best.w, me.c, me.w);
      i = child;
    }
  }
  stepBackTail(r, a, b, pos, bytes);
  skipDeadHead(r);
  return value;
}

/** The record just taken was the last one: TAIL steps back over it (a stack never leaves holes). */
function stepBackTail(r: Ring, a: number, b: number, pos: number, bytes: number): void {
  const s = r.s;
  if (sameChunk(a, b, s[TAIL_A], s[TAIL_B])) {
    if (pos + bytes === s[TAIL_POS]) s[TAIL_POS] = pos;
    return;
  }
  // The tail moved on into an empty chunk right after the record's.
  const chunk = r.store.chunk(a, b);
  if (s[TAIL_POS] === CHUNK_HEADER_BYTES && sameChunk(chunk.i32[CH_NEXT_A], chunk.i32[CH_NEXT_B], s[TAIL_A], s[TAIL_B]) && pos + bytes === chunk.i32[CH_END]) {
    s[TAIL_A] = a;
    s[TAIL_B] = b;
    s[TAIL_POS] = pos;
  }
}

/** HEAD moves over taken records, so their space comes back in arrival order. */
function skipDeadHead(r: Ring): void {
  const s = r.s;
  for (;;) {
    const atTailChunk = sameChunk(s[HEAD_A], s[HEAD_B], s[TAIL_A], s[TAIL_B]);
    if (atTailChunk && s[HEAD_POS] >= s[TAIL_POS]) return;
    const chunk = r.store.chunk(s[HEAD_A], s[HEAD_B]);
    if (!atTailChunk && s[HEAD_POS] >= chunk.i32[CH_END]) {
      const a = chunk.i32[CH_NEXT_A];
      s[HEAD_B] = chunk.i32[CH_NEXT_B];
      s[HEAD_A] = a;
      s[HEAD_POS] = CHUNK_HEADER_BYTES;
      continue;
    }
    const { length, kind } = recordAt(chunk, s[HEAD_POS]);
    if ((kind & DEAD) === 0) return;
    s[HEAD_POS] += recordBytes(length);
  }
}

/**
 * Slides PRIORITY's live records to the front of the ring, in ring order, and points their heap
 * entries at the new places. A record only ever moves back (towards HEAD's chunk), so it is copied
 * over space that is free or its own.
 */
export function compact(r: Ring): void {
  const s = r.s;
  const n = s[COUNT];
  // Rank of each chunk in ring order from HEAD's chunk.
  const rank = new Map<string, number>();
  let a = s[HEAD_A];
  let b = s[HEAD_B];
  const chain: [number, number][] = [];
  for (;;) {
    rank.set(`${a}/${b}`, chain.length);
    chain.push([a, b]);
    const c = r.store.chunk(a, b);
    const na = c.i32[CH_NEXT_A];
    b = c.i32[CH_NEXT_B];
    a = na;
    if (sameChunk(a, b, s[HEAD_A], s[HEAD_B])) break;
  }
  const order: number[] = Array.from({ length: n }, (_, i) => i);
  const where = order.map((i) => {
    const e = r.entry(i)!;
    return rank.get(`${e.c.i32[e.w + E_A]}/${e.c.i32[e.w + E_B]}`)! * 0x80000000 + e.c.i32[e.w + E_POS];
  });
  order.sort((x, y) => where[x] - where[y]);
  let d = 0;
  let dst = r.store.chunk(chain[0][0], chain[0][1]);
  let dpos = CHUNK_HEADER_BYTES;
  for (const i of order) {
    const e = r.entry(i)!;
    const src = r.store.chunk(e.c.i32[e.w + E_A], e.c.i32[e.w + E_B]);
    const spos = e.c.i32[e.w + E_POS];
    const bytes = recordBytes(src.i32[(spos >> 2) + R_LENGTH]);
    while (dpos + bytes > dst.i32[CH_SIZE]) {
      dst.i32[CH_END] = dpos;
      d++;
      dst = r.store.chunk(chain[d][0], chain[d][1]);
      dpos = CHUNK_HEADER_BYTES;
    }
    if (dst === src) dst.u8.copyWithin(dpos, spos, spos + bytes);
    else dst.u8.set(src.u8.subarray(spos, spos + bytes), dpos);
    e.c.i32[e.w + E_A] = chain[d][0];
    e.c.i32[e.w + E_B] = chain[d][1];
    e.c.i32[e.w + E_POS] = dpos;
    dpos += bytes;
  }
  s[HEAD_A] = chain[0][0];
  s[HEAD_B] = chain[0][1];
  s[HEAD_POS] = CHUNK_HEADER_BYTES;
  s[TAIL_A] = chain[d][0];
  s[TAIL_B] = chain[d][1];
  s[TAIL_POS] = dpos;
}
