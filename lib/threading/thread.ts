/**
 * Thread: Python's `threading.Thread` over Node.js worker threads.
 *
 * How a thread runs. `start()` encodes the target (a function by source, or a `fromModule`
 * reference) and its arguments (shared objects become handles; anything that cannot be sent is a
 * TypeError and nothing starts), takes a worker — an idle one left warm by a finished thread when
 * there is one (`internal/thread/warm-pool.ts`, settable with `warmThreads()`), else a new
 * Worker running `internal/worker/thread-entry` — and posts the run to it. The run's life and
 * joining are `internal/thread/run.ts`: `join`/`joinSync` wake the moment the thread ends, however
 * it ends, and an error the target threw has gone to the excepthook before they return.
 *
 * Daemon threads: the worker is unref'd while running, so a daemon thread never keeps the process
 * alive; a non-daemon thread's worker is ref'd until its target ends.
 *
 * Output: a thread's `console.log` / `process.stdout.write` go straight to the process's file
 * descriptors (internal/worker/direct-stdio.ts), not through this thread's event loop as Node does by
 * default, so no line is lost when the process exits right after, lines appear while this thread is
 * blocked in `joinSync`, and everything a thread printed is out before `join()` returns.
 */
import { inspect } from 'node:util';
import { performance } from 'node:perf_hooks';
import { RuntimeError } from '../errors';
import type { Target, TargetOptions } from '../target';
import { deadlineFor } from '../internal/shm/deadline';
import { checkTimeout, describe } from '../internal/validate';
import { decodeError, encodeArgs, encodeTarget, type EncodedTarget } from '../internal/transport';
import { runPayload } from '../internal/transport/run-payload';
import { captureCallSite, withCallSite, type CallSite } from '../internal/transport/call-site';
import { getCurrentThread, nextThreadName } from '../internal/worker/context';
import { inThisRealm, ThreadRun, type RunEnd, type RunRequest } from '../internal/thread/run';
import { reportThreadException, trackThread, untrackThread } from './current';

/** Options of {@link Thread}: `args` must fit the parameters of `target` (see {@link TargetOptions}). */
export type ThreadOptions<A extends any[] = any[]> = TargetOptions<A> & {
  /** The thread's name; an empty string takes the default too, as in Python. @default 'Thread-N' */
  name?: string;
  /** A daemon thread never keeps the process alive. @default the creating thread's daemon flag */
  daemon?: boolean;
};

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
export class Thread<A extends any[] = any[]> {
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
  /** Where start() was called: shown under the stack of an error the thread throws. */
  #site: CallSite | undefined;

  constructor(options: ThreadOptions<A> = {} as ThreadOptions<A>) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}`);
    }
    const { target, args = [], name, daemon } = options as ThreadOptions;
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
    this.#site = captureCallSite('thread started', Thread.prototype.start, this);
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
    return runPayload(this, Thread.prototype.run, { target: this.#encodedTarget ?? NOOP, args: this.#encodedArgs }, this.#name);
  }

  #onEnd(end: RunEnd): void {
    untrackThread(this);
    const site = this.#site;
    this.#site = undefined; // its frames hold the caller's function and receiver: keep them no longer than the run
    if (end.kind === 'threw') reportThreadException(withCallSite(decodeError(end.error), site), this);
    else if (end.kind === 'died' && end.crash !== undefined) reportThreadException(withCallSite(inThisRealm(end.crash), site), this);
  }
}
