/**
 * The item ring: a queue of serialized items in shared memory, put and taken by any number of
 * threads (a block of this process) or processes (a block of the arena) — every queue of
 * `threadkit/queue` and `threadkit/multiprocessing`, and each direction of a Pipe.
 *
 * Memory. The ring is a circle of chunks. The first chunk (C0) is part of the queue's own block;
 * more are added when the ring is full, from the queue's ChunkStore (a SharedArrayBuffer handed to
 * other threads through the native shelf, or a block of the arena). An item is one record, always
 * inside one chunk: `[payload length][kind | flags][payload, padded to 8 bytes]`. A record larger
 * than SPILL_BYTES is not copied into the ring: its bytes go to chunks of their own (a spill),
 * written and read outside the lock, and the ring holds a small record naming them (the caller's
 * business: the ring just carries records). Records are appended at TAIL; the chunks after the
 * tail's chunk and before the head's chunk are free, and the tail moves into the next chunk when
 * the record does not fit, or inserts a new chunk there when the next one is the head's (full):
 *
 *          HEAD                                  TAIL
 *     ┌─────▼────────────┐   ┌──────────────────▼─┐   ┌────────────┐
 *     │ ░░ rec rec rec   │──▶│ rec rec rec rec     │──▶│ (free)     │──┐
 *     └──────────────────┘   └─────────────────────┘   └────────────┘  │
 *              ▲─────────────────────────────────────────────────────┘
 *
 * When the last item is taken, HEAD and TAIL go back to the start of C0, and a ring that grew past
 * RETAIN_BYTES gives its other chunks back.
 *
 * Order. FIFO takes the record at HEAD. LIFO and PRIORITY take the record a heap of record
 * locations names (item-heap.ts). The slots of the block, of a chunk and of a record are named in
 * item-layout.ts.
 *
 * State. Everything that says where items are (HEAD, TAIL, COUNT, UNFINISHED, the ring's size, the
 * arrival counter) lives in two copies; VERSION's parity says which is current. Under LOCK (an owned
 * mutex, owned-mutex.ts), an operation reads the current copy, writes new bytes only where no
 * reader looks yet (free space of a chunk, a new chunk, the sealed end of the tail's chunk, the
 * link to a chunk inserted after the tail), writes the new state into the other copy, and commits
 * with one store: VERSION + 1. Lock-free readers (qsize, empty, full) read VERSION, then the field.
 *
 * The claim protocol, and why no item is lost or duplicated when a process dies. Items are claimed
 * under LOCK: a get copies the record out of the ring (or, for a spill, the names of its chunks)
 * and commits; only then does it unlock and rebuild the value. A process may be killed at any
 * instant, which leaves three cases. (1) It held no lock: nothing shared is half done. A getter
 * killed after its commit had claimed the item, which is lost with it (at most that one item, and
 * the memory of its spill, if any); a putter killed before its commit never put it. (2) It held
 * LOCK and had not committed: everything it wrote is in space that the current state does not
 * reach (free space, an unlinked chunk, an end mark of the chunk the tail is still writing, a link
 * that points at a free chunk); the next process that waited a second for LOCK takes it over, and
 * the current copy is exactly the state before the dead operation: nothing taken, nothing added.
 * (3) It held LOCK and had committed: the state is the state after; the takeover just goes on.
 * The wait words (NOT_EMPTY, NOT_FULL, ALL_DONE) are only hints of change: a wake lost with a dead
 * process delays a waiter until its next slice, it never loses an item. So for everyone else the
 * queue keeps working, with every item put exactly once in it, and taken at most once.
 * This covers FIFO, the order of every queue that processes share. LIFO and PRIORITY
 * (`threadkit/queue` only, whose threads cannot be killed one by one) update their heap in place.
 *
 * Waiting: a getter that finds no item reads NOT_EMPTY under LOCK, unlocks, spins while NOT_EMPTY
 * holds what it read, then counts itself in GET_WAITERS and sleeps while it still does. Every put
 * bumps NOT_EMPTY under LOCK and, after unlocking, wakes one getter if GET_WAITERS says one sleeps
 * (all of them for a Pipe, whose poll() waits without taking). The race this prevents (the lost
 * wake-up) is the semaphore's (counting-semaphore.ts): a put after the getter's unlock changes the
 * word it sleeps on, and one before it was seen under the lock; a getter that spins is not counted,
 * so a put that ends its spin costs no wake (a syscall between processes). A woken getter always
 * tries again before it looks at its deadline, so a wake is never wasted on a getter that leaves.
 * Putters of a bounded queue wait on NOT_FULL the same way; joiners wait on ALL_DONE, bumped when
 * UNFINISHED comes down to 0.
 *
 * This is CPython's `queue.Queue` (a deque, a mutex and the not_empty / not_full / all_tasks_done
 * conditions) moved into shared memory, with the items serialized, as `multiprocessing.Queue`
 * serializes them — but into the ring itself, so a put is done when the bytes are in shared memory
 * (no feeder thread, no pipe).
 */
import { performance } from 'node:perf_hooks';
import { park, runSync, type Steps } from './steps';
import type { Block } from './block';
import { remaining, FOREVER } from './deadline';
import * as park_ from './park';
import * as ownedMutex from './owned-mutex';
import * as layout from './item-layout';
import type { RecordReader, RecordSource, Ring } from './item-layout';
import { compact, heapPop, heapPush } from './item-heap';

export * from './item-layout';

// Module-local copies: some loaders (esbuild/tsx) turn imported bindings into getters, a call on
// every access in the hot paths.
const {
  LOCK, NOT_EMPTY, GET_WAITERS, NOT_FULL, PUT_WAITERS, ALL_DONE, JOIN_WAITERS, MAXSIZE, EPOCH, HEAD_A, HEAD_B,
  HEAD_POS, TAIL_A, TAIL_B, TAIL_POS, COUNT, UNFINISHED, RING_BYTES, LIVE_BYTES, SEQ_HI, SEQ_LO, FIFO,
  PRIORITY, WAKE_ALL, CH_NEXT_A, CH_NEXT_B, CH_END, CH_SIZE, CHUNK_HEADER_BYTES, R_LENGTH, R_KIND,
  RECORD_HEADER_BYTES, KIND_MASK, RETAIN_BYTES, MAX_CHUNK_BYTES, align8, sameChunk, recordBytes,
  recordAt,
} = layout;
const { spinWhile, unpark } = park_;
const { ownedLock, ownedTryLock, ownedUnlock } = ownedMutex;

// ---------------------------------------------------------------------------------------------
// Putting and taking (under LOCK)

/**
 * Finds room for a record of `bytes` bytes at TAIL, moving the tail into the next free chunk or
 * inserting a new chunk after the tail's. Writes only where no reader looks before the commit.
 * Returns false when the ring is full and its memory cannot grow.
 */
function reserve(r: Ring, bytes: number): boolean {
  const s = r.s;
  let tail = r.store.chunk(s[TAIL_A], s[TAIL_B]);
  if (s[TAIL_POS] + bytes <= tail.i32[CH_SIZE]) return true;
  const nextA = tail.i32[CH_NEXT_A];
  const nextB = tail.i32[CH_NEXT_B];
  const headChunk = sameChunk(nextA, nextB, s[HEAD_A], s[HEAD_B]);
  if (!headChunk && CHUNK_HEADER_BYTES + bytes <= r.store.chunk(nextA, nextB).i32[CH_SIZE]) {
    // The next chunk is free (it lies after the tail and before the head): move on.
    tail.i32[CH_END] = s[TAIL_POS];
    s[TAIL_A] = nextA;
    s[TAIL_B] = nextB;
    s[TAIL_POS] = CHUNK_HEADER_BYTES;
    return true;
  }
  if (r.order === PRIORITY && s[LIVE_BYTES] * 2 < s[RING_BYTES] && s[COUNT] > 0) {
    compact(r);
    tail = r.store.chunk(s[TAIL_A], s[TAIL_B]);
    if (s[TAIL_POS] + bytes <= tail.i32[CH_SIZE]) return true;
  }
  const size = Math.max(CHUNK_HEADER_BYTES + bytes, Math.min(MAX_CHUNK_BYTES, s[RING_BYTES]));
  const made = r.store.allocate(size);
  if (made === undefined) return false;
  const chunk = made.chunk;
  chunk.i32[CH_NEXT_A] = nextA;
  chunk.i32[CH_NEXT_B] = nextB;
  tail = r.store.chunk(s[TAIL_A], s[TAIL_B]);
  tail.i32[CH_END] = s[TAIL_POS];
  // Visible only to a walk from the tail's chunk, which starts after the commit; a dead putter
  // leaves a free chunk in the ring, nothing worse.
  tail.i32[CH_NEXT_A] = made.a;
  tail.i32[CH_NEXT_B] = made.b;
  s[TAIL_A] = made.a;
  s[TAIL_B] = made.b;
  s[TAIL_POS] = CHUNK_HEADER_BYTES;
  s[RING_BYTES] += chunk.u8.length;
  return true;
}

/** Outcome of {@link ringTryPut}. */
export type PutOutcome = 'put' | 'full' | 'no-room';

/**
 * Appends a record for `source` if the queue has room (call holding LOCK, state loaded); commits.
 * 'full': maxsize items are in it; 'no-room': its memory cannot grow now (a get may free some).
 */
export function ringPutLocked(r: Ring, source: RecordSource): PutOutcome {
  const s = r.s;
  const maxsize = Atomics.load(r.i32, MAXSIZE);
  if (maxsize > 0 && s[COUNT] >= maxsize) return 'full';
  const keyBytes = r.order === PRIORITY ? align8(8 + source.key!.length) : 0;
  const bytes = recordBytes(keyBytes + source.length);
  if (bytes > 0x7fffffff - CHUNK_HEADER_BYTES) throw new RangeError(`an item of ${source.length} bytes is too large for the ring`);
  // The heap's room first: a record written and then refused would leave the tail moved for nothing.
  if (r.order !== FIFO && r.entry(s[COUNT], true) === undefined) return 'no-room';
  if (!reserve(r, bytes)) return 'no-room';
  const chunk = r.store.chunk(s[TAIL_A], s[TAIL_B]);
  const pos = s[TAIL_POS];
  const w = pos >> 2;
  chunk.i32[w + R_LENGTH] = keyBytes + source.length;
  chunk.i32[w + R_KIND] = source.kind;
  if (keyBytes > 0) {
    chunk.i32[w + 2] = source.key!.length;
    chunk.u8.set(source.key!, pos + RECORD_HEADER_BYTES + 8);
  }
  source.write(chunk, pos + RECORD_HEADER_BYTES + keyBytes);
  if (r.order !== FIFO) heapPush(r, pos, source);
  s[TAIL_POS] = pos + bytes;
  s[COUNT]++;
  s[UNFINISHED]++;
  s[LIVE_BYTES] += bytes;
  if (++s[SEQ_LO] < 0) {
    s[SEQ_LO] = 0;
    s[SEQ_HI]++;
  }
  r.commit();
  Atomics.add(r.i32, NOT_EMPTY, 1);
  return 'put';
}

/**
 * Takes the next record (call holding LOCK, state loaded, COUNT > 0): reads it with `read`,
 * marks it taken and commits. Returns what `read` returned.
 */
export function ringTakeLocked<T>(r: Ring, read: RecordReader<T>): T {
  const s = r.s;
  let value: T;
  if (r.order === FIFO) {
    let chunk = r.store.chunk(s[HEAD_A], s[HEAD_B]);
    while (!sameChunk(s[HEAD_A], s[HEAD_B], s[TAIL_A], s[TAIL_B]) && s[HEAD_POS] >= chunk.i32[CH_END]) {
      const a = chunk.i32[CH_NEXT_A];
      const b = chunk.i32[CH_NEXT_B];
      s[HEAD_A] = a;
      s[HEAD_B] = b;
      s[HEAD_POS] = CHUNK_HEADER_BYTES;
      chunk = r.store.chunk(a, b);
    }
    const pos = s[HEAD_POS];
    const { length, kind } = recordAt(chunk, pos);
    value = read(kind & KIND_MASK, chunk, pos + RECORD_HEADER_BYTES, length);
    s[HEAD_POS] = pos + recordBytes(length);
    s[LIVE_BYTES] -= recordBytes(length);
  } else {
    value = heapPop(r, read);
  }
  s[COUNT]--;
  if (s[COUNT] === 0) {
    // Empty: start again at the front of C0 (nothing live anywhere, dead records included).
    s[HEAD_A] = s[HEAD_B] = s[TAIL_A] = s[TAIL_B] = 0;
    s[HEAD_POS] = s[TAIL_POS] = CHUNK_HEADER_BYTES;
    s[LIVE_BYTES] = 0;
  }
  r.commit();
  Atomics.add(r.i32, NOT_FULL, 1);
  if (s[COUNT] === 0 && s[RING_BYTES] > RETAIN_BYTES) shrink(r);
  return value;
}

/**
 * Gives back every chunk but C0 (call holding LOCK, after committing an empty state). Order
 * matters for a takeover: the commit already moved HEAD and TAIL into C0; then one store unlinks
 * the other chunks; only then are they freed. A process killed in between leaves a ring that
 * still links them (not shrunk), or chunks that are unlinked and not freed (leaked): never a link
 * to freed memory.
 */
function shrink(r: Ring): void {
  const c0 = r.store.chunk(0, 0);
  let a = c0.i32[CH_NEXT_A];
  let b = c0.i32[CH_NEXT_B];
  c0.i32[CH_NEXT_A] = 0;
  c0.i32[CH_NEXT_B] = 0;
  const drop: [number, number][] = [];
  while (!(a === 0 && b === 0)) {
    const chunk = r.store.chunk(a, b);
    drop.push([a, b]);
    const na = chunk.i32[CH_NEXT_A];
    b = chunk.i32[CH_NEXT_B];
    a = na;
  }
  r.s[RING_BYTES] = c0.i32[CH_SIZE];
  r.commit();
  Atomics.add(r.i32, EPOCH, 1);
  for (const [da, db] of drop) r.store.free(da, db);
  r.store.forget();
}

// ---------------------------------------------------------------------------------------------
// Locking, waiting and waking

/** Takes LOCK without waiting and loads the state. */
export function ringTryLock(r: Ring): boolean {
  if (!ownedTryLock(r.block, LOCK)) return false;
  r.load();
  return true;
}

/** Takes LOCK (waiting until `deadline`) and loads the state; false when the deadline passed. */
export function* ringLock(r: Ring, deadline: number): Steps<boolean> {
  const taken = yield* ownedLock(r.block, LOCK, deadline);
  if (taken === undefined) return false;
  // A lock taken over from a dead process needs no repair: see "the claim protocol" above.
  r.load();
  return true;
}

/** Releases LOCK. */
export function ringUnlock(r: Ring): void {
  ownedUnlock(r.block, LOCK);
}

/** After a put (LOCK released): wakes a getter (every getter for WAKE_ALL) if one sleeps. */
export function ringWakeGetters(r: Ring): void {
  if (Atomics.load(r.i32, GET_WAITERS) > 0) unpark(r.block, NOT_EMPTY, r.wakeAll ? Infinity : 1);
}

/** After a get (LOCK released): wakes a putter if one sleeps. */
export function ringWakePutters(r: Ring): void {
  if (Atomics.load(r.i32, PUT_WAITERS) > 0) unpark(r.block, NOT_FULL, 1);
}

/** Wakes every getter (a Pipe's end closed: readers must look again). */
export function ringSignalGetters(r: Ring): void {
  Atomics.add(r.i32, NOT_EMPTY, 1);
  if (Atomics.load(r.i32, GET_WAITERS) > 0) unpark(r.block, NOT_EMPTY, Infinity);
}

/**
 * Sleeps while `i32[word]` holds `seen` (until `deadline`, at most `slice` at once). Spins first
 * without being counted, so that a waker whose change comes during the spin pays no wake (a syscall
 * across processes; mutex.ts spins for the same reason); then counts itself in `waiters`, looks at
 * the word once more, and parks. The waker changes the word before it reads `waiters`, the waiter
 * counts itself before it reads the word: one of them sees the other (the lost wake-up of
 * counting-semaphore.ts, prevented the same way).
 */
function* waitChange(r: Ring, word: number, waiters: number, seen: number, deadline: number, slice: number): Steps<void> {
  if (spinWhile(r.i32, word, seen)) return;
  Atomics.add(r.i32, waiters, 1);
  try {
    if (Atomics.load(r.i32, word) !== seen) return;
    yield park(r.block, word, seen, Math.min(deadline, performance.now() + slice));
  } finally {
    Atomics.sub(r.i32, waiters, 1);
  }
}

/** Outcome of a waiting get: the value, or why there is none. */
export type GetOutcome<T> = { readonly value: T } | 'timed-out' | 'ended';

/**
 * Takes an item, waiting until `deadline` while the ring is empty. `ended()` (called holding LOCK
 * while the ring is empty) says that nothing will ever come (a Pipe's writer end is closed or
 * dead); `slice` bounds each sleep, so that `ended()` is asked again now and then (a dead process
 * wakes nobody).
 */
export function* ringGet<T>(r: Ring, read: RecordReader<T>, deadline: number, ended?: () => boolean, slice = Infinity): Steps<GetOutcome<T>> {
  for (;;) {
    // LOCK is held for a few µs: even a try-once waits for it (as CPython's get(block=False) takes its mutex).
    yield* ringLock(r, FOREVER);
    if (r.s[COUNT] > 0) {
      let value: T;
      try {
        value = ringTakeLocked(r, read);
      } finally {
        ringUnlock(r);
      }
      ringWakePutters(r);
      return { value };
    }
    if (ended !== undefined && ended()) {
      ringUnlock(r);
      return 'ended';
    }
    const seen = Atomics.load(r.i32, NOT_EMPTY);
    ringUnlock(r);
    if (remaining(deadline) === 0) return 'timed-out';
    yield* waitChange(r, NOT_EMPTY, GET_WAITERS, seen, deadline, slice);
  }
}

/**
 * Waits until an item is there (or `ended()`), without taking it: a Pipe's poll(). True when an
 * item is there or nothing more will come (the next get returns at once either way).
 */
export function* ringPoll(r: Ring, deadline: number, ended: () => boolean, slice = Infinity): Steps<boolean> {
  for (;;) {
    yield* ringLock(r, FOREVER);
    if (r.s[COUNT] > 0 || ended()) {
      ringUnlock(r);
      return true;
    }
    const seen = Atomics.load(r.i32, NOT_EMPTY);
    ringUnlock(r);
    if (remaining(deadline) === 0) return false;
    yield* waitChange(r, NOT_EMPTY, GET_WAITERS, seen, deadline, slice);
  }
}

/** Puts a record, waiting until `deadline` while the queue is full (or out of memory, with items in it). */
export function* ringPut(r: Ring, source: RecordSource, deadline: number, slice = Infinity): Steps<PutOutcome> {
  for (;;) {
    yield* ringLock(r, FOREVER);
    let outcome: PutOutcome;
    try {
      outcome = ringPutLocked(r, source);
    } catch (error) {
      ringUnlock(r);
      throw error;
    }
    // Out of memory with items in the queue: a get will free some, wait for it as for room.
    if (outcome === 'put' || (outcome === 'no-room' && r.s[COUNT] === 0)) {
      ringUnlock(r);
      if (outcome === 'put') ringWakeGetters(r);
      return outcome;
    }
    const seen = Atomics.load(r.i32, NOT_FULL);
    ringUnlock(r);
    if (remaining(deadline) === 0) return outcome;
    yield* waitChange(r, NOT_FULL, PUT_WAITERS, seen, deadline, slice);
  }
}

/**
 * Waits (until `deadline`) for the next get, the one thing that frees memory: a put whose spill
 * could not be allocated waits here. False when the queue is empty (nothing will be freed) or the
 * deadline passed.
 */
export function* ringWaitForGet(r: Ring, deadline: number, slice = Infinity): Steps<boolean> {
  const seen = Atomics.load(r.i32, NOT_FULL);
  if (ringCount(r) === 0 || remaining(deadline) === 0) return false;
  yield* waitChange(r, NOT_FULL, PUT_WAITERS, seen, deadline, slice);
  return true;
}

/** True when the loaded state holds an item (call holding LOCK). */
export function ringHasItem(r: Ring): boolean {
  return r.s[COUNT] > 0;
}

/** Changes the most items at once (Python lets `q.maxsize` be assigned); waiting putters look again. */
export function ringSetMaxsize(r: Ring, maxsize: number): void {
  Atomics.store(r.i32, MAXSIZE, maxsize);
  Atomics.add(r.i32, NOT_FULL, 1);
  if (Atomics.load(r.i32, PUT_WAITERS) > 0) unpark(r.block, NOT_FULL, Infinity);
}

/** Items in the ring now (no lock: a value it had recently). */
export function ringCount(r: Ring): number {
  return r.peek(COUNT);
}

/** Puts not yet matched by a task-done (no lock). */
export function ringUnfinished(r: Ring): number {
  return r.peek(UNFINISHED);
}

/** One task done: false (and nothing changed) when none is unfinished. */
export function ringTaskDone(r: Ring): boolean {
  // A short critical section that nothing slow waits in: taken synchronously.
  if (!ringTryLock(r)) runSync(ringLock(r, FOREVER));
  let ok = false;
  let zero = false;
  try {
    if (r.s[UNFINISHED] > 0) {
      ok = true;
      r.s[UNFINISHED]--;
      zero = r.s[UNFINISHED] === 0;
      r.commit();
      if (zero) Atomics.add(r.i32, ALL_DONE, 1);
    }
  } finally {
    ringUnlock(r);
  }
  if (zero && Atomics.load(r.i32, JOIN_WAITERS) > 0) unpark(r.block, ALL_DONE, Infinity);
  return ok;
}

/** Waits until every item put has been marked done (UNFINISHED is 0, or came down to 0). */
export function* ringJoin(r: Ring, deadline: number, slice = Infinity): Steps<boolean> {
  for (;;) {
    const seen = Atomics.load(r.i32, ALL_DONE);
    Atomics.add(r.i32, JOIN_WAITERS, 1);
    try {
      if (ringUnfinished(r) === 0) return true;
      if (remaining(deadline) === 0) return false;
      yield park(r.block, ALL_DONE, seen, Math.min(deadline, performance.now() + slice));
      if (Atomics.load(r.i32, ALL_DONE) !== seen) return true;
    } finally {
      Atomics.sub(r.i32, JOIN_WAITERS, 1);
    }
  }
}
