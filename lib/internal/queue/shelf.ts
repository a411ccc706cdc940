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
import { loadNative, type Native } from '../arena/native';

/** The shelf's functions. */
export type Shelf = Pick<Native, 'createGroup' | 'shelve' | 'borrow' | 'take' | 'discard'>;

let shelf: Shelf | null | undefined;
let why: string | undefined;

/** The shelf, or undefined when the native addon is unavailable ({@link shelfUnavailable} says why). */
export function loadShelf(): Shelf | undefined {
  if (shelf === undefined) {
    try {
      shelf = loadNative();
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
