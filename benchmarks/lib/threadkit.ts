/**
 * Loads threadkit's entry points lazily, so that a part of the library that fails to load (or is
 * not built yet) costs only the strategies that use it: each of them reports "unavailable: …"
 * and every other strategy still runs.
 *
 * Which copy: the compiled library (`built.ts`) when {@link useCompiledLibrary} chose it — what a
 * user runs, with no TypeScript loader in the workers, which matters for everything that starts a
 * worker — else the sources in lib/ through tsx.
 */
import * as path from 'node:path';
import type * as ThreadingModule from 'threadkit/threading';
import type * as FuturesModule from 'threadkit/futures';
import type * as PoolModule from 'threadkit/multiprocessing';
import type * as TargetModule from 'threadkit/target';
import { builtLib, freshBuild } from './built';

export type Threading = typeof ThreadingModule;
export type Futures = typeof FuturesModule;
export type PoolMod = typeof PoolModule;
export type Targets = typeof TargetModule;

/** Absolute path of the task module that workers load (see workloads/tasks.ts). */
export const TASKS_PATH = path.resolve(__dirname, '../workloads/tasks.ts');

const cache = new Map<string, Promise<unknown>>();
/** Directory of the compiled library in use, or undefined for lib/ through tsx. */
let compiled: string | undefined;

/**
 * Chooses the copy of the library the benchmarks load (call before loading any): the compiled one,
 * compiling it first when `compile` is set and it is out of date; else the compiled one if it is up
 * to date, and lib/ through tsx otherwise. Returns a line for the report.
 */
export async function useCompiledLibrary(compile: boolean): Promise<string> {
  compiled = compile ? await builtLib() : freshBuild();
  return compiled === undefined ? 'threadkit from lib/ through tsx (no up-to-date build)' : `threadkit compiled (${path.relative(process.cwd(), compiled) || compiled})`;
}

function load<T>(specifier: string): Promise<T> {
  let pending = cache.get(specifier) as Promise<T> | undefined;
  if (!pending) {
    // require, not import(): tsx maps `threadkit/*` to lib/ for require in every mode (`tsx x.ts` and
    // `node --require tsx/cjs x.ts`), while import() would resolve the package's built dist/.
    const target = compiled === undefined ? specifier : path.join(compiled, specifier.slice('threadkit/'.length));
    pending = new Promise<T>((resolve) => resolve(require(target) as T));
    // Keep the rejection handled here; each caller sees it when it awaits.
    pending.catch(() => undefined);
    cache.set(specifier, pending);
  }
  return pending;
}

export const threading = (): Promise<Threading> => load('threadkit/threading');
export const futures = (): Promise<Futures> => load('threadkit/futures');
export const pool = (): Promise<PoolMod> => load('threadkit/multiprocessing');
export const targets = (): Promise<Targets> => load('threadkit/target');

/** A one-line reason for an error, for "unavailable: …" cells. */
export function reason(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split('\n')[0].slice(0, 160);
}
