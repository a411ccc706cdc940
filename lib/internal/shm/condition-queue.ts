/**
 * The condition variable's waiter queue: FIFO slots in shared memory, guarded by an internal mutex.
 *
 * Layout (words):
 *
 *     LOCK        internal mutex (mutex.ts) guarding every field below
 *     HEAD, TAIL  tickets (wrapping int32): the queued waiters hold tickets HEAD … TAIL-1
 *     QUEUED      live waiters in slots (not counting cancelled slots)
 *     OVF_WAITING, OVF_GRANTS   the overflow counter (see below)
 *     SLOT[0 … capacity-1]      ticket t lives in SLOT[t & (capacity-1)]
 *
 * A slot holds `tagOf(t)` (odd: `t << 1 | 1`) while its waiter waits, FREE (0) once notified or
 * recycled, CANCELLED (2) when its waiter timed out and left.
 *
 * wait: under LOCK take ticket t = TAIL++, write tagOf(t) into its slot, QUEUED++. Release LOCK,
 * *then* release the user's lock (so a notify issued after the user's lock is free always finds
 * this waiter queued), then sleep while the slot still holds tagOf(t). Only a notify changes a live
 * slot, so "the slot no longer holds my tag" means "I was notified" — even if the slot was since
 * recycled for a later ticket, whose tag differs.
 *
 * notify(n): under LOCK, pop tickets from HEAD: a live slot is set FREE, woken
 * (a wake of one on the slot: only its owner can be asleep on that address, since the slot cannot be
 * reused before HEAD passes it) and counted, until n are woken; a CANCELLED slot is freed and not
 * counted. So notify(n) wakes exactly min(n, waiting) waiters, the longest-waiting first.
 *
 * The race this settles (timeout vs notify): a waiter whose deadline passed takes LOCK and looks at
 * its slot. Still its tag: nobody notified it, so it marks the slot CANCELLED, QUEUED--, and returns
 * false — it leaves no trace a later notify could count. Not its tag: a notify picked it before it
 * could leave; it returns true, and that notify counted it. Both happen under LOCK, so exactly one
 * of the two stories is true. Cancelled slots at either end of the queue are reclaimed at once, so a
 * loop of timed waits never fills the ring.
 *
 * Overflow: with more than `capacity` waiters at once, a newcomer is counted in OVF_WAITING instead
 * and sleeps on OVF_GRANTS; notify(n) turns the part of n left after the slots into grants
 * (OVF_WAITING -= k, OVF_GRANTS += k, wake k) and an overflow waiter takes one grant by CAS. A timed-out
 * overflow waiter, under LOCK, takes a grant if one is left (it was notified) or else leaves
 * OVF_WAITING. Counts stay exact (live overflow waiters = OVF_WAITING + unclaimed grants); only the
 * order among overflow waiters is unspecified. While anyone is in overflow, newcomers go there too,
 * so slot waiters are always older than overflow waiters.
 *
 * A waiter that dies (decided, not an oversight). A worker terminated while it waits — only internal
 * code and executors' teardown terminate workers; a Thread's target cannot be killed through the
 * public API — leaves its slot holding its tag, so a later notify counts it and that wake-up is lost
 * for the live waiters behind it. Nobody can clean up after it: `worker.terminate()` runs no
 * JavaScript in the dying worker (not even `process.on('exit')`), and the Worker's `'exit'` listener on
 * the creating thread knows the run's state words, not which condition blocks the target was waiting
 * in. Making that knowable would cost every wait a write to a per-thread record plus a liveness check
 * of every slot's owner in every notify, for a case that also leaves any Lock the worker held locked
 * for ever (no code runs in a terminated worker to release it) — the program is
 * already broken there. So it stays as it is: after killing a worker that may wait on a condition,
 * use notifyAll() or timed waits.
 *
 * This is CPython's `threading.Condition` moved into shared memory: CPython gives each waiter a
 * lock of its own in a deque, `notify(n)` pops and releases the first n, and a timed-out waiter
 * removes itself (`_waiters.remove`). Here a waiter's lock is its slot word, the deque is the ring
 * of slots, and the internal mutex stands in for the GIL-protected deque operations.
 */
import { park, type Steps } from './steps';
import type { Block } from './block';
import { remaining } from './deadline';
import { unpark } from './park';
import { mutexLockSync, mutexUnlock } from './mutex';

/** Slot: internal mutex. */
export const LOCK = 0;
/** Slot: ticket of the oldest queued waiter. */
export const HEAD = 1;
/** Slot: next ticket to give out. */
export const TAIL = 2;
/** Slot: live waiters in slots. */
export const QUEUED = 3;
/** Slot: waiters in overflow not yet granted. */
export const OVF_WAITING = 4;
/** Slot: grants issued to overflow waiters and not yet claimed. */
export const OVF_GRANTS = 5;
/** First waiter slot. */
const SLOTS = 6;

/** A slot nobody waits on. */
const FREE = 0;
/** A slot whose waiter timed out and left. */
const CANCELLED = 2;

/** Default number of FIFO slots (a power of two). */
export const DEFAULT_CAPACITY = 64;

/** Words a condition queue with `capacity` slots needs. */
export function conditionWords(capacity = DEFAULT_CAPACITY): number {
  return SLOTS + capacity;
}

/** A waiter's place: a slot ticket, or OVERFLOW. */
export type Ticket = number | typeof OVERFLOW;
/** The ticket of a waiter counted in the overflow counter. */
export const OVERFLOW = null;

function tagOf(ticket: number): number {
  return ((ticket << 1) | 1) | 0;
}

function slotIndex(at: number, ticket: number, capacity: number): number {
  return at + SLOTS + (ticket & (capacity - 1));
}

/**
 * Queues the caller as a waiter (call while holding the user's lock, before releasing it).
 * `capacity` must be a power of two.
 */
export function conditionEnqueue(block: Block, at: number, capacity: number): Ticket {
  mutexLockSync(block, at + LOCK);
  try {
    const head = Atomics.load(block.i32, at + HEAD);
    const tail = Atomics.load(block.i32, at + TAIL);
    if (((tail - head) | 0) >= capacity || Atomics.load(block.i32, at + OVF_WAITING) > 0) {
      Atomics.add(block.i32, at + OVF_WAITING, 1);
      return OVERFLOW;
    }
    Atomics.store(block.i32, slotIndex(at, tail, capacity), tagOf(tail));
    Atomics.store(block.i32, at + TAIL, (tail + 1) | 0);
    Atomics.add(block.i32, at + QUEUED, 1);
    return tail;
  } finally {
    mutexUnlock(block, at + LOCK);
  }
}

/**
 * Sleeps until notified or `deadline`; true when notified. Leaves no trace when it returns false.
 * Call after releasing the user's lock; re-acquire it afterwards.
 */
export function* conditionSleep(block: Block, at: number, capacity: number, ticket: Ticket, deadline: number): Steps<boolean> {
  return ticket === OVERFLOW ? yield* sleepInOverflow(block, at, deadline) : yield* sleepInSlot(block, at, capacity, ticket, deadline);
}

function* sleepInSlot(block: Block, at: number, capacity: number, ticket: number, deadline: number): Steps<boolean> {
  const slot = slotIndex(at, ticket, capacity);
  const tag = tagOf(ticket);
  for (;;) {
    if (Atomics.load(block.i32, slot) !== tag) return true;
    if (remaining(deadline) === 0) break;
    yield park(block, slot, tag, deadline);
  }
  mutexLockSync(block, at + LOCK);
  try {
    if (Atomics.load(block.i32, slot) !== tag) return true; // a notify picked us before we could leave
    Atomics.store(block.i32, slot, CANCELLED);
    Atomics.sub(block.i32, at + QUEUED, 1);
    reclaimCancelledEnds(block, at, capacity);
    return false;
  } finally {
    mutexUnlock(block, at + LOCK);
  }
}

/** Frees cancelled slots at the head and the tail of the queue (under LOCK). */
function reclaimCancelledEnds(block: Block, at: number, capacity: number): void {
  let head = Atomics.load(block.i32, at + HEAD);
  let tail = Atomics.load(block.i32, at + TAIL);
  while (head !== tail && Atomics.load(block.i32, slotIndex(at, head, capacity)) === CANCELLED) {
    Atomics.store(block.i32, slotIndex(at, head, capacity), FREE);
    head = (head + 1) | 0;
  }
  while (head !== tail && Atomics.load(block.i32, slotIndex(at, (tail - 1) | 0, capacity)) === CANCELLED) {
    tail = (tail - 1) | 0;
    Atomics.store(block.i32, slotIndex(at, tail, capacity), FREE);
  }
  Atomics.store(block.i32, at + HEAD, head);
  Atomics.store(block.i32, at + TAIL, tail);
}

function tryClaimGrant(block: Block, at: number): boolean {
  let g = Atomics.load(block.i32, at + OVF_GRANTS);
  while (g > 0) {
    const seen = Atomics.compareExchange(block.i32, at + OVF_GRANTS, g, g - 1);
    if (seen === g) return true;
    g = seen;
  }
  return false;
}

function* sleepInOverflow(block: Block, at: number, deadline: number): Steps<boolean> {
  for (;;) {
    if (tryClaimGrant(block, at)) return true;
    if (remaining(deadline) === 0) break;
    yield park(block, at + OVF_GRANTS, 0, deadline);
  }
  mutexLockSync(block, at + LOCK);
  try {
    if (tryClaimGrant(block, at)) return true;
    Atomics.sub(block.i32, at + OVF_WAITING, 1);
    return false;
  } finally {
    mutexUnlock(block, at + LOCK);
  }
}

/** Wakes min(n, waiting) waiters, longest-waiting first; returns how many. `n` may be Infinity. */
export function conditionNotify(block: Block, at: number, capacity: number, n: number): number {
  if (n <= 0) return 0;
  mutexLockSync(block, at + LOCK);
  try {
    let woken = 0;
    let head = Atomics.load(block.i32, at + HEAD);
    const tail = Atomics.load(block.i32, at + TAIL);
    while (woken < n && head !== tail) {
      const slot = slotIndex(at, head, capacity);
      const state = Atomics.exchange(block.i32, slot, FREE);
      head = (head + 1) | 0;
      if (state !== CANCELLED) {
        woken++;
        unpark(block, slot, 1);
      }
    }
    Atomics.store(block.i32, at + HEAD, head);
    Atomics.sub(block.i32, at + QUEUED, woken);
    const overflow = Atomics.load(block.i32, at + OVF_WAITING);
    const grants = Math.min(n - woken, overflow);
    if (grants > 0) {
      Atomics.sub(block.i32, at + OVF_WAITING, grants);
      Atomics.add(block.i32, at + OVF_GRANTS, grants);
      unpark(block, at + OVF_GRANTS, grants);
      woken += grants;
    }
    return woken;
  } finally {
    mutexUnlock(block, at + LOCK);
  }
}

/** Waiters now queued (slots and overflow, not counting granted ones). */
export function conditionWaiting(block: Block, at: number): number {
  return Atomics.load(block.i32, at + QUEUED) + Atomics.load(block.i32, at + OVF_WAITING);
}
