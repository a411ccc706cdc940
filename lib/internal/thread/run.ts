/**
 * One run of a target in a warm worker (`warm-pool.ts`), and its state words: what a Thread waits
 * on. Protocol and words: `internal/worker/thread-protocol.ts`.
 *
 * Life and joining. A run's life is a word in shared memory: NEW → STARTED → RUNNING → STOPPED. The
 * worker stores STOPPED after it posted the outcome; its `process.on('exit')` handler stores it when
 * the target calls `process.exit()`; and the Worker's `'exit'` listener (through `end`) stores it
 * when the worker crashed or was terminated. `waitSync` parks on the word with `Atomics.wait`,
 * `waitAsync` with `Atomics.waitAsync`, so both wake the moment the run ends, however it ends — no
 * polling, and no dependence on the creating thread's event loop. On waking, the waiter takes the
 * outcome message from the port synchronously (`receiveMessageOnPort`), so the run's end has been
 * handled (an error sent to the excepthook) before the wait returns, as in Python.
 */
import { parkAsync, parkSync, unpark } from '../shm/park';
import { LocalBlock } from '../shm/block';
import { decodeError, encodeError, type EncodedTarget } from '../transport';
import { CANCEL, CANCELLED, LIFE, NEW, STARTED, STATE_SLOTS, STOPPED, type RunMessage } from '../worker/thread-protocol';
import { PooledWorker, type RunEnd, type RunListener } from './warm-pool';

export type { RunEnd } from './warm-pool';

/** Rebuilds an error that reached this thread through Node (a worker's crash: another realm) with this realm's classes. */
export function inThisRealm(error: unknown): unknown {
  return decodeError(encodeError(error));
}

/** The fields of a run message that the starter chooses. */
export type RunRequest = Omit<RunMessage, 'type' | 'state' | 'target'> & { readonly target: EncodedTarget };

/**
 * One run of a target in a pooled worker, and its state words. A Thread owns one from construction
 * (a Timer may be cancelled before it starts).
 */
export class ThreadRun implements RunListener {
  readonly state = new Int32Array(new SharedArrayBuffer(STATE_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  /** The state words as a block (this process's memory): how joiners sleep on them and are woken. */
  readonly stateBlock = new LocalBlock(this.state);
  readonly #onEnd: (end: RunEnd) => void;
  readonly #onLateCrash: (crash: unknown) => void;
  #worker: PooledWorker | null = null;
  #end: RunEnd | undefined;

  constructor(onEnd: (end: RunEnd) => void, onLateCrash: (crash: unknown) => void = () => {}) {
    this.#onEnd = onEnd;
    this.#onLateCrash = onLateCrash;
  }

  /** Posts the run to a worker; returns the worker's threadId. */
  start(request: RunRequest): number {
    const worker = PooledWorker.take();
    Atomics.store(this.state, LIFE, STARTED);
    try {
      worker.start(this, { type: 'run', state: this.state.buffer as SharedArrayBuffer, ...request });
    } catch (error) {
      Atomics.store(this.state, LIFE, NEW);
      throw error;
    }
    this.#worker = worker;
    return worker.ident;
  }

  /** True once the target ended (even when its outcome has not been handled yet). */
  get ended(): boolean {
    return this.#end !== undefined || Atomics.load(this.state, LIFE) === STOPPED;
  }

  end(end: RunEnd): void {
    if (this.#end !== undefined) {
      // A death first noticed by a waiter (no crash known yet) whose 'error' event came later.
      if (this.#end.kind === 'died' && this.#end.crash === undefined && end.kind === 'died' && end.crash !== undefined) {
        this.#onLateCrash(end.crash);
      }
      return;
    }
    this.#end = end;
    this.#worker = null;
    Atomics.store(this.state, LIFE, STOPPED);
    unpark(this.stateBlock, LIFE, Infinity);
    this.#onEnd(end);
  }

  lateCrash(crash: unknown): void {
    this.#onLateCrash(crash);
  }

  /** Stops a waiting Timer. */
  cancel(): void {
    Atomics.store(this.state, CANCEL, CANCELLED);
    unpark(this.stateBlock, CANCEL, Infinity);
  }

  async terminate(): Promise<void> {
    await this.#worker?.terminate();
  }

  waitSync(deadline: number): boolean {
    for (;;) {
      const life = Atomics.load(this.state, LIFE);
      if (life === STOPPED) {
        this.#settle();
        return true;
      }
      if (parkSync(this.stateBlock, LIFE, life, deadline) === 'timed-out' && Atomics.load(this.state, LIFE) !== STOPPED) return false;
    }
  }

  async waitAsync(deadline: number): Promise<boolean> {
    for (;;) {
      const life = Atomics.load(this.state, LIFE);
      if (life === STOPPED) {
        this.#settle();
        return true;
      }
      if ((await parkAsync(this.stateBlock, LIFE, life, deadline)) === 'timed-out' && Atomics.load(this.state, LIFE) !== STOPPED) return false;
    }
  }

  /**
   * After the life word became STOPPED: handle the outcome now (it is queued on the port: it was posted
   * before STOPPED was stored), or, when there is none, the worker died without one.
   */
  #settle(): void {
    if (this.#end !== undefined) return;
    this.#worker?.drain();
    if (this.#end === undefined) this.end({ kind: 'died', code: null, crash: undefined });
  }
}
