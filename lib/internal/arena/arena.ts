/**
 * The arena: memory shared by every process of a program's tree, in which every
 * `threadkit/multiprocessing` object lives as a block.
 *
 * One arena per tree, made lazily: by the first process (or thread) that needs one and has none, or
 * by the library when it starts a child process, so that the child inherits it. A process adopts
 * at most one arena as its own (the native addon keeps its fd for every thread of the process), and
 * allocates there; it can still revive blocks of another arena from handles.
 *
 * How a process reaches a segment, in order: a segment it already mapped (this thread's cache); an
 * fd of this process (another thread mapped it: the native `claimArena` fd, or a holder entry with
 * this pid); the fd a parent passed in its stdio (named by THREADKIT_ARENA, see inherit.ts); else
 * `/proc/<holder>/fd/<n>` of a process listed as holding it — in the segment table for segments of
 * an arena it reached, in the handle itself for segment 0. Every process that maps a segment keeps
 * its fd open and records itself as a holder, so a segment stays reachable after its creator ended.
 * Every mapped segment is checked (magic, arena id, index) before use: an fd number or a pid may
 * have been reused for something else.
 *
 * The allocator (layout.ts) keeps one free list per power-of-two size class, and a bump pointer per
 * segment; a new segment is created when the last one is full (or a block needs more than a
 * segment). Everything it touches is guarded by ALLOC_LOCK, a mutex word in segment 0 slept on with
 * the futex; a process that dies holding it (it is held for a few µs) is detected by the next
 * process that waited a second for it, which takes it over (ALLOC_OWNER names the holder).
 *
 * Segments are never unmapped and their fds never closed while the process lives: a block may be
 * revived at any time, and V8 does not count the mapping, so GC would never pressure it anyway.
 */
import { randomInt } from 'node:crypto';
import { runSync } from '../shm/steps';
import { mutexUnlock } from '../shm/mutex';
import { FOREVER } from '../shm/deadline';
import { loadNative, type Native } from './native';
import { ArenaBlock } from './block';
import * as L from './layout';
import { childArena, inheritedArena } from './inherit';
import { isAlive, mutexLockWatched } from './watch';

/** A handle's way to the arena: its id and processes that hold its segment 0. */
export interface ArenaAddress {
  readonly id: string;
  /** [pid, fd] pairs. */
  readonly holders: readonly (readonly [number, number])[];
}

/** What a handle stores to find a block again, in any process of the tree. */
export interface BlockRef extends ArenaAddress {
  readonly segment: number;
  readonly offset: number;
}

interface Segment {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
}

function idOf(i32: Int32Array): string {
  return `${(i32[L.ID_HI] >>> 0).toString(16)}.${(i32[L.ID_LO] >>> 0).toString(16)}`;
}

export class Arena {
  readonly id: string;
  /** Segment 0's words: the header. */
  readonly header: Int32Array;
  /** ALLOC_LOCK as a futex block. */
  readonly #lock: ArenaBlock;
  readonly #segments: Segment[] = [];
  readonly #native: Native;

  constructor(native: Native, segment0: Segment) {
    this.#native = native;
    this.#segments[0] = segment0;
    this.header = segment0.i32;
    this.id = idOf(this.header);
    this.#lock = new ArenaBlock(new Int32Array(segment0.sab, 0, L.FREE), { arenaId: this.id, segment: 0, offset: 0 }, native);
  }

  /** Segment 0's holders, this process first: what a handle carries. */
  address(): ArenaAddress {
    const holders: [number, number][] = [];
    const e = L.entry(0) + L.SEG_HOLDERS;
    for (let h = 0; h < L.HOLDERS; h++) {
      const pid = Atomics.load(this.header, e + 2 * h);
      if (pid !== 0) holders.push([pid, Atomics.load(this.header, e + 2 * h + 1)]);
    }
    holders.sort((a, b) => (a[0] === process.pid ? -1 : b[0] === process.pid ? 1 : 0));
    return { id: this.id, holders };
  }

  /** Bytes in live blocks (headers included), across the tree. */
  usedBytes(): number {
    return Atomics.load(this.header, L.USED_BYTES);
  }

  /** Segments created so far. */
  segmentCount(): number {
    return Atomics.load(this.header, L.SEGMENT_COUNT);
  }

  /** A new owner id, unique across the tree (never 0). */
  nextOwnerId(): number {
    return (Atomics.add(this.header, L.NEXT_OWNER, 1) + 1) | 0 || this.nextOwnerId();
  }

  #withLock<T>(fn: () => T): T {
    // Held for a few µs: a holder that is still there after a second waited on has died in it.
    runSync(mutexLockWatched(this.#lock, L.ALLOC_LOCK, FOREVER, () => {
      const owner = Atomics.load(this.header, L.ALLOC_OWNER);
      return owner !== 0 && !isAlive(owner) && Atomics.compareExchange(this.header, L.ALLOC_OWNER, owner, process.pid) === owner;
    }));
    Atomics.store(this.header, L.ALLOC_OWNER, process.pid);
    try {
      return fn();
    } finally {
      Atomics.store(this.header, L.ALLOC_OWNER, 0);
      mutexUnlock(this.#lock, L.ALLOC_LOCK);
    }
  }

  /**
   * Segment `index`, mapped in this thread (mapping it, through a holder, on first use).
   * `locked`: the caller holds ALLOC_LOCK (which is not reentrant).
   */
  segment(index: number, locked = false): Segment {
    const known = this.#segments[index];
    if (known !== undefined) return known;
    if (!Number.isInteger(index) || index < 0 || index >= this.segmentCount()) throw new TypeError(`Invalid handle: no segment ${index} in arena ${this.id}`);
    const e = L.entry(index) + L.SEG_HOLDERS;
    const holders: [number, number][] = [];
    for (let h = 0; h < L.HOLDERS; h++) {
      const pid = Atomics.load(this.header, e + 2 * h);
      if (pid !== 0) holders.push([pid, Atomics.load(this.header, e + 2 * h + 1)]);
    }
    const opened = openSegment(this.#native, holders, this.id, index);
    if (opened === undefined) throw new Error(`cannot reach segment ${index} of the shared memory arena: every process that held it has ended`);
    if (opened.opened) {
      if (locked) this.#recordHolder(index, opened.fd);
      else this.addHolder(index, opened.fd);
    }
    this.#segments[index] = opened.segment;
    return opened.segment;
  }

  /** Segment `index` under ALLOC_LOCK, or undefined when no process holds it any more. */
  #reach(index: number): Segment | undefined {
    try {
      return this.segment(index, true);
    } catch {
      return undefined;
    }
  }

  /** Records this process as a holder of segment `index` (over an ended one when all slots are taken). */
  addHolder(index: number, fd: number): void {
    this.#withLock(() => this.#recordHolder(index, fd));
  }

  /** As addHolder, under ALLOC_LOCK. */
  #recordHolder(index: number, fd: number): void {
    const e = L.entry(index) + L.SEG_HOLDERS;
    let free = -1;
    for (let h = 0; h < L.HOLDERS; h++) {
      const pid = this.header[e + 2 * h];
      if (pid === process.pid) return;
      if (free === -1 && (pid === 0 || !isAlive(pid))) free = h;
    }
    if (free === -1) return;
    this.header[e + 2 * free] = process.pid;
    this.header[e + 2 * free + 1] = fd;
  }

  /**
   * A new block with a payload of `bytes` bytes, counted as held once (by the caller): zeroed,
   * unless `zeroed` is false (a caller that writes every byte it reads, such as a queue's spill of a
   * large item, skips clearing megabytes that it overwrites at once).
   * @throws RangeError when `bytes` is larger than the largest block.
   */
  allocate(bytes: number, zeroed = true): ArenaBlock {
    const cls = L.classFor(bytes);
    const size = 1 << cls;
    const packed = this.#withLock(() => {
      const h = this.header;
      let ref = h[L.FREE + cls - L.MIN_CLASS];
      const seg = ref === L.NONE ? undefined : this.#reach(L.refSegment(ref));
      if (seg !== undefined) {
        h[L.FREE + cls - L.MIN_CLASS] = seg.i32[(L.refOffset(ref) + L.BLOCK_HEADER_BYTES) >> 2];
      } else {
        // An empty list, or one whose head is in a segment nobody holds any more (its creator ended
        // before anyone else mapped it: the kernel freed it). The rest of that list is unreadable:
        // it is dropped (a leak of what it held, never a wrong block).
        h[L.FREE + cls - L.MIN_CLASS] = L.NONE;
        ref = this.#bump(size);
      }
      h[L.USED_BYTES] += size;
      return ref;
    });
    const segment = L.refSegment(packed);
    const offset = L.refOffset(packed);
    const seg = this.segment(segment);
    seg.i32.fill(0, offset >> 2, zeroed ? (offset + size) >> 2 : (offset + L.BLOCK_HEADER_BYTES) >> 2);
    Atomics.store(seg.i32, (offset >> 2) + L.BLOCK_CLASS, cls);
    Atomics.store(seg.i32, (offset >> 2) + L.BLOCK_REFS, 1);
    return this.view(segment, offset, bytes);
  }

  /** Carves `size` bytes from the last segment, or a new one (under ALLOC_LOCK). */
  #bump(size: number): number {
    const h = this.header;
    const count = h[L.SEGMENT_COUNT];
    const last = L.entry(count - 1);
    const bump = h[last + L.SEG_BUMP] * 8;
    if (bump + size <= h[last + L.SEG_SIZE] * 8 && this.#reach(count - 1) !== undefined) {
      h[last + L.SEG_BUMP] = (bump + size) / 8;
      return L.pack(count - 1, bump);
    }
    if (count >= L.MAX_SEGMENTS) throw new Error(`the shared memory arena is full (${L.MAX_SEGMENTS} segments)`);
    const bytes = Math.max(L.SEGMENT_BYTES, size + L.SEGMENT_HEADER_BYTES);
    const { fd, sab } = this.#native.create(bytes);
    const i32 = new Int32Array(sab);
    i32[L.MAGIC] = L.MAGIC_VALUE;
    i32[L.ID_LO] = h[L.ID_LO];
    i32[L.ID_HI] = h[L.ID_HI];
    i32[L.SEG_INDEX] = count;
    const e = L.entry(count);
    h[e + L.SEG_SIZE] = bytes / 8;
    h[e + L.SEG_BUMP] = (L.SEGMENT_HEADER_BYTES + size) / 8;
    h[e + L.SEG_HOLDERS] = process.pid;
    h[e + L.SEG_HOLDERS + 1] = fd;
    this.#segments[count] = { sab, i32 };
    Atomics.store(h, L.SEGMENT_COUNT, count + 1);
    return L.pack(count, L.SEGMENT_HEADER_BYTES);
  }

  /** The block at (segment, offset) with a payload of `bytes` bytes, without counting a hold. */
  view(segment: number, offset: number, bytes: number): ArenaBlock {
    const seg = this.segment(segment);
    const words = Math.ceil(bytes / 4);
    return new ArenaBlock(new Int32Array(seg.sab, offset + L.BLOCK_HEADER_BYTES, words), { arenaId: this.id, segment, offset }, this.#native);
  }

  /**
   * The block at (segment, offset), with a payload of `bytes` bytes, counted once more as held.
   * @throws TypeError `Invalid handle` when no live block of that size is there.
   */
  revive(segment: number, offset: number, bytes: number): ArenaBlock {
    const seg = this.segment(segment);
    if (!Number.isInteger(offset) || offset < 0 || offset % 8 !== 0 || offset + L.BLOCK_HEADER_BYTES > seg.sab.byteLength) {
      throw new TypeError(`Invalid handle: no block at offset ${offset} of segment ${segment}`);
    }
    const words = offset >> 2;
    const cls = Atomics.load(seg.i32, words + L.BLOCK_CLASS);
    if (cls !== L.classFor(bytes) || offset + (1 << cls) > seg.sab.byteLength) throw new TypeError('Invalid handle: the block does not hold an object of this kind');
    // A handle is only ever sent by a process that holds the block (refs.ts pins it), so REFS > 0 here.
    if (Atomics.add(seg.i32, words + L.BLOCK_REFS, 1) <= 0) {
      Atomics.sub(seg.i32, words + L.BLOCK_REFS, 1);
      throw new TypeError('Invalid handle: the shared object was already freed');
    }
    return this.view(segment, offset, bytes);
  }

  /** Drops one hold of the block at (segment, offset); the last one frees it. */
  release(segment: number, offset: number): void {
    const seg = this.segment(segment);
    const words = offset >> 2;
    if (Atomics.sub(seg.i32, words + L.BLOCK_REFS, 1) !== 1) return;
    const cls = Atomics.load(seg.i32, words + L.BLOCK_CLASS);
    this.#withLock(() => {
      const h = this.header;
      seg.i32[(offset + L.BLOCK_HEADER_BYTES) >> 2] = h[L.FREE + cls - L.MIN_CLASS];
      h[L.FREE + cls - L.MIN_CLASS] = L.pack(segment, offset);
      h[L.USED_BYTES] -= 1 << cls;
    });
  }
}

/**
 * A segment opened through `holders` and checked, with the fd through which this process holds it;
 * `opened` when that fd is new (this process was not a holder before).
 */
function openSegment(native: Native, holders: readonly (readonly [number, number])[], id: string, index: number): { segment: Segment; fd: number; opened: boolean } | undefined {
  for (const [pid, fd] of holders) {
    try {
      if (pid === process.pid) {
        const segment = check(native.map(fd), id, index);
        if (segment !== undefined) return { segment, fd, opened: false };
        continue;
      }
      const opened = native.open(`/proc/${pid}/fd/${fd}`);
      const segment = check(opened.sab, id, index);
      if (segment !== undefined) return { segment, fd: opened.fd, opened: true };
      native.close(opened.fd);
    } catch {
      // That holder ended or closed it (ENOENT), or is another user's (EACCES): try the next.
    }
  }
  return undefined;
}

/** The segment if `sab` is segment `index` of arena `id` (or of any arena when id is undefined and index 0). */
function check(sab: SharedArrayBuffer, id: string | undefined, index: number): Segment | undefined {
  if (sab.byteLength < L.SEGMENT_HEADER_BYTES) return undefined;
  const i32 = new Int32Array(sab);
  if (i32[L.MAGIC] !== L.MAGIC_VALUE) return undefined;
  if (id !== undefined && idOf(i32) !== id) return undefined;
  if (index === 0 ? i32[L.VERSION] !== L.VERSION_VALUE : i32[L.SEG_INDEX] !== index) return undefined;
  return { sab, i32 };
}

/** Arenas this thread reached, by id; `own` is the one it allocates in. */
const arenas = new Map<string, Arena>();
let own: Arena | undefined;

function adopt(native: Native, segment0: Segment): Arena {
  const id = idOf(segment0.i32);
  let arena = arenas.get(id);
  if (arena === undefined) {
    arena = new Arena(native, segment0);
    arenas.set(id, arena);
  }
  return arena;
}

/** Creates a new arena (segment 0) held by this process. */
function createArena(native: Native): { arena: Arena; fd: number } {
  const { fd, sab } = native.create(L.SEGMENT_BYTES);
  const h = new Int32Array(sab);
  h[L.MAGIC] = L.MAGIC_VALUE;
  h[L.VERSION] = L.VERSION_VALUE;
  h[L.ID_LO] = randomInt(2 ** 31);
  h[L.ID_HI] = randomInt(2 ** 31) ^ process.pid;
  h[L.SEGMENT_COUNT] = 1;
  const e = L.entry(0);
  h[e + L.SEG_SIZE] = L.SEGMENT_BYTES / 8;
  h[e + L.SEG_BUMP] = L.ARENA_HEADER_BYTES / 8;
  h[e + L.SEG_HOLDERS] = process.pid;
  h[e + L.SEG_HOLDERS + 1] = fd;
  return { arena: adopt(native, { sab, i32: h }), fd };
}

/**
 * This process's arena: the one another thread of it adopted, else the one its parent passed, else
 * a new one.
 * @throws Error when the native addon is unavailable (saying why).
 */
export function ownArena(): Arena {
  if (own !== undefined) return own;
  const native = loadNative();
  let fd = native.claimArena(-1);
  if (fd < 0) {
    const inherited = inheritedArena((holders, id) => openSegment(native, holders, id, 0));
    if (inherited !== undefined) {
      fd = native.claimArena(inherited.fd);
      if (fd === inherited.fd) {
        own = adopt(native, inherited.segment);
        own.addHolder(0, inherited.fd);
        return own;
      }
    } else {
      const created = createArena(native);
      fd = native.claimArena(created.fd);
      if (fd === created.fd) return (own = created.arena);
    }
    // Another thread of this process adopted one meanwhile: use it (what we opened stays mapped, unused).
  }
  const segment = check(native.map(fd), undefined, 0);
  if (segment === undefined) throw new Error(`the shared memory arena of this process (fd ${fd}) is not a threadkit arena`);
  return (own = adopt(native, segment));
}

/** The arena a handle names, reaching it (and, if this process has none yet, adopting it) on first use. */
export function arenaAt(address: ArenaAddress): Arena {
  const known = arenas.get(address.id);
  if (known !== undefined) return known;
  const native = loadNative();
  if (own === undefined && native.claimArena(-1) >= 0) {
    ownArena();
    const again = arenas.get(address.id);
    if (again !== undefined) return again;
  }
  const opened = openSegment(native, address.holders, address.id, 0);
  if (opened === undefined) throw new Error(`cannot reach the shared memory arena ${address.id}: every process that held it has ended`);
  const arena = adopt(native, opened.segment);
  // This process now holds segment 0 too: record it, and make it this process's arena if it has none.
  if (native.claimArena(opened.fd) === opened.fd) own = arena;
  if (opened.opened) arena.addHolder(0, opened.fd);
  return arena;
}

/** The stdio entries and environment that hand this process's arena to a child (see inherit.ts). */
export function arenaForChild(stdioLength: number): { stdio: number[]; env: NodeJS.ProcessEnv } {
  let arena: Arena;
  try {
    arena = ownArena();
  } catch {
    return childArena(undefined, stdioLength); // no addon: the child has no shared memory either
  }
  return childArena({ id: arena.id, fd: loadNative().claimArena(-1) }, stdioLength);
}

/** The arena of id `id` that this thread reached (the one a block of it came from). */
export function arenaById(id: string): Arena {
  const arena = arenas.get(id);
  if (arena === undefined) throw new Error(`internal error: arena ${id} was never reached by this thread`);
  return arena;
}
