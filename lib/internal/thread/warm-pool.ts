/**
 * The warm workers of threadkit's Threads: the workers that run `internal/worker/thread-entry`, one
 * run at a time, and the pool of idle ones that a finished run leaves behind for the next Thread.
 *
 * Why: starting a Worker costs tens of milliseconds (a fresh V8 isolate and Node environment, then
 * the entry's modules); posting a run to an idle worker costs tens of microseconds. A worker whose
 * run ended goes back to the pool (at most `max`), unref'd so that it never keeps the process alive,
 * and is terminated after `idleTimeout` ms idle. Both are settable ({@link configureWarmWorkers},
 * public as `warmThreads()`), and workers can be started ahead of need (`prestart`), so that even
 * the first Threads of a program find one warm. A worker that exited (its target called
 * `process.exit()`, it crashed, it was terminated) is never reused. Module state a target leaves in
 * its worker (globals, module caches) may be seen by a later thread that reuses the worker, as with
 * any thread pool.
 *
 * Protocol and state words: `internal/worker/thread-protocol.ts`.
 */
import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { encodeError, workerEntry, type EncodedError } from '../transport';
import { track, type TrackedResource } from '../tracking';
import { threadNameCounter } from '../worker/context';
import type { DoneMessage, RunMessage, ThreadWorkerData } from '../worker/thread-protocol';

/** An idle worker is terminated after this long without a thread to run, by default. */
export const DEFAULT_IDLE_TIMEOUT_MS = 5_000;
/** At most this many idle workers are kept warm, by default. */
export const DEFAULT_MAX_IDLE = 8;

/** How one run of a target in a worker ended. */
export type RunEnd =
  | { readonly kind: 'returned'; readonly value: unknown }
  | { readonly kind: 'threw'; readonly error: EncodedError }
  | { readonly kind: 'died'; readonly code: number | null; readonly crash: unknown };

/** What a worker reports to the run it was given (`run.ts`). */
export interface RunListener {
  /** The run ended (called once per run). */
  end(end: RunEnd): void;
  /** After the run ended, a callback it left behind threw and killed the worker. */
  lateCrash(crash: unknown): void;
}

/** The warm pool's settings (see the header). */
export interface WarmSettings {
  /** Milliseconds an idle worker stays warm; Infinity: until the process ends. */
  readonly idleTimeout: number;
  /** Idle workers kept, at most. */
  readonly max: number;
}

let settings: WarmSettings = { idleTimeout: DEFAULT_IDLE_TIMEOUT_MS, max: DEFAULT_MAX_IDLE };

/** Warm workers waiting for a thread, most recently used last. */
const idle: PooledWorker[] = [];

/**
 * A worker running the thread entry, reused by successive runs.
 * Invariant: `#run` is the run posted to it and not yet ended; a worker is in `idle` only when
 * `#run` is null and it has not exited.
 */
export class PooledWorker {
  readonly #worker: Worker;
  /** The worker's threadId (read once: it becomes -1 after exit). */
  readonly ident: number;
  /** This thread's end of the private channel; unref'd, liveness is the worker's ref. */
  readonly #port: MessagePort;
  #run: RunListener | null = null;
  /** The last run, to report an error thrown by a callback it left behind after it ended. */
  #last: RunListener | null = null;
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

  /** Starts workers until `count` are idle (they boot in the background, unref'd). */
  static prestart(count: number): void {
    for (let i = idle.length; i < Math.min(count, settings.max); i++) new PooledWorker().#toIdle();
  }

  /** Terminates every idle worker. */
  static async shutdownIdle(): Promise<void> {
    const workers = idle.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  /** Posts a run; the worker must be idle. */
  start(run: RunListener, message: RunMessage): void {
    this.#run = run;
    this.#last = run;
    this.#census.idle = false;
    this.#census.label = `thread ${message.name} (worker ${this.ident})`;
    if (message.daemon) this.#worker.unref();
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

  /** An idle worker taken out of the pool goes back with a fresh idle timer (the settings changed). */
  rearm(): void {
    clearTimeout(this.#idleTimer);
    this.#toIdle();
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
    if (idle.length >= settings.max) {
      void this.#worker.terminate();
      return;
    }
    idle.push(this);
    if (settings.idleTimeout !== Infinity) {
      this.#idleTimer = setTimeout(() => this.#expire(), settings.idleTimeout);
      this.#idleTimer.unref();
    }
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

/**
 * Changes the warm pool's settings (those not given stay) and returns them with the number of
 * workers idle now. Lowering `max` or `idleTimeout` ends the idle workers beyond the new limits at
 * once; `prestart` starts workers until that many are idle (or `max`).
 */
export function configureWarmWorkers(change: { readonly idleTimeout?: number; readonly max?: number; readonly prestart?: number }): WarmSettings & { readonly idle: number } {
  settings = { idleTimeout: change.idleTimeout ?? settings.idleTimeout, max: change.max ?? settings.max };
  for (const worker of idle.splice(settings.max)) void worker.terminate();
  if (change.idleTimeout !== undefined) {
    // Re-arm the idle workers' timers with the new timeout, counted from now.
    for (const worker of idle.splice(0)) worker.rearm();
  }
  if (change.prestart !== undefined && change.prestart > 0) PooledWorker.prestart(change.prestart);
  return { ...settings, idle: idle.length };
}

/** Terminates every idle worker (tests' and benchmarks' teardown, so a process or jest worker exits at once). */
export function shutdownIdleThreads(): Promise<void> {
  return PooledWorker.shutdownIdle();
}
