/**
 * Running an encoded target: this part of the transport runs inside a worker thread or child process.
 *
 * Function targets are compiled from their source once per worker (cached by source text) with
 * `new Function`, in a scope that provides what compiled code expects to find around it:
 *
 * - `require` — resolved from this library's location, with `threadkit` and `threadkit/<sub>`
 *   mapped to this library (the built `.js` when running the build, else the `.ts` sources under tsx),
 *   so a target can `require('threadkit/threading')` and get the same module instances the worker
 *   entry uses (and so the same `currentThread()`).
 * - `__importStar`, `__importDefault` — TypeScript, compiling to CommonJS, turns `await import('x')`
 *   and default imports inside a function body into calls of these module-level helpers.
 * - `__name` — tsx/esbuild (keepNames) wraps named functions declared inside a function in
 *   `__name(fn, "name")`, a helper of the enclosing module.
 *
 * `await import()` written in a target stays a real dynamic import: code compiled by `new Function`
 * can import on Node 20 (vm.compileFunction cannot without a flag).
 *
 * Module targets (`fromModule`): `.mjs` is imported, `.js`/`.cjs` required (falling back to import for
 * an ES module), `.ts` required after registering tsx's CommonJS hook when this process does not
 * already run under tsx. A package name or relative path is resolved here, where the task runs, from
 * this process's working directory (for a distributed worker, on its own machine).
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EncodedTarget } from './targets';
import { encodeError, isError, type EncodedError } from './errors';
import { decodeArgs, encodeValue } from './values';

/** How a call in another thread ended: its (encoded) value, or what it threw. */
export type EncodedOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: EncodedError };

type AnyFunction = (...args: unknown[]) => unknown;

/** Root of this library's sources (or build): the directory holding index and errors. */
const LIB_DIR = path.resolve(__dirname, '../..');
const libRequire = createRequire(path.join(LIB_DIR, 'internal', 'worker', 'entry.js'));

/** `require` as a target sees it: `threadkit` and its subpaths resolve to this library. */
const targetRequire: NodeJS.Require = Object.assign(
  function require(id: string): unknown {
    return libRequire(mapSpecifier(id));
  },
  {
    resolve: Object.assign((id: string, options?: { paths?: string[] }) => libRequire.resolve(mapSpecifier(id), options), {
      paths: (id: string) => libRequire.resolve.paths(mapSpecifier(id)),
    }),
    cache: libRequire.cache,
    extensions: libRequire.extensions,
    main: libRequire.main,
  },
) as NodeJS.Require;

function mapSpecifier(id: string): string {
  if (id === 'threadkit') return LIB_DIR;
  if (id.startsWith('threadkit/')) return path.join(LIB_DIR, id.slice('threadkit/'.length));
  return id;
}

/** esbuild's keepNames helper. */
function __name<T extends object>(target: T, value: string): T {
  return Object.defineProperty(target, 'name', { value, configurable: true });
}

/** TypeScript's CommonJS helper for `import x from 'm'`. */
function __importDefault(mod: unknown): unknown {
  return mod !== null && typeof mod === 'object' && (mod as { __esModule?: unknown }).__esModule ? mod : { default: mod };
}

/** TypeScript's CommonJS helper for `import * as ns from 'm'` and `await import('m')`. */
function __importStar(mod: unknown): unknown {
  if (mod !== null && typeof mod === 'object' && (mod as { __esModule?: unknown }).__esModule) return mod;
  const ns: Record<string, unknown> = {};
  if (mod !== null && (typeof mod === 'object' || typeof mod === 'function')) {
    for (const key of Object.keys(mod)) {
      if (key !== 'default') Object.defineProperty(ns, key, { enumerable: true, get: () => (mod as Record<string, unknown>)[key] });
    }
  }
  ns.default = mod;
  return ns;
}

/** A real dynamic import, whatever the compiler does to `import()` in this file. */
const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

/** Compiled targets kept per worker, by source text. */
const MAX_COMPILED = 1024;
const compiled = new Map<string, AnyFunction>();

function compile(target: Extract<EncodedTarget, { kind: 'source' }>): AnyFunction {
  let fn = compiled.get(target.source);
  if (fn === undefined) {
    const label = (target.name || 'anonymous').replace(/[^\w$.-]/g, '_');
    const factory = new Function('require', '__name', '__importStar', '__importDefault',
      `return ${target.source};\n//# sourceURL=threadkit-target:${label}`);
    fn = factory(targetRequire, __name, __importStar, __importDefault) as AnyFunction;
    // Bounded, so that a stream of ever new sources cannot grow a long-lived worker without limit.
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(target.source, fn);
  }
  return fn;
}

let tsxRegistered = false;

/** Makes `.ts` modules requirable (once), unless this process already runs under tsx. */
function ensureTypeScript(): void {
  if (tsxRegistered || require.extensions['.ts'] !== undefined) return;
  (libRequire('tsx/cjs/api') as { register(): unknown }).register();
  tsxRegistered = true;
}

const modules = new Map<string, Promise<unknown>>();

/** A module target's file: its `file:` URL, or its specifier resolved from the working directory. */
function moduleFile(href: string): string {
  if (href.startsWith('file:')) return fileURLToPath(href);
  const cwd = process.cwd();
  try {
    return createRequire(path.join(cwd, 'threadkit-target.js')).resolve(href);
  } catch (error) {
    throw new Error(`cannot resolve module ${JSON.stringify(href)} from ${cwd}, the working directory of the process running the task`, { cause: error });
  }
}

async function loadModule(href: string): Promise<unknown> {
  const file = moduleFile(href);
  // A builtin (`node:os`) resolves to itself.
  if (!path.isAbsolute(file)) return libRequire(file);
  const ext = path.extname(file);
  if (ext === '.mjs' || ext === '.mts') return dynamicImport(pathToFileURL(file).href);
  if (ext === '.ts' || ext === '.cts' || ext === '.tsx') ensureTypeScript();
  try {
    return libRequire(file);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_REQUIRE_ESM') return dynamicImport(pathToFileURL(file).href);
    throw error;
  }
}

/** Module targets already resolved, by `href#exportName`: later calls find them synchronously. */
const resolvedTargets = new Map<string, AnyFunction>();

async function resolveModuleTarget(target: Extract<EncodedTarget, { kind: 'module' }>): Promise<AnyFunction> {
  let loading = modules.get(target.href);
  if (loading === undefined) {
    loading = loadModule(target.href);
    modules.set(target.href, loading);
    // A module that failed to load is retried next time (the file may have been fixed or created).
    loading.catch(() => modules.delete(target.href));
  }
  const mod = (await loading) as Record<string, unknown> | AnyFunction;
  let fn: unknown;
  if (target.exportName === 'default') {
    fn = typeof mod === 'function' ? mod : mod?.default;
    // An ES module namespace of a CommonJS module whose default is `module.exports` of tsc output.
    if (typeof fn === 'object' && fn !== null && typeof (fn as Record<string, unknown>).default === 'function') {
      fn = (fn as Record<string, unknown>).default;
    }
  } else {
    fn = (mod as Record<string, unknown>)?.[target.exportName];
  }
  if (typeof fn !== 'function') {
    throw new TypeError(`module ${target.href.startsWith('file:') ? fileURLToPath(target.href) : target.href} has no exported function ${JSON.stringify(target.exportName)} (got ${typeof fn})`);
  }
  resolvedTargets.set(`${target.href}#${target.exportName}`, fn as AnyFunction);
  return fn as AnyFunction;
}

const HINT = ' — targets run in another thread and cannot use variables of the enclosing scope; pass them as args';

/** Appends the captured-variable hint to a ReferenceError thrown by a function target. */
function addHint(error: unknown): void {
  if (!isError(error) || error.name !== 'ReferenceError' || !/ is not defined$/.test(error.message)) return;
  // Only when thrown by the target's own code (its top frame), not by a module it called.
  const topFrame = typeof error.stack === 'string' ? /^\s+at .*$/m.exec(error.stack)?.[0] : undefined;
  if (topFrame !== undefined && !topFrame.includes('threadkit-target:')) return;
  const before = error.message;
  error.message = before + HINT;
  if (typeof error.stack === 'string') error.stack = error.stack.replace(before, error.message);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Runs a target with encoded arguments in this thread and reports how it ended. Never rejects: what
 * the target throws (or a failure to load it) is the outcome's error. The value is encoded (shared
 * objects become handles) but not checked: the channel that sends it reports what cannot go.
 */
export async function invoke(target: EncodedTarget, encodedArgs: unknown[], thisArg?: unknown): Promise<EncodedOutcome> {
  return invokeSync(target, encodedArgs, thisArg);
}

/**
 * As {@link invoke}, but synchronous when it can be: a function target, or a module target already
 * loaded in this thread, that returns a non-thenable gives its outcome at once (no microtask hops,
 * which a worker running many small tasks in a row would pay per task). Otherwise (a module still to
 * load, an async target) a Promise of the outcome, which never rejects.
 */
export function invokeSync(target: EncodedTarget, encodedArgs: unknown[], thisArg?: unknown): EncodedOutcome | Promise<EncodedOutcome> {
  let fn: AnyFunction | undefined;
  try {
    fn = target.kind === 'source' ? compile(target) : resolvedTargets.get(`${target.href}#${target.exportName}`);
  } catch (error) {
    return failure(target, error);
  }
  if (fn === undefined) return loadAndCall(target as Extract<EncodedTarget, { kind: 'module' }>, encodedArgs, thisArg);
  return invokeResolved(target, fn, encodedArgs, thisArg);
}

async function loadAndCall(target: Extract<EncodedTarget, { kind: 'module' }>, encodedArgs: unknown[], thisArg: unknown): Promise<EncodedOutcome> {
  let fn: AnyFunction;
  try {
    fn = await resolveModuleTarget(target);
  } catch (error) {
    return failure(target, error);
  }
  return invokeResolved(target, fn, encodedArgs, thisArg);
}

function invokeResolved(target: EncodedTarget, fn: AnyFunction, encodedArgs: unknown[], thisArg: unknown): EncodedOutcome | Promise<EncodedOutcome> {
  let value: unknown;
  try {
    value = fn.apply(thisArg, decodeArgs(encodedArgs));
  } catch (error) {
    return failure(target, error);
  }
  return isThenable(value) ? settleLater(target, value) : success(target, value);
}

async function settleLater(target: EncodedTarget, value: PromiseLike<unknown>): Promise<EncodedOutcome> {
  try {
    return success(target, await value);
  } catch (error) {
    return failure(target, error);
  }
}

function success(target: EncodedTarget, value: unknown): EncodedOutcome {
  try {
    return { ok: true, value: encodeValue(value) };
  } catch (error) {
    return failure(target, error);
  }
}

function failure(target: EncodedTarget, error: unknown): EncodedOutcome {
  if (target.kind === 'source') addHint(error);
  return { ok: false, error: encodeError(error) };
}
