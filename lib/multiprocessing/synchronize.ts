/**
 * `Lock`, `RLock`, `Condition`, `Semaphore`, `BoundedSemaphore`, `Event`, `Barrier` of
 * `threadkit/multiprocessing`: the `threadkit/threading` primitives, over memory that every process
 * of the program's tree shares (the arena, internal/arena).
 *
 * Each class here extends its threading counterpart: the algorithm, the checks and the fast paths
 * are the same code (internal/shm), only the memory differs — a block of the arena, slept on and
 * woken with the shared futex — and the handle, which any process of the tree can revive. What only
 * processes need is added here: RLock owners unique across processes (an id per thread from the
 * arena, and the owner's pid), and dead holders (internal/arena/watch.ts): an RLock whose owner
 * process died is taken over by a waiter within a second, with an AbandonedLockWarning; a Lock or
 * Semaphore records its last acquirer's pid, and a waiter blocked for a second while that process is
 * gone warns once and keeps waiting.
 */
import { inspect } from 'node:util';
import * as threading from '../threading';
import { ValueError } from '../errors';
import { deadlineFor } from '../internal/shm/deadline';
import { describe } from '../internal/validate';
import { handOver } from '../internal/shm/block';
import { runAsync, runSync, type Steps } from '../internal/shm/steps';
import * as mutex from '../internal/shm/mutex';
import { MAX_VALUE, SEMAPHORE_WORDS, VALUE, semAcquire, semTryAcquire } from '../internal/shm/counting-semaphore';
import { EVENT_WORDS } from '../internal/shm/event-word';
import { DEFAULT_CAPACITY, conditionWords } from '../internal/shm/condition-queue';
import { BARRIER_WORDS } from '../internal/shm/barrier-state';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';
import { checkTimeout } from '../internal/validate';
import { encodeTarget, type EncodedTarget } from '../internal/transport';
import { blockRef, holdBy, newBlock, revivedBlock } from '../internal/arena/refs';
import { arenaById, type BlockRef } from '../internal/arena/arena';
import { isAlive, mutexLockWatched, warnAbandoned, watched } from '../internal/arena/watch';
import type { ArenaBlock } from '../internal/arena/block';
import { COUNT, MUTEX, OWNER, OWNER_PID, type RLockMemory } from '../threading/rlock';
import { checkInteger } from '../threading/semaphore';
import { isEncodedAction, type BarrierMemory, type BarrierOptions } from '../threading/barrier';

const { UNLOCKED, LOCKED } = mutex;
const PID = process.pid;
const TRUE: Promise<boolean> = Promise.resolve(true);

/** The block a reviver found, for the constructor it calls next (one constructor runs at a time). */
let revived: { block: ArenaBlock; data: Record<string, unknown> } | undefined;

function takeRevived(): { block: ArenaBlock; data: Record<string, unknown> } | undefined {
  const r = revived;
  revived = undefined;
  return r;
}

function reviver<T>(tag: string, bytes: number | ((data: Record<string, unknown>) => number), make: () => T): (data: Record<string, unknown>) => T {
  return (data) => {
    const size = typeof bytes === 'number' ? bytes : bytes(data ?? {});
    revived = { block: revivedBlock(data, size, tag), data };
    try {
      return make();
    } finally {
      revived = undefined;
    }
  };
}

function handle(tag: string, block: ArenaBlock, extra?: Record<string, unknown>): Handle {
  const data: BlockRef & Record<string, unknown> = { ...blockRef(block), ...extra };
  return { tag, crossProcess: true, data };
}

// ---------------------------------------------------------------------------------------------
// Lock

const LOCK_TAG = 'multiprocessing.Lock';
/** Slot: pid of the process that acquired the lock last (no owner, but a dead one is worth a warning). */
const LAST_PID = 1;
const LOCK_BYTES = 8;

/** A waiter's check after each second without the lock: warn once if the last acquirer is gone. */
function warnIfAbandoned(i32: Int32Array, pidAt: number, what: string): () => boolean {
  let warned = false;
  return () => {
    const pid = Atomics.load(i32, pidAt);
    if (!warned && pid !== 0 && pid !== PID && !isAlive(pid)) {
      warned = true;
      warnAbandoned(what, pid, `still waiting: a ${what.replace(/^an? /, '')} has no owner, so it is never taken over`);
    }
    return false;
  };
}

/**
 * A mutual-exclusion lock shared by every process and thread it is passed to: `threading.Lock`
 * across processes (Python's `multiprocessing.Lock`).
 *
 * Not reentrant; any thread of any process may release it. Uncontended, it costs what a threading
 * Lock costs (a CAS, plus one store of the pid); a waiter sleeps on the shared futex. If the process
 * that acquired it last dies holding it, nothing releases it (it has no owner): a waiter blocked for
 * over a second then gets an AbandonedLockWarning once, and keeps waiting until its timeout.
 *
 * @example
 * const lock = new Lock();
 * await pool.apply((lock) => lock.withLockSync(() => { … }), [lock]);
 *
 * @throws Error from the constructor when the native addon is unavailable (the message says why).
 */
export class Lock extends threading.Lock {
  readonly #block: ArenaBlock;
  readonly #i32: Int32Array;

  constructor() {
    const block = takeRevived()?.block ?? newBlock(LOCK_BYTES);
    super(...handOver(block));
    this.#block = block;
    this.#i32 = block.i32;
    holdBy(this, block);
  }

  override acquire(timeout?: number): Promise<boolean> {
    if (timeout === undefined && Atomics.compareExchange(this.#i32, MUTEX, UNLOCKED, LOCKED) === UNLOCKED) {
      this.#i32[LAST_PID] = PID;
      return TRUE;
    }
    return this.#acquireSlow(timeout);
  }

  async #acquireSlow(timeout: number | undefined): Promise<boolean> {
    const ok = await runAsync(this.#steps(deadlineFor(timeout)));
    if (ok) this.#i32[LAST_PID] = PID;
    return ok;
  }

  override acquireSync(timeout?: number): boolean {
    if (timeout === undefined && Atomics.compareExchange(this.#i32, MUTEX, UNLOCKED, LOCKED) === UNLOCKED) {
      this.#i32[LAST_PID] = PID;
      return true;
    }
    const ok = runSync(this.#steps(deadlineFor(timeout)));
    if (ok) this.#i32[LAST_PID] = PID;
    return ok;
  }

  #steps(deadline: number): Steps<boolean> {
    return mutexLockWatched(this.#block, MUTEX, deadline, warnIfAbandoned(this.#i32, LAST_PID, 'a multiprocessing.Lock'));
  }

  override [kShare](): Handle {
    return handle(LOCK_TAG, this.#block);
  }
}

// ---------------------------------------------------------------------------------------------
// RLock

const RLOCK_TAG = 'multiprocessing.RLock';
const RLOCK_BYTES = 16;
/** This thread's owner id in each arena (unique across the tree). */
const ownerIds = new Map<string, number>();

function ownerIdIn(block: ArenaBlock): number {
  let id = ownerIds.get(block.place.arenaId);
  if (id === undefined) {
    id = arenaById(block.place.arenaId).nextOwnerId();
    ownerIds.set(block.place.arenaId, id);
  }
  return id;
}

/**
 * A reentrant lock shared by every process and thread it is passed to (Python's
 * `multiprocessing.RLock`): its owner is one thread of one process.
 *
 * As `threading.RLock`, with owners unique across processes. If the owner's process dies while
 * holding it, the next waiter takes it over within about a second (as pthread's robust mutexes),
 * with an AbandonedLockWarning naming the dead process; what the lock protected may be half-updated.
 *
 * @example
 * const rlock = new RLock();
 * rlock.withLockSync(() => rlock.withLockSync(() => { … }));
 *
 * @throws Error from the constructor when the native addon is unavailable.
 */
export class RLock extends threading.RLock {
  readonly #block: ArenaBlock;

  constructor() {
    const block = takeRevived()?.block ?? newBlock(RLOCK_BYTES);
    const self = ownerIdIn(block);
    const memory: RLockMemory = { block, self, pid: PID, lock: (deadline) => takeOverSteps(block, self, deadline) };
    super(...handOver(memory));
    this.#block = block;
    holdBy(this, block);
  }

  override [kShare](): Handle {
    return handle(RLOCK_TAG, this.#block);
  }

  override [inspect.custom](): string {
    const i32 = this.#block.i32;
    const owner = i32[OWNER];
    return `<RLock owner=${owner === 0 ? 'none' : `pid ${i32[OWNER_PID]}`} count=${i32[COUNT]}>`;
  }
}

/** Waits for an RLock's mutex, taking it over from an owner whose process is gone. */
function takeOverSteps(block: ArenaBlock, self: number, deadline: number): Steps<boolean> {
  const i32 = block.i32;
  return mutexLockWatched(block, MUTEX, deadline, () => {
    const owner = Atomics.load(i32, OWNER);
    const pid = Atomics.load(i32, OWNER_PID);
    if (owner === 0 || pid === 0 || pid === PID || isAlive(pid)) return false;
    // One waiter wins the owner word; the others keep waiting for it to release.
    if (Atomics.compareExchange(i32, OWNER, owner, self) !== owner) return false;
    warnAbandoned('a multiprocessing.RLock', pid, 'this thread took it over');
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Condition

const CONDITION_TAG = 'multiprocessing.Condition';
const CONDITION_BYTES = conditionWords(DEFAULT_CAPACITY) * 4;

function isThreadingLock(lock: unknown): boolean {
  return lock instanceof threading.Lock || lock instanceof threading.RLock;
}

function isProcessLock(lock: unknown): lock is Lock | RLock {
  return lock instanceof Lock || lock instanceof RLock;
}

/**
 * A condition variable shared by every process and thread it is passed to (Python's
 * `multiprocessing.Condition`): `threading.Condition` whose lock is a multiprocessing Lock or RLock.
 *
 * @throws TypeError from the constructor when `lock` is not a multiprocessing Lock or RLock;
 *   Error when the native addon is unavailable.
 */
export class Condition extends threading.Condition {
  readonly #block: ArenaBlock;
  readonly #lock: Lock | RLock;

  /** @param lock the lock to wait with. @default a new multiprocessing RLock */
  constructor(lock?: Lock | RLock) {
    const given = takeRevived();
    if (lock !== undefined && !isProcessLock(lock)) {
      throw new TypeError(`Expected \`lock\` to be a Lock or RLock of threadkit/multiprocessing, got ${isThreadingLock(lock) ? `a threadkit/threading ${(lock as object).constructor.name}` : describe(lock)}`);
    }
    const block = given?.block ?? newBlock(CONDITION_BYTES);
    const theLock = lock ?? new RLock();
    super(...handOver({ block, capacity: DEFAULT_CAPACITY }, theLock));
    this.#block = block;
    this.#lock = theLock;
    holdBy(this, block);
  }

  override [kShare](): Handle {
    return handle(CONDITION_TAG, this.#block, { lock: this.#lock });
  }
}

// ---------------------------------------------------------------------------------------------
// Semaphore, BoundedSemaphore

const SEMAPHORE_TAG = 'multiprocessing.Semaphore';
const BOUNDED_TAG = 'multiprocessing.BoundedSemaphore';
/** Slot after the counting semaphore: pid of the last acquirer. */
const SEM_LAST_PID = SEMAPHORE_WORDS;
const SEMAPHORE_BYTES = (SEMAPHORE_WORDS + 1) * 4;

/**
 * A counting semaphore shared by every process and thread it is passed to (Python's
 * `multiprocessing.Semaphore`). As `threading.Semaphore`; a waiter blocked for over a second while
 * the process that acquired last is gone gets an AbandonedLockWarning once, and keeps waiting.
 *
 * @throws TypeError/RangeError for a bad value; Error when the native addon is unavailable.
 */
export class Semaphore extends threading.Semaphore {
  readonly #block: ArenaBlock;
  readonly #i32: Int32Array;
  readonly #max: number;

  /** @param value initial number of permits. @default 1 */
  constructor(value = 1) {
    const given = takeRevived();
    let block: ArenaBlock;
    let max: number;
    if (given !== undefined) {
      block = given.block;
      max = given.data.max as number;
    } else {
      checkInteger(value, 'value', 0);
      block = newBlock(SEMAPHORE_BYTES);
      Atomics.store(block.i32, VALUE, value);
      max = new.target === BoundedSemaphore ? value : MAX_VALUE;
    }
    super(...handOver({ block, max, bounded: new.target === BoundedSemaphore }));
    this.#block = block;
    this.#i32 = block.i32;
    this.#max = max;
    holdBy(this, block);
  }

  override acquire(timeout?: number): Promise<boolean> {
    if (timeout === undefined && semTryAcquire(this.#block, 0)) {
      this.#i32[SEM_LAST_PID] = PID;
      return TRUE;
    }
    return this.#acquireSlow(timeout);
  }

  async #acquireSlow(timeout: number | undefined): Promise<boolean> {
    const ok = await runAsync(this.#steps(deadlineFor(timeout)));
    if (ok) this.#i32[SEM_LAST_PID] = PID;
    return ok;
  }

  override acquireSync(timeout?: number): boolean {
    const ok = timeout === undefined && semTryAcquire(this.#block, 0) ? true : runSync(this.#steps(deadlineFor(timeout)));
    if (ok) this.#i32[SEM_LAST_PID] = PID;
    return ok;
  }

  #steps(deadline: number): Steps<boolean> {
    return watched((slice) => semAcquire(this.#block, 0, slice), deadline, warnIfAbandoned(this.#i32, SEM_LAST_PID, 'a multiprocessing.Semaphore'));
  }

  override [kShare](): Handle {
    return handle(this instanceof BoundedSemaphore ? BOUNDED_TAG : SEMAPHORE_TAG, this.#block, { max: this.#max });
  }
}

/** A multiprocessing Semaphore that refuses to be released above its initial value (ValueError). */
export class BoundedSemaphore extends Semaphore {
  /** @param value initial and largest number of permits. @default 1 */
  constructor(value = 1) {
    super(value);
  }
}

function semaphoreReviver(tag: string, make: () => Semaphore) {
  const revive = reviver(tag, SEMAPHORE_BYTES, make);
  return (data: Record<string, unknown>) => {
    const max = data?.max;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > MAX_VALUE) throw new TypeError(`Invalid handle: ${tag}`);
    return revive(data);
  };
}

// ---------------------------------------------------------------------------------------------
// Event

const EVENT_TAG = 'multiprocessing.Event';

/**
 * A flag shared by every process and thread it is passed to (Python's `multiprocessing.Event`):
 * `threading.Event` across processes, with the same set-then-clear guarantee.
 *
 * @throws Error from the constructor when the native addon is unavailable.
 */
export class Event extends threading.Event {
  readonly #block: ArenaBlock;

  constructor() {
    const block = takeRevived()?.block ?? newBlock(EVENT_WORDS * 4);
    super(...handOver(block));
    this.#block = block;
    holdBy(this, block);
  }

  override [kShare](): Handle {
    return handle(EVENT_TAG, this.#block);
  }
}

// ---------------------------------------------------------------------------------------------
// Barrier

const BARRIER_TAG = 'multiprocessing.Barrier';

/**
 * A meeting point for a fixed number of parties in any processes and threads (Python's
 * `multiprocessing.Barrier`). As `threading.Barrier`; the action runs in the thread (of whichever
 * process) of the last party to arrive.
 *
 * @throws as threading.Barrier; Error when the native addon is unavailable.
 */
export class Barrier extends threading.Barrier {
  readonly #block: ArenaBlock;
  readonly #action: EncodedTarget | null;
  readonly #timeout: number | undefined;

  constructor(parties: number, options: BarrierOptions = {}) {
    const given = takeRevived();
    let memory: BarrierMemory;
    if (given !== undefined) {
      memory = { block: given.block, action: given.data.action as EncodedTarget | null, timeout: given.data.timeout as number | undefined };
    } else {
      // Checked by threading.Barrier too, but before a block is taken for it.
      if (typeof parties !== 'number' || !Number.isInteger(parties)) throw new TypeError(`Expected \`parties\` to be an integer, got ${describe(parties)}`);
      if (parties < 1 || parties > 0x7fffffff) throw new ValueError(`Expected \`parties\` to be an integer from 1 to ${0x7fffffff}, got ${parties}`);
      if (typeof options !== 'object' || options === null) throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}`);
      const action = options.action === undefined ? null : encodeTarget(options.action, 'options.action');
      memory = { block: newBlock(BARRIER_WORDS * 4), action, timeout: checkTimeout(options.timeout, 'options.timeout') };
    }
    super(...handOver(memory, given !== undefined ? (undefined as unknown as number) : parties, options));
    ({ block: this.#block, action: this.#action, timeout: this.#timeout } = memory as { block: ArenaBlock; action: EncodedTarget | null; timeout: number | undefined });
    holdBy(this, this.#block);
  }

  override [kShare](): Handle {
    return handle(BARRIER_TAG, this.#block, { action: this.#action, timeout: this.#timeout });
  }
}

registerShareable(LOCK_TAG, reviver(LOCK_TAG, LOCK_BYTES, () => new Lock()));
registerShareable(RLOCK_TAG, reviver(RLOCK_TAG, RLOCK_BYTES, () => new RLock()));
registerShareable(CONDITION_TAG, (data: Record<string, unknown>) => {
  if (!isProcessLock(data?.lock)) throw new TypeError(`Invalid handle: ${CONDITION_TAG}`);
  return reviver(CONDITION_TAG, CONDITION_BYTES, () => new Condition(data.lock as Lock | RLock))(data);
});
registerShareable(SEMAPHORE_TAG, semaphoreReviver(SEMAPHORE_TAG, () => new Semaphore()));
registerShareable(BOUNDED_TAG, semaphoreReviver(BOUNDED_TAG, () => new BoundedSemaphore()));
registerShareable(EVENT_TAG, reviver(EVENT_TAG, EVENT_WORDS * 4, () => new Event()));
registerShareable(BARRIER_TAG, (data: Record<string, unknown>) => {
  if (!isEncodedAction(data?.action)) throw new TypeError(`Invalid handle: ${BARRIER_TAG}`);
  checkTimeout(data.timeout);
  return reviver(BARRIER_TAG, BARRIER_WORDS * 4, () => new Barrier(undefined as unknown as number))(data);
});

