/**
 * Runs an example (examples/<name>.ts) as a child process with tsx, with a deadline, and returns
 * what it printed. The child runs as `node --require tsx/cjs <script>` (what `npx tsx` does, without
 * the extra relay process) in a process group of its own, so that a deadline or an early end of the
 * test kills it together with every thread and child process it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
const TSX_CJS = require.resolve('tsx/cjs', { paths: [ROOT] });

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: string[];
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/** Kills every child still running, with its process group (call from afterEach). */
export function killAll(): void {
  for (const child of running) killGroup(child);
  running.clear();
}

/** Runs `<script> …args` through tsx, rejecting when it takes longer than `deadlineMs`. */
export function runScript(script: string, args: readonly string[] = [], deadlineMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', TSX_CJS, path.join(ROOT, script), ...args], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    running.add(child);
    let stdout = '', stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`${script} did not finish within ${deadlineMs} ms; it printed:\n${stdout}\n${stderr}`));
    }, deadlineMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr, lines: stdout.split('\n').filter((l) => l.length > 0) });
    });
  });
}

/** Runs examples/<name>.ts. */
export const runExample = (name: string, args: readonly string[] = [], deadlineMs?: number): Promise<Run> =>
  runScript(`examples/${name}.ts`, args, deadlineMs);
