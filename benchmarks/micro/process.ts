/**
 * Micro benchmarks of multiprocessing.Process, registered in benches.ts's MICRO list:
 *
 * - process-start-join: one Process started and joined, again and again (median), with a target
 *   that does nothing: the cost of a child process to the user. A daemon child also arms the
 *   native death watch (it loads the addon and starts its watcher thread): a row of its own.
 * - process-many: 100 Processes started at once, then all joined: total time.
 *
 * Side by side: threadkit run from the build (`npm run build`: the child loads compiled JavaScript,
 * no TypeScript loader), threadkit run from its TypeScript sources (tsx in every child), a bare
 * `child_process.fork` of an empty script (the floor: a Node.js boot), and CPython 3.11 with its
 * default "fork" start method (no new interpreter: a copy of the parent) and with "spawn" (a fresh
 * interpreter, as every Node.js child is). See benchmarks/python/processes.py.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { median } from '../lib/measure';
import type { MicroRow } from '../lib/results';
import { pool, reason } from '../lib/threadkit';
import { within } from '../lib/within';
import type { MicroContext, MicroDef } from './benches';

type ProcessClass = typeof import('threadkit/multiprocessing').Process;

const ROOT = path.resolve(__dirname, '../..');
const BUILT = path.join(ROOT, 'dist', 'multiprocessing', 'index.js');
/** Longest a row may take. */
const ROW_LIMIT_MS = 300_000;

/** Starts and joins counts of one side. */
const sizes = (quick: boolean): { starts: number; many: number } => (quick ? { starts: 5, many: 20 } : { starts: 20, many: 100 });

/** The Process class of the build, or why it cannot be used. */
function builtProcess(): ProcessClass {
  if (!fs.existsSync(BUILT)) throw new Error('no build: run `npm run build` first');
  return (require(BUILT) as { Process: ProcessClass }).Process;
}

const sourceProcess = async (): Promise<ProcessClass> => (await pool()).Process;

async function startJoin(Process: ProcessClass, n: number, daemon = false): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n + 1; i++) {
    const t0 = performance.now();
    const p = new Process({ target: () => undefined, daemon });
    p.start();
    await p.join();
    if (p.exitcode !== 0) throw new Error(`a child exited with ${p.exitcode}`);
    if (i > 0) times.push(performance.now() - t0); // the first one warms up
  }
  return median(times);
}

async function many(Process: ProcessClass, n: number): Promise<number> {
  const t0 = performance.now();
  const procs = Array.from({ length: n }, () => new Process({ target: () => undefined }));
  for (const p of procs) p.start();
  for (const p of procs) await p.join();
  const ms = performance.now() - t0;
  if (!procs.every((p) => p.exitcode === 0)) throw new Error(`exit codes: ${procs.map((p) => p.exitcode).join(' ')}`);
  return ms;
}

/** A bare fork of an empty script with an IPC channel, to its exit: what any Node.js child costs. */
function bareFork(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

async function withEmptyScript<T>(use: (file: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tk-bench-'));
  const file = path.join(dir, 'empty.js');
  fs.writeFileSync(file, '');
  try {
    return await use(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function row(bench: string, impl: string, threadkit: boolean, measure: () => Promise<number>, note?: string): Promise<MicroRow> {
  try {
    return { bench, impl, threadkit, value: await within(measure(), ROW_LIMIT_MS, `${impl} (${bench})`), ...(note ? { note } : {}) };
  } catch (error) {
    return { bench, impl, threadkit, value: null, error: reason(error) };
  }
}

function python(ctx: MicroContext, bench: string, impl: string, field: string, note?: string): MicroRow[] {
  if (!ctx.python) return [];
  const value = ctx.python.process?.[field];
  if (typeof value !== 'number') return [{ bench, impl, threadkit: false, value: null, error: `processes.py gave no ${field}` }];
  return [{ bench, impl, threadkit: false, value, ...(note ? { note } : {}) }];
}

export const PROCESS_MICRO: readonly MicroDef[] = [
  {
    id: 'process-start-join', title: 'Process start→join, a target that does nothing', unit: 'ms', better: 'lower', python: ['process'],
    run: async (ctx) => {
      const { starts } = sizes(ctx.quick);
      return [
        await row('process-start-join', 'threadkit Process (built JS)', true, async () => startJoin(builtProcess(), starts), 'median'),
        await row('process-start-join', 'threadkit Process, daemon (built JS; the death watch loads the addon)', false, async () => startJoin(builtProcess(), starts, true), 'median'),
        await row('process-start-join', 'threadkit Process (TS sources, tsx in the child)', false, async () => startJoin(await sourceProcess(), starts), 'median'),
        await row('process-start-join', 'bare child_process.fork of an empty script (the floor)', false, () => withEmptyScript(async (file) => {
          const times: number[] = [];
          for (let i = 0; i < starts + 1; i++) {
            const t0 = performance.now();
            await bareFork(file);
            if (i > 0) times.push(performance.now() - t0);
          }
          return median(times);
        }), 'median'),
        ...python(ctx, 'process-start-join', 'CPython Process, fork (3.11 default)', 'forkStartJoinMs', 'median'),
        ...python(ctx, 'process-start-join', 'CPython Process, spawn', 'spawnStartJoinMs', 'median'),
      ];
    },
  },
  {
    id: 'process-many', title: 'Processes started at once, then all joined (100; 20 with --quick)', unit: 'ms', better: 'lower', python: ['process'],
    run: async (ctx) => {
      const { many: n } = sizes(ctx.quick);
      return [
        await row('process-many', 'threadkit Process (built JS)', true, async () => many(builtProcess(), n)),
        await row('process-many', 'bare child_process.fork of an empty script (the floor)', false, () => withEmptyScript(async (file) => {
          const t0 = performance.now();
          await Promise.all(Array.from({ length: n }, () => bareFork(file)));
          return performance.now() - t0;
        })),
        ...python(ctx, 'process-many', 'CPython Process, fork (3.11 default)', 'forkManyMs'),
        ...python(ctx, 'process-many', 'CPython Process, spawn', 'spawnManyMs'),
      ];
    },
  },
];
