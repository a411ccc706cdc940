/**
 * Thread: Python's `threading.Thread` over Node.js worker threads.
 *
 * How a thread runs. `start()` encodes the target (a function by source, or a `fromModule`
 * reference) and its arguments (shared objects become handles; anything that cannot be sent is a
 * TypeError and nothing starts), takes a worker — an idle one left warm by a finished thread when
 * there is one, else a new Worker running `internal/worker/thread-entry` — and posts the run to it.
 *
 * Life and joining. A thread's life is a word in shared memory (see thread-protocol.ts):
 * NEW → STARTED → RUNNING → STOPPED. The worker stores STOPPED after it posted the outcome; its
 * `process.on('exit')` handler stores it when the target calls `process.exit()`; and the Worker's
 * `'exit'` listener stores it when the worker crashed or was terminated. `joinSync` parks on the word
 * with `Atomics.wait`, `join` with `Atomics.waitAsync`, so both wake the moment the thread ends,
 * however it ends — no polling, and no dependence on the creating thread's event loop. On waking, the
 * joiner takes the outcome message from the port synchronously (`receiveMessageOnPort`), so an error
 * the target threw has gone to the excepthook before `join()` returns, as in Python.
 *
 * Warm reuse. Creating a Worker costs ≈ 40–70 ms; posting a run to an idle one costs tens of
 * microseconds. A worker whose run ended goes back to a small pool (at most {@link MAX_IDLE}),
 * unref'd so that it never keeps the process alive, and is terminated after {@link IDLE_TTL_MS} idle.
 * A worker that exited (its target called `process.exit()`, it crashed, it was terminated) is never
 * reused. Module state a target leaves in its worker (globals, module caches) may be seen by a later
 * thread that reuses the worker, as with any thread pool.
 *
 * Daemon threads: the worker is unref'd while running, so a daemon thread never keeps the process
 * alive; a non-daemon thread's worker is ref'd until its target ends.
 *
 * Output: a thread's `console.log` / `process.stdout.write` go straight to the process's file
 * descriptors (internal/worker/direct-stdio.ts), not through this thread's event loop as Node does by
 * default, so no line is lost when the process exits right after, lines appear while this thread is
 * blocked in `joinSync`, and everything a thread printed is out before `join()` returns.
 */
import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { inspect } from 'node:util';
import { performance } from 'node:perf_hooks';
import { RuntimeError } from '../errors';
import { isModuleTarget, type Target } from '../target';
import { deadlineFor, FOREVER } from '../internal/shm/deadline';
import { checkTimeout, describe } from '../internal/validate';
import { parkAsync, parkSync } from '../internal/shm/park';
import {
  decodeError, decodeValue, encodeArgs, encodeError, encodeTarget, encodeValue, workerEntry,
  type EncodedError, type EncodedTarget,
} from '../internal/transport';
import { getCurrentThread, nextThreadName, threadNameCounter } from '../internal/worker/context';
import { track, type TrackedResource } from '../internal/tracking';
import {
  CANCEL, CANCELLED, LIFE, NEW, STARTED, STATE_SLOTS, STOPPED,
  type DoneMessage, type RunMessage, type ThreadWorkerData,
} from '../internal/worker/thread-protocol';
import { reportThreadException, trackThread, untrackThread } from './current';

/** An idle worker is terminated after this long without a thread to run. */
export const IDLE_TTL_MS = 5_000;
/** At most this many idle workers are kept warm. */
export const MAX_IDLE = 8;

/** How one run of a target in a worker ended. */
type RunEnd =
  | { readonly kind: 'returned'; readonly value: unknown }
  | { readonly kind: 'threw'; readonly error: EncodedError }
  | { readonly kind: 'died'; readonly code: number | null; readonly crash: unknown };

/** Warm workers waiting for a thread, most recently used last. */
const idle: PooledWorker[] = [];

/**
 * A worker running the thread entry, reused by successive runs.
 * Invariant: `#run` is the run posted to it and not yet ended; a worker is in `idle` only when
 * `#run` is null and it has not exited.
 */
class PooledWorker {
  readonly #worker: Worker;
  /** The worker's threadId (read once: it becomes -1 after exit). */
  readonly ident: number;
  /** This thread's end of the private channel; unref'd, liveness is the worker's ref. */
  readonly #port: MessagePort;
  #run: ThreadRun | null = null;
  /** The last run, to report an error thrown by a callback it left behind after it ended. */
  #last: ThreadRun | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** The uncaught error that killed the worker (its 'error' event comes before 'exit'). */
  #crash: unknown = undefined;
  #exited = false;
  /** This worker in the library's census (teardown and the test suite's leak check read it). */
  readonly #census: { -readonly [K in keyof TrackedResource]: TrackedResource[K] };
  readonly #untrack: () => void;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    const { filename, execArgv } = workerEntry('thread-entry');
    const workerData: ThreadWorkerData = { port: port2, nameCounter: threadNameCounter() };
    this.#worker = new Worker(filename, { execArgv, workerData, transferList: [port2] });
    this.ident = this.#worker.threadId;
    this.#port = port1;
    port1.on('message', (msg: DoneMessage) => this.#finish(msg));
    port1.on('messageerror', (error) => this.#finish({ type: 'done', ok: false, error: encodeError(error) }));
    port1.unref();
    this.#worker.on('error', (error) => {
      this.#crash = error;
    });
    this.#worker.on('exit', (code) => this.#onExit(code));
    this.#census = { kind: 'thread', label: `thread worker ${this.ident}`, idle: false, kill: () => this.terminate() };
    this.#untrack = track(this.#census);
  }

  /** An idle worker, or a new one. */
  static take(): PooledWorker {
    for (let worker = idle.pop(); worker !== undefined; worker = idle.pop()) {
      clearTimeout(worker.#idleTimer);
      if (!worker.#exited) return worker;
    }
    return new PooledWorker();
  }

  /** Terminates every idle worker. */
  static async shutdownIdle(): Promise<void> {
    const workers = idle.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  /** Posts a run; the worker must be idle. */
  start(run: ThreadRun, message: RunMessage, daemon: boolean): void {
    this.#run = run;
    this.#last = run;
    this.#census.idle = false;
    this.#census.label = `thread ${message.name} (worker ${this.ident})`;
    if (daemon) this.#worker.unref();
    else this.#worker.ref();
    try {
      this.#port.postMessage(message);
    } catch (error) {
      // Arguments were checked by encodeArgs, so this is unexpected; leave the worker usable.
      this.#run = null;
      this.#toIdle();
      throw new TypeError(`the thread's target or arguments cannot be sent to another thread: ${(error as Error).message}`);
    }
  }

  /** Handles the outcome messages already queued, now, without waiting for the event loop. */
  drain(): void {
    for (let entry = receiveMessageOnPort(this.#port); entry !== undefined; entry = receiveMessageOnPort(this.#port)) {
      this.#finish(entry.message as DoneMessage);
    }
  }

  async terminate(): Promise<void> {
    clearTimeout(this.#idleTimer);
    if (!this.#exited) await this.#worker.terminate();
  }

  #finish(msg: DoneMessage): void {
    const run = this.#run;
    if (run === null) return;
    this.#run = null;
    // Back to the pool before the run's end is reported: the excepthook may start another thread.
    if (!this.#exited) this.#toIdle();
    run.end(msg.ok ? { kind: 'returned', value: msg.value } : { kind: 'threw', error: msg.error });
  }

  #toIdle(): void {
    this.#worker.unref();
    this.#census.idle = true;
    this.#census.label = `idle thread worker ${this.ident}`;
    if (idle.length >= MAX_IDLE) {
      void this.#worker.terminate();
      return;
    }
    idle.push(this);
    this.#idleTimer = setTimeout(() => this.#expire(), IDLE_TTL_MS);
    this.#idleTimer.unref();
  }

  #expire(): void {
    const at = idle.indexOf(this);
    if (at !== -1) idle.splice(at, 1);
    void this.#worker.terminate();
  }

  #onExit(code: number): void {
    // Only the run's own state words are repaired here: a Condition slot or a Lock that the dead
    // worker held stays as it was (see internal/shm/condition-queue.ts, "A waiter that dies").
    this.#exited = true;
    clearTimeout(this.#idleTimer);
    const at = idle.indexOf(this);
    if (at !== -1) idle.splice(at, 1);
    this.drain(); // an outcome posted just before the worker ended still counts
    const run = this.#run;
    this.#run = null;
    if (run !== null) run.end({ kind: 'died', code, crash: this.#crash });
    else if (this.#crash !== undefined) this.#last?.lateCrash(this.#crash);
    this.#last = null;
    this.#port.close();
    this.#untrack();
  }
}

/** The fields of a run message that the starter chooses. */
type RunRequest = Omit<RunMessage, 'type' | 'state'>;

/**
 * One run of a target in a pooled worker, and its state words. A Thread owns one from construction
 * (a Timer may be cancelled before it starts); startTargetThread makes one per call.
 */
class ThreadRun {
  readonly state = new Int32Array(new SharedArrayBuffer(STATE_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  #worker: PooledWorker | null = null;
  #end: RunEnd | undefined;

  constructor(
    readonly onEnd: (end: RunEnd) => void,
    readonly onLateCrash: (crash: unknown) => void = () => {},
  ) {}

  /** Posts the run to a worker; returns the worker's threadId. */
  start(request: RunRequest): number {
    const worker = PooledWorker.take();
    Atomics.store(this.state, LIFE, STARTED);
    try {
      worker.start(this, { type: 'run', state: this.state.buffer as SharedArrayBuffer, ...request }, request.daemon);
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
      // A death first noticed by a joiner (no crash known yet) whose 'error' event came later.
      if (this.#end.kind === 'died' && this.#end.crash === undefined && end.kind === 'died' && end.crash !== undefined) {
        this.onLateCrash(end.crash);
      }
      return;
    }
    this.#end = end;
    this.#worker = null;
    Atomics.store(this.state, LIFE, STOPPED);
    Atomics.notify(this.state, LIFE);
    this.onEnd(end);
  }

  lateCrash(crash: unknown): void {
    this.onLateCrash(crash);
  }

  /** Stops a waiting Timer. */
  cancel(): void {
    Atomics.store(this.state, CANCEL, CANCELLED);
    Atomics.notify(this.state, CANCEL);
  }

  async terminate(): Promise<void> {
    await this.#worker?.terminate();
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

  waitSync(deadline: number): boolean {
    for (;;) {
      const life = Atomics.load(this.state, LIFE);
      if (life === STOPPED) {
        this.#settle();
        return true;
      }
      if (parkSync(this.state, LIFE, life, deadline) === 'timed-out' && Atomics.load(this.state, LIFE) !== STOPPED) return false;
    }
  }

  async waitAsync(deadline: number): Promise<boolean> {
    for (;;) {
      const life = Atomics.load(this.state, LIFE);
      if (life === STOPPED) {
        this.#settle();
        return true;
      }
      if ((await parkAsync(this.state, LIFE, life, deadline)) === 'timed-out' && Atomics.load(this.state, LIFE) !== STOPPED) return false;
    }
  }
}

/** Rebuilds an error that reached this thread through Node (another realm) with this realm's classes. */
function inThisRealm(error: unknown): unknown {
  return decodeError(encodeError(error));
}

/** Options of {@link Thread}. */
export interface ThreadOptions {
  /** What the thread runs: a self-contained function, or a `fromModule` reference. @default nothing */
  target?: Target;
  /** Arguments of the target: cloneable values and threadkit shared objects. @default [] */
  args?: unknown[];
  /** The thread's name; an empty string takes the default too, as in Python. @default 'Thread-N' */
  name?: string;
  /** A daemon thread never keeps the process alive. @default the creating thread's daemon flag */
  daemon?: boolean;
}

/** Timer's hook: the delay before the target runs, in ms (undefined for a plain Thread). */
export const kStartDelay: unique symbol = Symbol('threadkit.Thread.startDelay');
/** Timer's hook: stop a waiting run. */
export const kCancel: unique symbol = Symbol('threadkit.Thread.cancel');
/** Tests' hook: terminate the worker running this thread. */
export const kTerminate: unique symbol = Symbol('threadkit.Thread.terminate');

const NOOP: EncodedTarget = encodeTarget(() => undefined);

/**
 * A function running in its own worker thread, with Python's `threading.Thread` life cycle.
 *
 * `start()` runs the target (or an overriding `run()`) in another thread; `join()` / `joinSync()`
 * wait for it to end, however it ends (return, throw, `process.exit()`, a terminated worker). The
 * target is self-contained: it gets its arguments — cloned values, and threadkit's shared objects as
 * working instances over the same memory — not the variables of the enclosing scope. A subclass may
 * override `run()`; it is sent by source, with the instance's own fields as `this` (so they must be
 * cloneable or shared objects; `super` calls and methods of the class are not available there). An
 * error the target throws goes to the excepthook ({@link setExcepthook}); the value it returns is
 * dropped, as in Python. Threads reuse warm idle workers, so starting one is cheap after the first.
 *
 * @example
 * const counter = new Lock();
 * const t = new Thread({ target: (lock: Lock) => lock.withLockSync(() => 42), args: [counter] });
 * t.start();
 * await t.join();
 *
 * @throws TypeError from the constructor when an option has the wrong type, the target is not a
 *   sendable function or fromModule reference, or an argument cannot be sent to another thread
 */
export class Thread {
  /** The target as given, for `run()` in this thread. */
  readonly #target: Target | undefined;
  readonly #encodedTarget: EncodedTarget | undefined;
  readonly #args: readonly unknown[];
  readonly #encodedArgs: unknown[];
  #name: string;
  #daemon: boolean;
  /** Set by start(): the run's state words exist from construction (a Timer may be cancelled first). */
  readonly #run: ThreadRun;
  #started = false;
  #ident: number | null = null;

  constructor(options: ThreadOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}`);
    }
    const { target, args = [], name, daemon } = options;
    if (target !== undefined) this.#encodedTarget = encodeTarget(target, 'target');
    if (!Array.isArray(args)) throw new TypeError(`Expected \`args\` to be an array, got ${describe(args)}`);
    if (name !== undefined && typeof name !== 'string') throw new TypeError(`Expected \`name\` to be a string, got ${describe(name)}`);
    if (daemon !== undefined && typeof daemon !== 'boolean') throw new TypeError(`Expected \`daemon\` to be a boolean, got ${describe(daemon)}`);
    this.#encodedArgs = encodeArgs(args);
    this.#target = target;
    this.#args = args;
    // Python: `name = str(name) if name else _newname()` — an empty name takes the default too.
    this.#name = name === undefined || name === '' ? nextThreadName() : name;
    this.#daemon = daemon ?? getCurrentThread().daemon;
    this.#run = new ThreadRun((end) => this.#onEnd(end), (crash) => reportThreadException(inThisRealm(crash), this));
  }

  /** The thread's name; settable before `start()`. @default 'Thread-N' */
  get name(): string {
    return this.#name;
  }

  set name(value: string) {
    if (typeof value !== 'string') throw new TypeError(`Expected \`name\` to be a string, got ${describe(value)}`);
    if (this.#started) throw new RuntimeError('cannot rename a thread after it is started');
    this.#name = value;
  }

  /** A daemon thread never keeps the process alive; settable before `start()`. */
  get daemon(): boolean {
    return this.#daemon;
  }

  set daemon(value: boolean) {
    if (typeof value !== 'boolean') throw new TypeError(`Expected \`daemon\` to be a boolean, got ${describe(value)}`);
    if (this.#started) throw new RuntimeError('cannot set daemon status of active thread');
    this.#daemon = value;
  }

  /** The worker's `threadId` once started, else null. */
  get ident(): number | null {
    return this.#ident;
  }

  /**
   * Starts the thread: runs `run()` in a new (or warm idle) worker thread.
   * @throws RuntimeError when called twice
   * @throws TypeError when an overriding `run()` or one of the instance's fields cannot be sent
   */
  start(): void {
    if (this.#started) throw new RuntimeError('threads can only be started once');
    const delay = this[kStartDelay]();
    const request: RunRequest = {
      ...this.#payload(),
      name: this.#name,
      daemon: this.#daemon,
      wantResult: false,
      fireAt: delay === undefined ? undefined : performance.timeOrigin + performance.now() + delay,
    };
    this.#ident = this.#run.start(request);
    this.#started = true;
    trackThread(this);
  }

  /**
   * What the thread does: calls the target with the arguments. Override it in a subclass; the
   * override runs in the new thread (sent by source, with the instance's own fields as `this`).
   * Called directly, it runs a function target in the calling thread, as in Python.
   * @throws RuntimeError when called directly for a fromModule target (it runs only in a started thread)
   */
  run(): unknown {
    const target = this.#target;
    if (target === undefined) return undefined;
    if (typeof target !== 'function') throw new RuntimeError('a fromModule() target runs only in a started thread; call start()');
    return target(...this.#args);
  }

  /**
   * Waits until the thread ends, or `timeout` ms pass. An error the target threw has been handed to
   * the excepthook when this resolves.
   * @returns true when the thread has ended (Python's `join` returns None; call `isAlive()` there)
   * @throws RuntimeError (rejects) when the thread was never started; RangeError for a negative or NaN timeout
   */
  async join(timeout?: number): Promise<boolean> {
    return this.#run.waitAsync(this.#joinDeadline(timeout));
  }

  /**
   * As {@link join}, blocking the calling thread (`Atomics.wait`; on the main thread this freezes its
   * event loop for the wait).
   * @throws RuntimeError when the thread was never started; RangeError for a negative or NaN timeout
   */
  joinSync(timeout?: number): boolean {
    return this.#run.waitSync(this.#joinDeadline(timeout));
  }

  /** True from `start()` until the target ends. */
  isAlive(): boolean {
    return this.#started && !this.#run.ended;
  }

  /** Delay before the target runs (Timer). */
  protected [kStartDelay](): number | undefined {
    return undefined;
  }

  /** Stops a waiting Timer (before or while it waits; no effect once it fired). */
  protected [kCancel](): void {
    this.#run.cancel();
  }

  /** Terminates the worker running this thread (tests: a thread whose worker is killed is joinable). */
  async [kTerminate](): Promise<void> {
    await this.#run.terminate();
  }

  [inspect.custom](): string {
    let status = !this.#started ? 'initial' : this.isAlive() ? 'started' : 'stopped';
    if (this.#daemon) status += ' daemon';
    if (this.#ident !== null) status += ` ${this.#ident}`;
    return `<${this.constructor.name}(${this.#name}, ${status})>`;
  }

  #joinDeadline(timeout: unknown): number {
    checkTimeout(timeout);
    if (!this.#started) throw new RuntimeError('cannot join thread before it is started');
    return deadlineFor(timeout);
  }

  /** Target, arguments and `this` to send: an overriding run() with the fields, else the target. */
  #payload(): Pick<RunRequest, 'target' | 'args' | 'thisArg'> {
    const run: unknown = this.run;
    if (run === Thread.prototype.run) return { target: this.#encodedTarget ?? NOOP, args: this.#encodedArgs, thisArg: undefined };
    const target = encodeTarget(run, 'run');
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(this)) {
      if (key === 'run') continue;
      fields[key] = encodeValue((this as unknown as Record<string, unknown>)[key], `field ${JSON.stringify(key)} of ${this.#name}`);
    }
    return { target, args: [], thisArg: fields };
  }

  #onEnd(end: RunEnd): void {
    untrackThread(this);
    if (end.kind === 'threw') reportThreadException(decodeError(end.error), this);
    else if (end.kind === 'died' && end.crash !== undefined) reportThreadException(inThisRealm(end.crash), this);
  }
}

/** How a target run by {@link startTargetThread} ended; `error` is rebuilt in this realm. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** A target as given by a user, or one already encoded (a Barrier's action travels encoded in its handle). */
function toEncodedTarget(target: Target | EncodedTarget): EncodedTarget {
  if (typeof target === 'function' || isModuleTarget(target)) return encodeTarget(target, 'target');
  const encoded = target as Partial<EncodedTarget> | null;
  if (typeof encoded === 'object' && encoded !== null && (encoded.kind === 'source' || encoded.kind === 'module')) return target as EncodedTarget;
  return encodeTarget(target, 'target'); // the TypeError naming `target`
}

/**
 * Runs a target in a (warm) thread and reports its outcome instead of sending errors to the
 * excepthook — for internal users such as Barrier's action, which passes its action already
 * encoded (so a thread that revived a Barrier never has to rebuild the function from its source).
 * @throws TypeError when the target or an argument cannot be sent
 */
export function startTargetThread(target: Target | EncodedTarget, args: unknown[]): { join(): Promise<Outcome>; joinSync(): Outcome } {
  const encodedTarget = toEncodedTarget(target);
  const encodedArgs = encodeArgs(args);
  const name = nextThreadName();
  let outcome: Outcome | undefined;
  const run = new ThreadRun((end) => {
    if (end.kind === 'returned') outcome = { ok: true, value: decodeValue(end.value) };
    else if (end.kind === 'threw') outcome = { ok: false, error: decodeError(end.error) };
    else if (end.crash !== undefined) outcome = { ok: false, error: inThisRealm(end.crash) };
    else {
      const how = end.code === null ? 'its worker exited' : `its worker exited with code ${end.code}`;
      outcome = { ok: false, error: new RuntimeError(`thread ${name} ended before its target returned: ${how}`) };
    }
  });
  run.start({ target: encodedTarget, args: encodedArgs, name, daemon: getCurrentThread().daemon, wantResult: true });
  return {
    async join() {
      await run.waitAsync(FOREVER);
      return outcome!;
    },
    joinSync() {
      run.waitSync(FOREVER);
      return outcome!;
    },
  };
}

/**
 * Terminates every idle worker kept warm for future threads (tests' and benchmarks' teardown, so a
 * process or jest worker exits at once). Not part of the public API.
 */
export function shutdownIdleThreads(): Promise<void> {
  return PooledWorker.shutdownIdle();
}
