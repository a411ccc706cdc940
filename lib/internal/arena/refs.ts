/**
 * Who holds a block of the arena, so that blocks of dropped objects are freed and reused.
 *
 * A block's REFS word counts the holders across the tree: each thread (JS environment) of each
 * process that has at least one live object over the block counts once. Within a thread, a map
 * counts the live objects per block; a FinalizationRegistry tells when one was collected, and the
 * thread's last object gone gives the thread's hold back (REFS−1). The process's exit gives back
 * every hold it still has. The last hold given back frees the block (arena.ts).
 *
 * Handles in flight. A handle sent to another thread or process names a block that the receiver
 * has not counted yet; if the sender dropped its object meanwhile and the block were freed, the
 * receiver would revive freed (or reused) memory. So an object that was ever shared (its handle
 * made) pins its thread's hold until that thread ends. A program that shares a new object per task
 * for ever keeps those blocks until exit; one that shares objects it keeps, or never shares, frees
 * them as they go. (A thread that is terminated runs no exit handler: its holds stay, a bounded leak.)
 */
import { arenaAt, ownArena, type Arena, type BlockRef } from './arena';
import type { ArenaBlock } from './block';

interface Hold {
  readonly arena: Arena;
  readonly segment: number;
  readonly offset: number;
  /** Live objects of this thread over the block. */
  count: number;
  /** Shared at least once: kept until this thread ends. */
  pinned: boolean;
}

const holds = new Map<string, Hold>();
const registry = new FinalizationRegistry<string>(collected);
let exitHooked = false;

function keyOf(arenaId: string, segment: number, offset: number): string {
  return `${arenaId}/${segment}/${offset}`;
}

function collected(key: string): void {
  const hold = holds.get(key);
  if (hold === undefined || --hold.count > 0 || hold.pinned) return;
  holds.delete(key);
  hold.arena.release(hold.segment, hold.offset);
}

function releaseAll(): void {
  for (const hold of holds.values()) {
    try {
      hold.arena.release(hold.segment, hold.offset);
    } catch {
      // exiting: nothing more can be done
    }
  }
  holds.clear();
}

function entryFor(arena: Arena, block: ArenaBlock): void {
  const { segment, offset } = block.place;
  holds.set(keyOf(arena.id, segment, offset), { arena, segment, offset, count: 0, pinned: false });
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', releaseAll);
  }
}

/**
 * A new zeroed block with a payload of `bytes` bytes in this process's arena; give it an owner
 * with {@link holdBy}.
 * @throws Error when the native addon is unavailable (saying why); RangeError when too large.
 */
export function newBlock(bytes: number): ArenaBlock {
  const arena = ownArena();
  const block = arena.allocate(bytes);
  entryFor(arena, block);
  return block;
}

/**
 * The block a handle names (its payload `bytes` long), counting this thread as a holder; give it an
 * owner with {@link holdBy}.
 * @throws TypeError `Invalid handle` when `ref` names no such block.
 */
export function revivedBlock(ref: unknown, bytes: number, tag: string): ArenaBlock {
  const r = ref as Partial<BlockRef> | null;
  if (
    typeof r !== 'object' || r === null || typeof r.id !== 'string' || !Array.isArray(r.holders) ||
    !r.holders.every((h) => Array.isArray(h) && h.length === 2 && h.every(Number.isInteger)) ||
    !Number.isInteger(r.segment) || !Number.isInteger(r.offset)
  ) {
    throw new TypeError(`Invalid handle: ${tag} needs a block of the shared memory arena`);
  }
  const arena = arenaAt(r as BlockRef);
  if (holds.has(keyOf(arena.id, r.segment!, r.offset!))) return arena.view(r.segment!, r.offset!, bytes);
  const block = arena.revive(r.segment!, r.offset!, bytes);
  entryFor(arena, block);
  return block;
}

/** Counts `owner` (a live object of this thread) as an owner of `block` until it is collected. */
export function holdBy(owner: object, block: ArenaBlock): void {
  const key = keyOf(block.place.arenaId, block.place.segment, block.place.offset);
  holds.get(key)!.count++;
  registry.register(owner, key);
}

/**
 * The handle data of `block`, for sending: pins this thread's hold until the thread ends, so that
 * the block outlives the handle's journey.
 */
export function blockRef(block: ArenaBlock): BlockRef {
  const key = keyOf(block.place.arenaId, block.place.segment, block.place.offset);
  const hold = holds.get(key)!;
  hold.pinned = true;
  return { ...hold.arena.address(), segment: hold.segment, offset: hold.offset };
}

/** Live objects of this thread over arena blocks, and blocks it holds (for tests). */
export function holdCount(): number {
  return holds.size;
}
