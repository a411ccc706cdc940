/**
 * Runs a command for the package test with a deadline, in a process group of its own, so that a
 * deadline (or the end of the test file) kills it together with every worker and child it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock milliseconds. */
  readonly ms: number;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/** Kills every command still running, with its process group (call from afterAll). */
export function killAll(): void {
  for (const child of running) killGroup(child);
  running.clear();
}

/**
 * The environment for commands: this one without the variables that `npm test` exports to its
 * script (`npm_config_*`, `npm_lifecycle_*`, …), which would otherwise steer the nested npm.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  return { ...env, FORCE_COLOR: '0', NO_UPDATE_NOTIFIER: '1', ...extra };
}

/** Runs `command args…` in `cwd`; rejects when it outlives `deadlineMs` (after killing it). */
export function run(command: string, args: readonly string[], cwd: string, deadlineMs: number, env = cleanEnv()): Promise<Ran> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '', stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${deadlineMs} ms; it printed:\n${stdout}\n${stderr}`));
    }, deadlineMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** As {@link run}, failing with everything it printed unless it exits with 0. */
export async function runOk(command: string, args: readonly string[], cwd: string, deadlineMs: number, env?: NodeJS.ProcessEnv): Promise<Ran> {
  const ran = await run(command, args, cwd, deadlineMs, env);
  if (ran.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${ran.code}:\n${ran.stdout}\n${ran.stderr}`);
  }
  return ran;
}
