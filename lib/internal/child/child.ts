/**
 * One child process that threadkit forked, seen from its parent: the life-cycle machinery that a
 * `multiprocessing.Process` and every process-pool worker share. Its owner decides what to send and
 * what the child's end means; this class forks it, watches it, keeps (or stops keeping) the parent
 * alive for it, signals it, and reports its end exactly once.
 *
 * Life: running → exited → gone.
 * - `'exit'`: libuv has reaped the child (waitpid on SIGCHLD, on this thread's event loop, whether or
 *   not anyone joins it — so no finished child is left a zombie once the loop turns). The status
 *   is known from here on.
 * - `'disconnect'`: the IPC channel has delivered every message the child sent. `'exit'` can come
 *   before the last messages, so the child is *gone* only once both happened. (`'close'` would
 *   combine the two, but Node does not emit it when the parent disconnected first.) When a process
 *   that inherited the channel keeps it open after the child exited, our end is closed after
 *   {@link CHANNEL_GRACE_MS} and its `'disconnect'` completes the end.
 * - A failed spawn emits `'error'` and no `'exit'`: it is gone at once, with no status.
 * Between a child's exit and the event loop's next turn the child is a zombie; {@link Child.peekExit}
 * reads its status from /proc meanwhile, so synchronous code (`joinSync`, `isAlive`) sees the end
 * at once.
 *
 * Keeping the parent alive: the child's process handle and its channel are referenced together,
 * while the owner says so ({@link Child.keepAlive}) or while someone awaits the child's end (so that
 * an awaited join or kill is never cut short by an event loop with nothing else to do).
 *
 * When this thread exits while the child runs, it is sent {@link ChildOptions.signalAtExit}, if any
 * (Python terminates daemonic children at exit); children with a lifeline also see their channel
 * close when this process ends, however it ends (death-watch.ts).
 *
 * Threads: a child is reaped by the event loop of the thread that forked it. A worker thread that
 * is terminated while its child runs leaves that child to nobody until this process ends (libuv
 * waits only for the children of live loops); its daemon children are sent their signal at the
 * worker's exit, and non-daemon ones keep the worker's loop alive, so only `terminate()` of a
 * worker (or its `process.exit()`) can lose one.
 *
 * Census: every child is in the library's census (`internal/tracking`) until it is gone, so that
 * teardown and the test suite's leak check can find it and kill it.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { RuntimeError } from '../../errors';
import { track, type TrackedResource } from '../tracking';
import { nextProcessNumber } from '../worker/context';
import type { ChildConfig } from './config';
import { processIdentity } from './identity';
import { HAVE_PROC, zombieStatus, type ExitStatus } from './proc-status';
import { spawnChild } from './spawn';
import { fromChannel, toChannel, type ChannelKind } from './channel';
import { sleepBlocking } from '../shm/block';

export type { ExitStatus };

/** How long a child that has exited may keep its IPC channel open (a grandchild holding it) before we close it. */
const CHANNEL_GRACE_MS = 1000;

/** Longest sleep between two looks at a child's state in {@link Child.waitSync}. */
const MAX_POLL_MS = 5;

export interface ChildOptions {
  /** Basename of the entry file in `internal/worker/`. */
  readonly entry: string;
  /** What the child knows at startup (its name, identity, lifeline). */
  readonly config: ChildConfig;
  /** Extra Node flags. */
  readonly execArgv?: readonly string[];
  /** Names the child in the census: "<label> <pid>". */
  readonly label: string;
  /** Sent to the child when this thread exits while the child runs; null sends nothing. */
  readonly signalAtExit: NodeJS.Signals | null;
  /** Messages from the child. */
  readonly onMessage?: (message: unknown) => void;
  /** The child is gone (see above); called once, after `exited` resolved. */
  readonly onGone?: (status: ExitStatus | null) => void;
}

/** A new child's number among this process's children, appended to this process's identity (Python's `_identity`). */
export function nextIdentity(): number[] {
  return [...processIdentity().identity, nextProcessNumber()];
}

/**
 * The startup config of a new child of this process. It has a lifeline when it is a daemon, and
 * when this process has one (so that a subtree below a daemon ends with it).
 * @param prefix of the default name, '<prefix>-<identity>' (Python: the class name)
 */
export function childConfig(prefix: string, options: { daemon: boolean; name?: string; identity?: readonly number[]; channel?: ChannelKind }): ChildConfig {
  const self = processIdentity();
  const identity = options.identity ?? nextIdentity();
  return {
    parentPid: process.pid,
    parentName: self.name,
    name: options.name ?? `${prefix}-${identity.join(':')}`,
    daemon: options.daemon,
    identity,
    lifeline: options.daemon || self.lifeline,
    channel: options.channel ?? 'advanced',
  };
}

/** Children to signal when this thread exits. */
const signalledAtExit = new Map<Child, NodeJS.Signals>();
let exitHookInstalled = false;

function signalAtExit(child: Child, signal: NodeJS.Signals): void {
  signalledAtExit.set(child, signal);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: the signals are sent, nobody waits for them. The children
  // are adopted by init (or a subreaper) when this process is gone, which reaps them.
  process.on('exit', () => {
    for (const [each, sig] of signalledAtExit) each.signal(sig);
  });
}


/** A forked child process and its life (see above). */
export class Child {
  readonly #child: ChildProcess;
  readonly #onGone: ((status: ExitStatus | null) => void) | undefined;
  readonly #census: { -readonly [K in keyof TrackedResource]: TrackedResource[K] };
  readonly #untrack: () => void;
  /** Resolves when the child is gone, with its status (null after a failed spawn). */
  readonly exited: Promise<ExitStatus | null>;
  #resolveExited!: (status: ExitStatus | null) => void;
  /** From 'exit'. */
  #status: ExitStatus | undefined;
  #gone = false;
  /** The owner's wish; the handles are also referenced while {@link #waiters} > 0. */
  #keepAlive = true;
  #waiters = 0;
  #referenced = true;
  readonly #channel: ChannelKind;

  constructor(options: ChildOptions) {
    this.#onGone = options.onGone;
    this.exited = new Promise((resolve) => (this.#resolveExited = resolve));
    this.#channel = options.config.channel;
    this.#child = spawnChild(options.entry, options.config, options.execArgv);
    const child = this.#child;
    this.#census = { kind: 'process', label: `${options.label} ${child.pid ?? '(not started)'}`, idle: false, kill: () => this.kill() };
    this.#untrack = track(this.#census);
    if (options.signalAtExit !== null) signalAtExit(this, options.signalAtExit);

    child.on('exit', (code, signal) => {
      this.#status = { code, signal };
      if (!child.connected) return this.#goneNow();
      // Normally 'disconnect' follows at once; if a process that inherited the channel keeps it
      // open, close our end after a grace period (its 'disconnect' then completes the end).
      setTimeout(() => {
        if (child.connected) child.disconnect();
      }, CHANNEL_GRACE_MS);
    });
    child.on('disconnect', () => {
      if (this.#status !== undefined) this.#goneNow();
    });
    child.on('error', () => {
      // A failed spawn emits 'error' and no 'exit'; a failed send is followed by 'exit' anyway.
      if (child.pid === undefined) this.#goneNow();
    });
    const onMessage = options.onMessage;
    if (onMessage !== undefined) child.on('message', (received) => onMessage(fromChannel(received, this.#channel)));
  }

  /** The child's pid; undefined when the spawn failed. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True while the IPC channel is open. */
  get connected(): boolean {
    return this.#child.connected;
  }

  /** True once the child is gone (reaped, channel drained). */
  get gone(): boolean {
    return this.#gone;
  }

  /** Whether the census may end it without calling it a leak (an idle pool worker). */
  set idle(idle: boolean) {
    this.#census.idle = idle;
  }

  /**
   * Sends a message on the channel; nothing when the channel is closed (the child is ending; its
   * end is reported anyway). A send racing the child's death emits 'error' (ignored above).
   * @throws what `v8.serialize` throws for a value that cannot be sent
   */
  send(message: unknown): void {
    if (this.#child.connected) this.#child.send(toChannel(message, this.#channel) as never);
  }

  /** Closes the channel (the child's death watch then ends it: a pool retiring its worker). */
  disconnect(): void {
    if (this.#child.connected) this.#child.disconnect();
  }

  /** Whether this child keeps the parent alive while it runs (the owner's choice). */
  keepAlive(keep: boolean): void {
    this.#keepAlive = keep;
    this.#applyRefs();
  }

  /** Sends `signal` unless the child has been reaped (its pid may belong to another process then). */
  signal(signal: NodeJS.Signals): void {
    if (this.#status === undefined && this.#child.pid !== undefined) {
      try {
        this.#child.kill(signal);
      } catch {
        // exited meanwhile (ESRCH)
      }
    }
  }

  /** Ends the child at once (SIGKILL) and resolves when it is gone. */
  kill(): Promise<ExitStatus | null> {
    this.signal('SIGKILL');
    return this.#await(this.exited);
  }

  /** How the child ended, once it has: also while it is a zombie not yet reaped by this event loop. */
  peekExit(): ExitStatus | undefined {
    if (this.#status !== undefined) return this.#status;
    const pid = this.#child.pid;
    if (pid === undefined) return this.#gone ? { code: null, signal: null } : undefined;
    return HAVE_PROC ? zombieStatus(pid) : undefined;
  }

  /**
   * Waits until the child is gone or `deadline` (on `performance.now()`) passes, keeping the parent alive meanwhile.
   * @returns true when it is gone
   */
  async waitGone(deadline: number): Promise<boolean> {
    if (this.#gone) return true;
    if (deadline !== Infinity && deadline <= performance.now()) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = deadline === Infinity ? new Promise<never>(() => {}) : new Promise<void>((resolve) => (timer = setTimeout(resolve, deadline - performance.now())));
    try {
      await this.#await(Promise.race([this.exited, timedOut]));
    } finally {
      clearTimeout(timer);
    }
    return this.#gone;
  }

  /**
   * Blocks this thread until the child has exited or `deadline` passes. The event loop does not
   * turn meanwhile, so the child is not reaped yet: its status is read from /proc, looking again
   * after sleeps that double from 50 µs up to {@link MAX_POLL_MS} (a waitpid would steal libuv's
   * reaping; no file descriptor of a child becomes readable when it exits).
   * @returns its status, or undefined at the deadline
   * @throws RuntimeError where there is no /proc (only Linux can wait synchronously)
   */
  waitSync(deadline: number): ExitStatus | undefined {
    let slice = 0.05;
    for (;;) {
      const status = this.peekExit();
      if (status !== undefined) return status;
      if (!HAVE_PROC) throw new RuntimeError('waiting synchronously for a child process needs /proc (Linux); await join() instead');
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      sleepBlocking(Math.min(slice, left));
      slice = Math.min(slice * 2, MAX_POLL_MS);
    }
  }

  /** Awaits `promise` with the child's handles referenced, so that the event loop cannot end first. */
  async #await<T>(promise: Promise<T>): Promise<T> {
    this.#waiters++;
    this.#applyRefs();
    try {
      return await promise;
    } finally {
      this.#waiters--;
      this.#applyRefs();
    }
  }

  #applyRefs(): void {
    const referenced = this.#keepAlive || this.#waiters > 0;
    if (referenced === this.#referenced || this.#gone) return;
    this.#referenced = referenced;
    const channel = this.#child.channel as { ref?(): void; unref?(): void } | null | undefined;
    if (referenced) {
      this.#child.ref();
      channel?.ref?.();
    } else {
      this.#child.unref();
      channel?.unref?.();
    }
  }

  #goneNow(): void {
    if (this.#gone) return;
    this.#gone = true;
    signalledAtExit.delete(this);
    this.#untrack();
    const status = this.#status ?? null;
    this.#resolveExited(status);
    this.#onGone?.(status);
  }
}
