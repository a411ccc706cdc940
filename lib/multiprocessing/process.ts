/**
 * Process: Python's `multiprocessing.Process` over Node.js child processes.
 *
 * How a process runs. The constructor checks and encodes the target (a function by source, or a
 * `fromModule` reference) and its arguments (threadkit's multiprocessing objects become handles;
 * anything that cannot be sent to another process is a TypeError and nothing starts). `start()` forks
 * a Node.js child running `internal/worker/process-target-entry` (the compiled JavaScript when the
 * package is built) and sends it the run; the child calls the target and ends when nothing is left
 * to do. It shares the child-process core (`internal/child`) with the process pools.
 *
 * Life. NEW → started (pid set) → ended (exitcode set) → closed. The child is reaped by libuv as
 * soon as this thread's event loop turns after it exits, whether or not anyone joins it, so no
 * finished child is left a zombie; while the loop is blocked (`joinSync`, a long synchronous
 * stretch) the end is read from /proc, so `joinSync`, `isAlive()` and `exitcode` see it at once.
 *
 * Exit codes, as Python's: 0; 1 when the target threw (the error is printed to the child's stderr
 * after `Process <name>:`); n when it called `process.exit(n)`; -N when signal N ended it.
 *
 * Daemons. A non-daemon child keeps this process alive until it ends (Python: the parent joins its
 * children at exit). A daemon child does not; it is sent SIGTERM when this process exits first
 * (Python's atexit), and it ends by itself when its parent ends in any other way, even by SIGKILL:
 * its IPC channel is its lifeline (internal/child/death-watch.ts). Every child of a daemon process
 * has a lifeline too, so a daemon's whole subtree ends with it. (Python refuses to let a daemon
 * process start children; threadkit allows it, with that guarantee.)
 *
 * Signals: `terminate()` sends SIGTERM, `kill()` SIGKILL; `process.kill(p.pid, signal)` sends any
 * other, and the target may install its own handlers (`process.on('SIGTERM', …)`).
 */
import { inspect } from 'node:util';
import { constants } from 'node:os';
import { RuntimeError, ValueError } from '../errors';
import type { Target, TargetOptions } from '../target';
import { deadlineFor } from '../internal/shm/deadline';
import { checkTimeout, describe } from '../internal/validate';
import { encodeArgs, encodeTarget, type EncodedTarget } from '../internal/transport';
import { runPayload } from '../internal/transport/run-payload';
import { Child, childConfig, nextIdentity } from '../internal/child/child';
import { exitCodeOf } from '../internal/child/proc-status';
import { processIdentity } from '../internal/child/identity';
import type { RunMessage } from '../internal/child/run-message';
import { trackChild, untrackChild } from './current';

/** Options of {@link Process}: `args` must fit the parameters of `target` (see {@link TargetOptions}). */
export type ProcessOptions<A extends any[] = any[]> = TargetOptions<A> & {
  /** The process's name; an empty string takes the default too, as in Python. @default '<Class>-N' ('Process-1', 'Process-1:2' in a child) */
  name?: string;
  /** A daemon child never keeps this process alive and ends when it ends. @default the current process's daemon flag */
  daemon?: boolean;
};

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [-number, name]));

/**
 * A function running in a child process, with Python's `multiprocessing.Process` life cycle.
 *
 * `start()` runs the target (or an overriding `run()`) in a new Node.js process; `join()` /
 * `joinSync()` wait for it to end, however it ends; `exitcode` says how. The target is
 * self-contained: it gets its arguments — cloned values, and threadkit's multiprocessing objects as
 * working instances over the same shared memory — not the variables of the enclosing scope. A
 * subclass may override `run()`; it is sent by source, with the instance's own fields as `this`
 * (so they must be cloneable or multiprocessing objects; `super` calls and the class's other
 * methods are not available there). The child inherits this process's environment, stdout and
 * stderr; its stdin is /dev/null.
 *
 * @example
 * const p = new Process({ target: (name: string) => console.log(`hello ${name}`), args: ['bob'] });
 * p.start();
 * await p.join();
 * p.exitcode; // 0
 *
 * @throws TypeError from the constructor when an option has the wrong type, the target is not a
 *   sendable function or fromModule reference, or an argument cannot be sent to another process
 */
export class Process<A extends any[] = any[]> {
  /** The target as given, for `run()` in this process; dropped at start(). */
  #target: Target<A> | undefined;
  #args: readonly unknown[];
  #encodedTarget: EncodedTarget | undefined;
  #encodedArgs: unknown[];
  readonly #identity: readonly number[];
  #name: string;
  #daemon: boolean;
  #child: Child | null = null;
  #closed = false;

  constructor(options: ProcessOptions<A> = {} as ProcessOptions<A>) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}`);
    }
    const { target, args = [], name, daemon } = options as { target?: Target<A>; args?: unknown[]; name?: unknown; daemon?: unknown };
    if (target !== undefined) this.#encodedTarget = encodeTarget(target, 'target');
    if (!Array.isArray(args)) throw new TypeError(`Expected \`args\` to be an array, got ${describe(args)}`);
    if (name !== undefined && typeof name !== 'string') throw new TypeError(`Expected \`name\` to be a string, got ${describe(name)}`);
    if (daemon !== undefined && typeof daemon !== 'boolean') throw new TypeError(`Expected \`daemon\` to be a boolean, got ${describe(daemon)}`);
    this.#encodedArgs = encodeArgs(args, { crossProcess: true });
    this.#target = target;
    this.#args = args;
    this.#identity = nextIdentity();
    // Python: `name or type(self).__name__ + '-' + ':'.join(identity)`.
    this.#name = name === undefined || name === '' ? `${new.target.name}-${this.#identity.join(':')}` : name;
    this.#daemon = daemon ?? processIdentity().daemon;
  }

  /** The process's name; may be changed at any time (the child keeps the name it started with). */
  get name(): string {
    return this.#name;
  }

  set name(value: string) {
    if (typeof value !== 'string') throw new TypeError(`Expected \`name\` to be a string, got ${describe(value)}`);
    this.#name = value;
  }

  /** A daemon child never keeps this process alive, and ends when this process ends; settable before `start()`. */
  get daemon(): boolean {
    return this.#daemon;
  }

  set daemon(value: boolean) {
    if (typeof value !== 'boolean') throw new TypeError(`Expected \`daemon\` to be a boolean, got ${describe(value)}`);
    if (this.#child !== null) throw new RuntimeError('process has already started');
    this.#daemon = value;
  }

  /**
   * The child's pid once started, else null.
   * @throws ValueError after close()
   */
  get pid(): number | null {
    this.#checkClosed();
    return this.#child?.pid ?? null;
  }

  /**
   * null until the child has ended; then 0, 1 if the target threw, n for `process.exit(n)`, -N when
   * signal N ended it.
   * @throws ValueError after close()
   */
  get exitcode(): number | null {
    this.#checkClosed();
    const status = this.#child?.peekExit();
    return status === undefined ? null : exitCodeOf(status);
  }

  /**
   * Starts the child process, which runs `run()`.
   * @throws RuntimeError when called twice; ValueError after close()
   * @throws TypeError when an overriding `run()` or one of the instance's fields cannot be sent
   */
  start(): void {
    this.#checkClosed();
    if (this.#child !== null) throw new RuntimeError('cannot start a process twice');
    const payload = runPayload(this, Process.prototype.run, { target: this.#encodedTarget ?? NOOP, args: this.#encodedArgs }, this.#name, { crossProcess: true });
    const child = new Child({
      entry: 'process-target-entry',
      config: childConfig('Process', { daemon: this.#daemon, name: this.#name, identity: this.#identity }),
      label: `Process ${this.#name}`,
      signalAtExit: this.#daemon ? 'SIGTERM' : null,
      onGone: () => untrackChild(this),
    });
    if (child.pid === undefined) throw new Error(`cannot start process ${this.#name}: the fork failed`);
    try {
      child.send({ type: 'run', ...payload } satisfies RunMessage);
    } catch (error) {
      // Checked by the encoders, so unexpected: end the child rather than leave it waiting.
      child.signal('SIGKILL');
      throw new TypeError(`the process's target or arguments cannot be sent to another process: ${(error as Error).message}`);
    }
    child.keepAlive(!this.#daemon);
    this.#child = child;
    // Python drops them at start, so that the target can be collected while the child runs.
    this.#target = undefined;
    this.#args = [];
    this.#encodedTarget = undefined;
    this.#encodedArgs = [];
    trackChild(this);
  }

  /**
   * What the process does: calls the target with the arguments. Override it in a subclass; the
   * override runs in the child (sent by source, with the instance's own fields as `this`).
   * Called directly, it runs a function target in the calling process, as in Python.
   * @throws RuntimeError when called directly for a fromModule target (it runs only in a started process)
   */
  run(): unknown {
    const target = this.#target;
    if (target === undefined) return undefined;
    if (typeof target !== 'function') throw new RuntimeError('a fromModule() target runs only in a started process; call start()');
    return (target as (...args: unknown[]) => unknown)(...this.#args);
  }

  /**
   * Waits until the child has ended (and been reaped), or `timeout` ms pass.
   * @returns true when it has ended (Python's `join` returns None; look at `exitcode` there)
   * @throws RuntimeError (rejects) before start(); ValueError after close(); RangeError for a negative or NaN timeout
   */
  async join(timeout?: number): Promise<boolean> {
    const deadline = this.#joinDeadline(timeout);
    const ended = await this.#child!.waitGone(deadline);
    if (ended) untrackChild(this);
    return ended;
  }

  /**
   * As {@link join}, blocking the calling thread until the child has exited (its end is read from
   * /proc, looking every few milliseconds; Linux only). The event loop reaps the child on its next turn.
   * @throws RuntimeError before start() (or without /proc); ValueError after close(); RangeError for a negative or NaN timeout
   */
  joinSync(timeout?: number): boolean {
    const deadline = this.#joinDeadline(timeout);
    return this.#child!.waitSync(deadline) !== undefined;
  }

  /**
   * True from `start()` until the child exits.
   * @throws ValueError after close()
   */
  isAlive(): boolean {
    this.#checkClosed();
    return this.#child !== null && this.#child.peekExit() === undefined;
  }

  /**
   * Asks the child to end: sends SIGTERM (its exitcode becomes -15 unless it handles the signal).
   * No effect once it has ended.
   * @throws RuntimeError before start(); ValueError after close()
   */
  terminate(): void {
    this.#started('terminate').signal('SIGTERM');
  }

  /**
   * Ends the child at once: sends SIGKILL (exitcode -9). No effect once it has ended.
   * @throws RuntimeError before start(); ValueError after close()
   */
  kill(): void {
    this.#started('kill').signal('SIGKILL');
  }

  /**
   * Releases what the object holds of the child. Afterwards every method and property but `name`
   * and `daemon` throws ValueError; calling close() again does nothing.
   * @throws RuntimeError while the child is still running
   */
  close(): void {
    if (this.#closed) return;
    if (this.#child !== null) {
      if (this.#child.peekExit() === undefined) {
        throw new RuntimeError('cannot close a process while it is still running; join() or terminate() it first');
      }
      untrackChild(this);
      this.#child = null;
    }
    this.#closed = true;
  }

  [inspect.custom](): string {
    const info = [`name=${JSON.stringify(this.#name)}`];
    let status: string;
    let exitcode: number | null = null;
    if (this.#closed) status = 'closed';
    else if (this.#child === null) status = 'initial';
    else {
      info.push(`pid=${this.#child.pid}`);
      exitcode = this.exitcode;
      status = exitcode === null ? 'started' : 'stopped';
    }
    info.push(`parent=${process.pid}`, status);
    if (exitcode !== null) info.push(`exitcode=${SIGNAL_NAMES.get(exitcode) ?? exitcode}`);
    if (this.#daemon) info.push('daemon');
    return `<${this.constructor.name} ${info.join(' ')}>`;
  }

  #checkClosed(): void {
    if (this.#closed) throw new ValueError('process object is closed');
  }

  #started(what: string): Child {
    this.#checkClosed();
    if (this.#child === null) throw new RuntimeError(`cannot ${what} a process before it is started`);
    return this.#child;
  }

  #joinDeadline(timeout: unknown): number {
    this.#checkClosed();
    checkTimeout(timeout);
    this.#started('join');
    return deadlineFor(timeout);
  }
}

const NOOP: EncodedTarget = encodeTarget(() => undefined);
