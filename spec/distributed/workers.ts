/**
 * Distributed workers for the specs: `threadkit worker` processes (the CLI, run from the
 * TypeScript sources through tsx), as a worker machine would run them, on the spec's own Redis.
 * Each is stopped by `stop()` (SIGTERM, then SIGKILL after a deadline) or `kill()`; a process-exit
 * hook kills any the spec forgot, so a failed run leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'lib/distributed/cli.ts');
const TSX = require.resolve('tsx/cjs');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface WorkerOptions {
  readonly redis: string;
  readonly queue: string;
  readonly secret: string;
  readonly concurrency?: number;
  readonly threads?: boolean;
  readonly lockDuration?: number;
  /** Working directory (where module specifiers of `fromModule` targets are resolved). */
  readonly cwd?: string;
}

export class WorkerProcess {
  readonly child: ChildProcess;
  #output = '';
  #watchers: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess) {
    this.child = child;
    const collect = (chunk: Buffer): void => {
      this.#output += chunk.toString();
      for (const watcher of [...this.#watchers]) watcher();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
        for (const watcher of [...this.#watchers]) watcher();
      }),
    );
  }

  /** Runs `threadkit worker` with `args` (no defaults) and `env`; does not wait for it to serve. */
  static spawn(args: readonly string[], env: NodeJS.ProcessEnv, cwd = ROOT): WorkerProcess {
    const child = spawn(process.execPath, ['--require', TSX, CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    return new WorkerProcess(child);
  }

  /** Starts a worker and waits until it serves its queue. */
  static async start(options: WorkerOptions): Promise<WorkerProcess> {
    const args = ['worker', '--redis', options.redis, '--queue', options.queue, '--concurrency', String(options.concurrency ?? 2)];
    if (options.threads) args.push('--threads');
    if (options.lockDuration !== undefined) args.push('--lock-duration', String(options.lockDuration));
    const env: NodeJS.ProcessEnv = { ...process.env, THREADKIT_SECRET: options.secret };
    delete env.THREADKIT_REDIS;
    const worker = WorkerProcess.spawn(args, env, options.cwd);
    try {
      await worker.waitFor(/serving queue/, START_TIMEOUT_MS);
    } catch (error) {
      await worker.kill();
      throw error;
    }
    return worker;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything it printed so far. */
  get output(): string {
    return this.#output;
  }

  /** Resolves once its output matches `pattern`; rejects after `timeout` ms or when it exits first. */
  waitFor(pattern: RegExp, timeout = START_TIMEOUT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`worker did not print ${pattern} within ${timeout} ms; it printed: ${this.#output.trim()}`)), timeout);
      const check = (): void => {
        if (pattern.test(this.#output)) done();
        else if (this.child.exitCode !== null || this.child.signalCode !== null) done(new Error(`worker exited before printing ${pattern}: ${this.#output.trim()}`));
      };
      const done = (error?: Error): void => {
        clearTimeout(timer);
        this.#watchers = this.#watchers.filter((w) => w !== check);
        if (error) reject(error);
        else resolve();
      };
      this.#watchers.push(check);
      check();
    });
  }

  /** SIGTERM, and waits for the exit (SIGKILL after a deadline). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once `predicate()` holds, checking at each `setImmediate`-spaced poll; rejects after `timeout` ms. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
