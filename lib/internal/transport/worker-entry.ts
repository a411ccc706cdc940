/**
 * Where the worker-side entry files are, and how to start them.
 *
 * Runs the compiled `.js` beside this module when present (the build, and so the published
 * package); else the `.ts` source, loaded through tsx's CommonJS hook (see tsx.ts: an optional peer
 * dependency, and an error that says to install it when it is missing). The exec arguments are never
 * inherited from `process.execArgv`: a parent started as `tsx script.ts` carries tsx's `--import`
 * loader, which breaks in workers.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { findTsx, INSTALL_TSX } from './tsx';

/** How to start one worker entry: `new Worker(filename, { execArgv })`, or `fork(filename, { execArgv })`. */
export interface WorkerEntry {
  readonly filename: string;
  readonly execArgv: string[];
}

const WORKER_DIR = path.resolve(__dirname, '../worker');
const entries = new Map<string, WorkerEntry>();
let tsxHook: string | undefined;

/**
 * The file and exec arguments of `lib/internal/worker/<basename>` (basename without extension).
 * @throws Error when only the TypeScript sources are there and tsx is not installed
 * @example
 * const { filename, execArgv } = workerEntry('thread-entry');
 * const worker = new Worker(filename, { execArgv });
 */
export function workerEntry(basename: string): WorkerEntry {
  let entry = entries.get(basename);
  if (entry === undefined) {
    const js = path.join(WORKER_DIR, `${basename}.js`);
    if (existsSync(js)) {
      entry = { filename: js, execArgv: [] };
    } else {
      tsxHook ??= findTsx('tsx/cjs', [process.cwd()]);
      if (tsxHook === undefined) {
        throw new Error(
          `threadkit is running from its TypeScript sources (${WORKER_DIR}), which its workers load with tsx, ` +
          `an optional peer dependency that is not installed: install it (${INSTALL_TSX}), or build the library (npm run build) and use the compiled package`,
        );
      }
      entry = { filename: path.join(WORKER_DIR, `${basename}.ts`), execArgv: ['--require', tsxHook] };
    }
    entries.set(basename, entry);
  }
  // A fresh array each time: callers may append their own flags.
  return { filename: entry.filename, execArgv: [...entry.execArgv] };
}
