/**
 * The native shelf (native/threadkit_shm.cc): SharedArrayBuffers handed between the threads of this
 * process by number, without a message — a new chunk of a queue's ring, a Lock inside an item. Any
 * thread makes its own SharedArrayBuffer over the same memory from the number, even one blocked in
 * a synchronous get. Entries belong to a group (a queue's own memory, made by `createGroup`) and go
 * when the group's memory is freed, so a queue dropped with items in it leaves nothing behind.
 *
 * Where the addon cannot be loaded, there is no shelf: thread queues then live in one fixed
 * SharedArrayBuffer, and an item holding shared memory is refused with the reason.
 */
import { loadNative } from '../arena/native';

/** The shelf's functions. */
export interface Shelf {
  /** A zeroed SharedArrayBuffer that owns the entries shelved with it. */
  createGroup(size: number): SharedArrayBuffer;
  /** Shelves `buffer` in `group`; returns its id (≥ 1). */
  shelve(group: SharedArrayBuffer, buffer: SharedArrayBuffer): number;
  /** A SharedArrayBuffer of this thread over entry `id` (it stays on the shelf). */
  borrow(id: number): SharedArrayBuffer | undefined;
  /** As borrow, and removes the entry. */
  take(id: number): SharedArrayBuffer | undefined;
  /** Removes entry `id`. */
  discard(id: number): boolean;
}

let shelf: Shelf | null | undefined;
let why: string | undefined;

/** The shelf, or undefined when the native addon is unavailable ({@link shelfUnavailable} says why). */
export function loadShelf(): Shelf | undefined {
  if (shelf === undefined) {
    try {
      const native = loadNative() as unknown as Partial<Shelf>;
      if (typeof native.createGroup !== 'function') throw new Error('the native addon was built without the shelf; rebuild it (`npm rebuild threadkit`)');
      shelf = native as Shelf;
    } catch (error) {
      shelf = null;
      // loadNative's message speaks of multiprocessing objects; its cause says why.
      const cause = (error as Error).cause;
      why = cause instanceof Error ? cause.message : (error as Error).message;
    }
  }
  return shelf ?? undefined;
}

/** Why there is no shelf ("disabled by …", "it needs Linux …"). */
export function shelfUnavailable(): string {
  return why ?? 'it could not be loaded';
}
