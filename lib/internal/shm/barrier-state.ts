/**
 * The barrier: CPython's `threading.Barrier` state machine in shared memory, guarded by an internal
 * mutex, with one "something changed" word that waiters sleep on.
 *
 * Layout (words): LOCK (mutex.ts), STATE, COUNT (threads inside wait()), CHANGES (bumped and
 * broadcast on every change a waiter waits for), PARTIES (fixed).
 *
 * States (CPython's, plus ACTION):
 *
 *     FILLING ──last arrives──▶ ACTION ──action ok──▶ DRAINING ──last leaves──▶ FILLING
 *        │  (no action: straight to DRAINING)  └─action throws─▶ BROKEN
 *        ├─ reset() with waiters ─▶ RESETTING ──last leaves──▶ FILLING
 *        └─ abort() / a wait timed out ─▶ BROKEN ──reset()──▶ RESETTING / FILLING
 *
 * - wait: a newcomer first waits while the barrier is busy releasing the previous round
 *   (ACTION, DRAINING, RESETTING) — the race this prevents is a fast thread lapping the barrier
 *   and being counted in the round that is being released. A BROKEN barrier throws. Otherwise it
 *   takes arrival index COUNT++.
 * - The last to arrive sets ACTION and runs the action *outside* LOCK (it may take a while, or wait;
 *   `abort()` must still work meanwhile). Then, if still ACTION, DRAINING; if the action
 *   threw, BROKEN (that waiter gets the action's error, the others BrokenBarrierError); if an
 *   `abort()` or `reset()` came meanwhile, it gets BrokenBarrierError like everyone else.
 * - The others sleep on CHANGES while FILLING/ACTION. A waiter whose timeout passes while FILLING
 *   breaks the barrier (CPython's rule: a timeout breaks it for all); one whose timeout passes during
 *   ACTION waits for the action's outcome (every party arrived: in CPython it would be blocked on the
 *   barrier's lock, held by the action's runner, until the round is released). Seeing BROKEN or
 *   RESETTING, it throws.
 * - Every waiter leaves through the same exit: COUNT--, and the last to leave a DRAINING or
 *   RESETTING barrier makes it FILLING again for the next round.
 */
import { park, type Steps } from './steps';
import type { Block } from './block';
import { remaining, FOREVER } from './deadline';
import { unpark } from './park';
import { mutexLockSync, mutexUnlock } from './mutex';

/** Slot: internal mutex. */
export const LOCK = 0;
/** Slot: the barrier state. */
export const STATE = 1;
/** Slot: threads inside wait(). */
export const COUNT = 2;
/** Slot: bumped and broadcast on every change waiters wait for. */
export const CHANGES = 3;
/** Slot: number of parties (fixed at creation). */
export const PARTIES = 4;
/** Words a barrier needs. */
export const BARRIER_WORDS = 5;

/** Waiting for parties to arrive. */
export const FILLING = 0;
/** All arrived; the last one is running the action. */
export const ACTION = 1;
/** Released; waiters are leaving. */
export const DRAINING = 2;
/** reset() while waited on; waiters are leaving with BrokenBarrierError. */
export const RESETTING = 3;
/** Aborted, timed out, or the action threw. */
export const BROKEN = 4;

/** What a barrier wait yields when the action must run; the runner sends back the outcome. */
export interface RunAction {
  readonly runAction: true;
}
/** The action's outcome, sent back into the wait. */
export type ActionOutcome = { ok: true } | { ok: false; error: unknown };

const RUN_ACTION: RunAction = Object.freeze({ runAction: true as const });

/** Why a barrier wait failed: `broken` → BrokenBarrierError; `action` → the action's own error. */
export type BarrierFailure = { broken: true } | { broken: false; error: unknown };

/** The result of a wait: the arrival index, or a failure for the caller to throw. */
export type BarrierOutcome = { index: number; failure?: undefined } | { index: number; failure: BarrierFailure };

/** Initializes a barrier block for `parties` parties. */
export function barrierInit(block: Block, at: number, parties: number): void {
  Atomics.store(block.i32, at + PARTIES, parties);
}

function bump(block: Block, at: number): void {
  Atomics.add(block.i32, at + CHANGES, 1);
  unpark(block, at + CHANGES, Infinity);
}

function setState(block: Block, at: number, state: number): void {
  Atomics.store(block.i32, at + STATE, state);
  bump(block, at);
}

/** Sleeps (LOCK released meanwhile) until CHANGES moves or `deadline`; returns holding LOCK. */
function* sleepUnlocked(block: Block, at: number, deadline: number): Steps<void> {
  const changes = Atomics.load(block.i32, at + CHANGES);
  mutexUnlock(block, at + LOCK);
  try {
    yield park(block, at + CHANGES, changes, deadline);
  } finally {
    mutexLockSync(block, at + LOCK);
  }
}

/**
 * One party's wait. Yields park requests, and {@link RunAction} (when `hasAction` and this party is
 * the last) expecting an {@link ActionOutcome} back.
 */
export function* barrierWait(block: Block, at: number, deadline: number, hasAction: boolean): Steps<BarrierOutcome, RunAction> {
  mutexLockSync(block, at + LOCK);
  try {
    let state = Atomics.load(block.i32, at + STATE);
    while (state === ACTION || state === DRAINING || state === RESETTING) {
      yield* sleepUnlocked(block, at, FOREVER);
      state = Atomics.load(block.i32, at + STATE);
    }
    if (state === BROKEN) return { index: -1, failure: { broken: true } };
    const index = Atomics.add(block.i32, at + COUNT, 1);
    let failure: BarrierFailure | undefined;
    try {
      if (index + 1 === Atomics.load(block.i32, at + PARTIES)) {
        failure = yield* releaseRound(block, at, hasAction);
      } else {
        failure = yield* awaitRound(block, at, deadline);
      }
    } finally {
      leave(block, at);
    }
    return failure === undefined ? { index } : { index, failure };
  } finally {
    mutexUnlock(block, at + LOCK);
  }
}

function* releaseRound(block: Block, at: number, hasAction: boolean): Steps<BarrierFailure | undefined, RunAction> {
  if (hasAction) {
    Atomics.store(block.i32, at + STATE, ACTION);
    mutexUnlock(block, at + LOCK);
    let outcome: ActionOutcome;
    try {
      outcome = (yield RUN_ACTION) as ActionOutcome;
    } finally {
      mutexLockSync(block, at + LOCK);
    }
    if (Atomics.load(block.i32, at + STATE) !== ACTION) return { broken: true }; // aborted or reset meanwhile
    if (!outcome.ok) {
      setState(block, at, BROKEN);
      return { broken: false, error: outcome.error };
    }
  }
  setState(block, at, DRAINING);
  return undefined;
}

function* awaitRound(block: Block, at: number, deadline: number): Steps<BarrierFailure | undefined> {
  for (;;) {
    const state = Atomics.load(block.i32, at + STATE);
    if (state === DRAINING) return undefined;
    if (state === BROKEN || state === RESETTING) return { broken: true };
    if (remaining(deadline) === 0) {
      // The round is complete and its action is running: CPython runs the action holding the
      // barrier's lock, so a waiter whose timeout passes meanwhile only gets the lock back once the
      // round is released, and then passes. Same here: a timeout that passes during ACTION waits for
      // its outcome instead of breaking a round in which every party arrived. (It must not re-park
      // with its spent deadline either: that returns at once, a busy loop that would starve an
      // async waiter's event loop.)
      if (state === ACTION) {
        yield* sleepUnlocked(block, at, FOREVER);
        continue;
      }
      setState(block, at, BROKEN);
      return { broken: true };
    }
    yield* sleepUnlocked(block, at, deadline);
  }
}

/** The common exit of every wait (under LOCK): the last to leave opens the next round. */
function leave(block: Block, at: number): void {
  const left = Atomics.sub(block.i32, at + COUNT, 1) - 1;
  const state = Atomics.load(block.i32, at + STATE);
  if (left === 0 && (state === DRAINING || state === RESETTING)) setState(block, at, FILLING);
}

/** Puts the barrier back to FILLING; current waiters get BrokenBarrierError. */
export function barrierReset(block: Block, at: number): void {
  mutexLockSync(block, at + LOCK);
  try {
    const state = Atomics.load(block.i32, at + STATE);
    if (Atomics.load(block.i32, at + COUNT) > 0) {
      if (state === FILLING || state === ACTION || state === BROKEN) setState(block, at, RESETTING);
      // DRAINING or RESETTING: the last to leave opens the next round anyway.
    } else {
      setState(block, at, FILLING);
    }
  } finally {
    mutexUnlock(block, at + LOCK);
  }
}

/** Breaks the barrier: current and future waiters get BrokenBarrierError until reset(). */
export function barrierAbort(block: Block, at: number): void {
  mutexLockSync(block, at + LOCK);
  try {
    setState(block, at, BROKEN);
  } finally {
    mutexUnlock(block, at + LOCK);
  }
}

/** Parties currently waiting for the round to fill. */
export function barrierWaiting(block: Block, at: number): number {
  const state = Atomics.load(block.i32, at + STATE);
  return state === FILLING || state === ACTION ? Atomics.load(block.i32, at + COUNT) : 0;
}

/** True when the barrier is broken. */
export function barrierBroken(block: Block, at: number): boolean {
  return Atomics.load(block.i32, at + STATE) === BROKEN;
}
