/**
 * Runs the CPython counterparts (benchmarks/python/*.py) and reads their JSON.
 *
 * Returns null with a note when python3 is missing, so the run goes on without the CPython rows.
 * The script runs asynchronously: the main thread stays free to serve the HTTP workload that the
 * Python tasks request.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const PYTHON_DIR = path.resolve(__dirname, '../python');

let found: string | null | undefined;

/** The python3 executable with its version ("Python 3.11.7"), or null when there is none. */
export function pythonVersion(): string | null {
  if (found === undefined) {
    const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
    found = probe.status === 0 ? (probe.stdout || probe.stderr).trim() : null;
  }
  return found;
}

/** What a Python script printed: `results` plus the interpreter version. */
export interface PythonOutput<T> {
  readonly results: T;
  readonly python: string;
}

/**
 * Runs `script` with `args`, writes `input` (JSON) to its stdin, and parses its stdout.
 * Its stderr lines (progress) go to `onLine`.
 * @throws Error when the script fails or prints something else than JSON.
 */
export function runPython<T>(script: string, args: readonly string[], input: unknown, onLine: (line: string) => void, timeoutMs: number): Promise<PythonOutput<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [path.join(PYTHON_DIR, script), ...args], { cwd: PYTHON_DIR, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pendingLine = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`python3 ${script} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const lines = (pendingLine + chunk).split('\n');
      pendingLine = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`python3 ${script} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as PythonOutput<T>);
      } catch {
        reject(new Error(`python3 ${script} printed no JSON: ${stdout.slice(0, 200)}`));
      }
    });
    child.stdin.end(JSON.stringify(input ?? {}));
  });
}
