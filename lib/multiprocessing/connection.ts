/**
 * `Pipe` and `Connection` of `threadkit/multiprocessing`: two connected ends that processes (and
 * their threads) send messages through (Python's `multiprocessing.Pipe`).
 *
 * Each direction is an item ring in the arena (the queues' implementation, internal/queue/core.ts),
 * so a message is one item: boundaries are kept, any structured-cloneable value (with
 * multiprocessing objects inside) goes, a send returns once the message is in shared memory.
 *
 * Ends are open as file descriptors are: an end is open while some live process holds it open.
 * Each end has a table of (pid, opens) in a small arena block: every Connection object over it
 * counts one open for its process, and so does every handle of it on its way to another process
 * (counted for the sender when the handle is made, moved to the receiver when it is revived — the
 * reason a parent may close its copy right after `start()`, before the child has revived its own,
 * as with CPython, whose parent duplicates the descriptor for the child). `close()` or the object
 * being collected gives its open back. An end is closed when no live process holds an open of it;
 * a process that dies gives back all of its own (its pid is no longer alive). A reader that finds
 * nothing to read and the other end closed gets EOFError; a reader waiting while the other end's
 * last holder dies learns it within WATCH_MS (it looks again after every slice of its wait), a
 * reader waiting while it is closed is woken at once.
 *
 * Not settled: a handle made and never revived (a message that could not be sent after its handle
 * was made) keeps the end open until its sender process ends, as a duplicated descriptor that was
 * never passed on would.
 */
import { inspect } from 'node:util';
import { EOFError, RuntimeError } from '../errors';
import { describe } from '../internal/validate';
import { ownedLockSync, ownedUnlock } from '../internal/shm/owned-mutex';
import { WAKE_ALL, ringSignalGetters } from '../internal/shm/item-ring';
import { ENDED } from '../internal/queue/core';
import {
  ARENA_CHANNEL_BYTES, arenaQueue, arenaQueueRef, reviveArenaQueue, type ArenaQueue, type ArenaQueueRef,
} from '../internal/queue/memory';
import { blockRef, holdBy, newBlock, revivedBlock } from '../internal/arena/refs';
import type { ArenaBlock } from '../internal/arena/block';
import type { BlockRef } from '../internal/arena/arena';
import { isAlive, WATCH_MS } from '../internal/arena/watch';
import { kShare, registerShareable, type Handle } from '../internal/transport/shareable';

const TAG = 'multiprocessing.Connection';
const PID = process.pid;

// The ends block (words).
/** Slot: owned mutex guarding the tables. */
const ENDS_LOCK = 0;
/** Processes an end's table records; more are counted in its OVERFLOW, never taken as dead. */
const HOLDERS = 30;
/** Words of one end's table: OVERFLOW, then HOLDERS × (pid, opens). */
const END_WORDS = 1 + 2 * HOLDERS;
/** First word of end e's table. */
const endAt = (end: number): number => 2 + end * END_WORDS;
const ENDS_BYTES = (2 + 2 * END_WORDS) * 4;

/** Adds `delta` opens of `end` for process `pid`. */
function adjustOpens(ends: ArenaBlock, end: number, pid: number, delta: number): void {
  const i32 = ends.i32;
  const at = endAt(end);
  ownedLockSync(ends, ENDS_LOCK);
  try {
    let free = -1;
    for (let h = 0; h < HOLDERS; h++) {
      const p = i32[at + 1 + 2 * h];
      if (p === pid) {
        i32[at + 2 + 2 * h] += delta;
        return;
      }
      if (free < 0 && (p === 0 || i32[at + 2 + 2 * h] <= 0 || !isAlive(p))) free = h;
    }
    if (delta <= 0) {
      if (i32[at] > 0) i32[at] += delta;
      return;
    }
    if (free < 0) {
      i32[at] += delta;
      return;
    }
    i32[at + 1 + 2 * free] = pid;
    i32[at + 2 + 2 * free] = delta;
  } finally {
    ownedUnlock(ends, ENDS_LOCK);
  }
}

/** When each pid was last seen alive (performance.now()); a dead pid stays dead. */
const seenAlive = new Map<number, number>();
const ALIVE_FOR_MS = 100;

function alive(pid: number, fresh: boolean): boolean {
  if (pid === PID) return true;
  const now = performance.now();
  const seen = seenAlive.get(pid);
  if (!fresh && seen !== undefined && now - seen < ALIVE_FOR_MS) return true;
  if (isAlive(pid)) {
    seenAlive.set(pid, now);
    return true;
  }
  seenAlive.delete(pid);
  return false;
}

/**
 * True while some live process holds `end` open. `fresh`: ask the kernel about every pid now;
 * otherwise a pid seen alive in the last ALIVE_FOR_MS counts as alive (a waiting reader asks after
 * every slice, so a death is noticed within WATCH_MS + ALIVE_FOR_MS).
 */
function endOpen(ends: ArenaBlock, end: number, fresh: boolean): boolean {
  const i32 = ends.i32;
  const at = endAt(end);
  if (Atomics.load(i32, at) > 0) return true;
  for (let h = 0; h < HOLDERS; h++) {
    const pid = Atomics.load(i32, at + 1 + 2 * h);
    if (pid !== 0 && Atomics.load(i32, at + 2 + 2 * h) > 0 && alive(pid, fresh)) return true;
  }
  return false;
}

/** What a Connection is made of; handed to the constructor by Pipe() or a reviver. */
interface ConnectionState {
  readonly end: 0 | 1;
  readonly duplex: boolean;
  readonly ends: ArenaBlock;
  /** The two directions: [written by end 0, written by end 1]; one-way: [unused, written by end 1]. */
  readonly channels: readonly (ArenaQueue | undefined)[];
  /** The pid whose open this object takes over (a handle sent by that process), if any. */
  readonly from?: number;
}

let handed: ConnectionState | undefined;

/** What the finalizer of a Connection that was never closed needs (not the Connection itself). */
interface Held {
  readonly ends: ArenaBlock;
  readonly end: number;
  readonly out: ArenaQueue | undefined;
}

function giveBack(held: Held): void {
  adjustOpens(held.ends, held.end, PID, -1);
  if (held.out !== undefined) ringSignalGetters(held.out.core.ring);
}

const finalizer = new FinalizationRegistry<Held>(giveBack);

function closedError(): RuntimeError {
  return new RuntimeError('handle is closed');
}

/**
 * One end of a {@link Pipe}: sends messages to the other end and receives what it sends (Python's
 * `multiprocessing.connection.Connection`). Made by `Pipe()`; passed to processes, Pool tasks and
 * threads as an argument (or inside a queue item), where it arrives as a working end.
 *
 * `send` returns once the message is in shared memory (it never waits: a pipe holds any number of
 * messages). `recv` / `recvSync` return the next message in order, waiting while there is none, and
 * throw EOFError once the other end is closed (by every process that held it, or because they
 * died) and every message it sent was received. `poll(timeout)` says whether `recv` would return
 * at once. A one-way pipe's ends refuse the other direction (RuntimeError).
 *
 * @example
 * const [parent, child] = Pipe();
 * const p = new Process({ target: (conn) => { conn.send(conn.recvSync() * 2); conn.close(); }, args: [child] });
 * p.start();
 * child.close();             // this process's copy: the child holds its own
 * parent.send(21);
 * console.log(await parent.recv());   // 42
 * await parent.recv().catch((e) => console.log(e.name));   // EOFError: the child closed its end
 *
 * @throws RuntimeError after close(), for the wrong direction of a one-way pipe, and from send when
 *   the other end is closed ('EPIPE'); TypeError from send for a value that cannot be sent.
 */
export class Connection {
  readonly #end: 0 | 1;
  readonly #duplex: boolean;
  readonly #ends: ArenaBlock;
  readonly #channels: readonly (ArenaQueue | undefined)[];
  readonly #in: ArenaQueue | undefined;
  readonly #out: ArenaQueue | undefined;
  readonly #ended: () => boolean;
  #closed = false;

  /** Connections are made by {@link Pipe}. */
  constructor() {
    const state = handed;
    handed = undefined;
    if (state === undefined) throw new TypeError('Connection objects are made by Pipe()');
    this.#end = state.end;
    this.#duplex = state.duplex;
    this.#ends = state.ends;
    this.#channels = state.channels;
    const peer = 1 - state.end;
    this.#in = state.duplex || state.end === 0 ? state.channels[peer] : undefined;
    this.#out = state.duplex || state.end === 1 ? state.channels[state.end] : undefined;
    this.#ended = () => !endOpen(this.#ends, peer, false);
    adjustOpens(state.ends, state.end, PID, 1);
    if (state.from !== undefined) adjustOpens(state.ends, state.end, state.from, -1);
    holdBy(this, state.ends);
    for (const channel of state.channels) if (channel !== undefined) holdBy(this, channel.block);
    // The finalizer's record holds the blocks too: the arena must not free them (refs.ts) before
    // the finalizer has given this object's open back.
    const held: Held = { ends: state.ends, end: state.end, out: this.#out };
    holdBy(held, state.ends);
    if (this.#out !== undefined) holdBy(held, this.#out.block);
    finalizer.register(this, held, this);
  }

  /** True once close() was called on this object. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True when this end can receive (every end but the sending end of a one-way pipe). */
  get readable(): boolean {
    return this.#in !== undefined;
  }

  /** True when this end can send (every end but the receiving end of a one-way pipe). */
  get writable(): boolean {
    return this.#out !== undefined;
  }

  #reader(): ArenaQueue {
    if (this.#closed) throw closedError();
    if (this.#in === undefined) throw new RuntimeError('connection is write-only');
    return this.#in;
  }

  /**
   * Sends `obj` to the other end (a structured clone, multiprocessing objects as working instances).
   * @throws RuntimeError after close(), on the receiving end of a one-way pipe, or when the other
   *   end is closed (`code` 'EPIPE'); TypeError when `obj` cannot be sent to another process.
   */
  send(obj: unknown): void {
    if (this.#closed) throw closedError();
    if (this.#out === undefined) throw new RuntimeError('connection is read-only');
    if (!endOpen(this.#ends, 1 - this.#end, false)) {
      throw Object.assign(new RuntimeError('broken pipe: the other end of the connection is closed'), { code: 'EPIPE' });
    }
    this.#out.core.putSync(obj);
  }

  /**
   * Receives the next message, waiting while there is none, without blocking the event loop.
   * @throws EOFError (rejects) once the other end is closed and nothing is left to read;
   *   RuntimeError after close() or on the sending end of a one-way pipe.
   */
  recv(): Promise<unknown> {
    let reader: ArenaQueue;
    try {
      reader = this.#reader();
    } catch (error) {
      return Promise.reject(error);
    }
    return reader.core.get(undefined, this.#ended, WATCH_MS).then(received);
  }

  /** As {@link recv}, blocking the calling thread. */
  recvSync(): unknown {
    return received(this.#reader().core.getSync(undefined, this.#ended, WATCH_MS));
  }

  /**
   * Whether a message is there to receive (or the other end is closed, so that recv() would throw
   * at once), waiting up to `timeout` ms for one.
   * @param timeout ms to wait; `0` (the default) looks once; Infinity waits until there is one.
   */
  poll(timeout = 0): Promise<boolean> {
    let reader: ArenaQueue;
    try {
      reader = this.#reader();
    } catch (error) {
      return Promise.reject(error);
    }
    return reader.core.poll(timeout, this.#ended, WATCH_MS);
  }

  /** As {@link poll}, blocking the calling thread. */
  pollSync(timeout = 0): boolean {
    return this.#reader().core.pollSync(timeout, this.#ended, WATCH_MS);
  }

  /**
   * Closes this object: it gives back its process's open of this end (the end is closed once no
   * live process holds it open), and refuses further use. Closing twice does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    finalizer.unregister(this);
    giveBack({ ends: this.#ends, end: this.#end, out: this.#out });
  }

  [kShare](): Handle {
    if (this.#closed) throw new TypeError('a closed Connection cannot be sent');
    // The handle holds an open of this end until a process revives it (see above).
    adjustOpens(this.#ends, this.#end, PID, 1);
    const data: ConnectionData = {
      end: this.#end,
      duplex: this.#duplex,
      from: PID,
      ends: blockRef(this.#ends),
      channels: this.#channels.map((c) => (c === undefined ? null : arenaQueueRef(c))),
    };
    return { tag: TAG, crossProcess: true, data };
  }

  [inspect.custom](): string {
    const ways = [this.readable ? 'readable' : '', this.writable ? 'writable' : ''].filter(Boolean).join(' ');
    return `<Connection end=${this.#end} ${ways}${this.#closed ? ' closed' : ''}>`;
  }
}

function received(value: unknown): unknown {
  if (value === ENDED) throw new EOFError('the other end of the connection is closed and nothing is left to read');
  return value;
}

/**
 * Two connected ends (Python's `multiprocessing.Pipe`). Duplex (the default): both ends send and
 * receive. One-way (`duplex` false): the first end only receives, the second only sends.
 *
 * @example
 * const [a, b] = Pipe();
 * a.send({ hello: 'world' });
 * console.log(b.recvSync()); // { hello: 'world' }
 *
 * @throws TypeError when `duplex` is not a boolean; Error when the native addon is unavailable.
 */
export function Pipe(duplex = true): [Connection, Connection] {
  if (typeof duplex !== 'boolean') throw new TypeError(`Expected \`duplex\` to be a boolean, got ${describe(duplex)}`);
  const ends = newBlock(ENDS_BYTES);
  const channels = duplex
    ? [arenaQueue(0, WAKE_ALL, ARENA_CHANNEL_BYTES), arenaQueue(0, WAKE_ALL, ARENA_CHANNEL_BYTES)]
    : [undefined, arenaQueue(0, WAKE_ALL, ARENA_CHANNEL_BYTES)];
  handed = { end: 0, duplex, ends, channels };
  const first = new Connection();
  handed = { end: 1, duplex, ends, channels };
  const second = new Connection();
  return [first, second];
}

interface ConnectionData {
  readonly end: 0 | 1;
  readonly duplex: boolean;
  readonly from: number;
  readonly ends: BlockRef;
  readonly channels: readonly (ArenaQueueRef | null)[];
}

registerShareable(TAG, (data: ConnectionData) => {
  if (
    typeof data !== 'object' || data === null || (data.end !== 0 && data.end !== 1) || typeof data.duplex !== 'boolean' ||
    !Number.isInteger(data.from) || !Array.isArray(data.channels) || data.channels.length !== 2
  ) {
    throw new TypeError(`Invalid handle: ${TAG}`);
  }
  const ends = revivedBlock(data.ends, ENDS_BYTES, TAG);
  const channels = data.channels.map((c) => (c === null ? undefined : reviveArenaQueue(c, TAG)));
  handed = { end: data.end, duplex: data.duplex, ends, channels, from: data.from };
  try {
    return new Connection();
  } finally {
    handed = undefined;
  }
});
