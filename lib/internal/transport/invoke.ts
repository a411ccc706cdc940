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
 * already run under tsx (tsx is an optional peer dependency: see tsx.ts). A package name or relative
 * path is resolved here, where the task runs, from this process's working directory (for a
 * distributed worker, on its own machine).
 */
import * as path from 'node:path';
import type { EncodedTarget } from './targets';
import type { EncodedError } from './errors';
import { decodeArgs, encodeValue } from './values';
import { registerTsx } from './tsx';

/** How a call in another thread ended: its (encoded) value, or what it threw. */
export type EncodedOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: EncodedError };

type AnyFunction = (...args: unknown[]) => unknown;

/** Root of this library's sources (or build): the directory holding index and errors. */
const LIB_DIR = path.resolve(__dirname, '../..');
// node:module, node:url and the error encoder are loaded on first use: a worker's cold start pays for
// every module it loads, and a function target that returns and never calls require() needs none.
let libRequireOnce: NodeJS.Require | undefined;
function libRequire(): NodeJS.Require {
  return (libRequireOnce ??= (require('node:module') as typeof import('node:module')).createRequire(path.join(LIB_DIR, 'internal', 'worker', 'entry.js')));
}

/** The error encoder, and the error classes it knows: loaded at the first failure. */
function errors(): typeof import('./errors') {
  return require('./errors') as typeof import('./errors');
}

function fileURLToPath(href: string): string {
  return (require('node:url') as typeof import('node:url')).fileURLToPath(href);
}

function pathToFileURL(file: string): URL {
  return (require('node:url') as typeof import('node:url')).pathToFileURL(file);
}

/** `require` as a target sees it: `threadkit` and its subpaths resolve to this library. */
const targetRequire = Object.defineProperties(
  function require(id: string): unknown {
    return libRequire()(mapSpecifier(id));
  },
  {
    resolve: {
      value: Object.assign((id: string, options?: { paths?: string[] }) => libRequire().resolve(mapSpecifier(id), options), {
        paths: (id: string) => libRequire().resolve.paths(mapSpecifier(id)),
      }),
    },
    cache: { get: () => libRequire().cache, enumerable: true },
    extensions: { get: () => libRequire().extensions, enumerable: true },
    main: { get: () => libRequire().main, enumerable: true },
  },
) as unknown as NodeJS.Require;

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

/** A real dynamic import, whatever the compiler does to `import()` in this file (compiled on first use). */
let importOnce: ((specifier: string) => Promise<Record<string, unknown>>) | undefined;
function dynamicImport(specifier: string): Promise<Record<string, unknown>> {
  importOnce ??= new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;
  return importOnce(specifier);
}

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

/** Makes `.ts` modules requirable (once), unless this process already can (it runs under tsx). */
function ensureTypeScript(file: string): void {
  if (tsxRegistered || require.extensions['.ts'] !== undefined) return;
  registerTsx(file);
  tsxRegistered = true;
}

const modules = new Map<string, Promise<unknown>>();

/** A module target's file: its `file:` URL, or its specifier resolved from the working directory. */
function moduleFile(href: string): string {
  if (href.startsWith('file:')) return fileURLToPath(href);
  const cwd = process.cwd();
  try {
    return (require('node:module') as typeof import('node:module')).createRequire(path.join(cwd, 'threadkit-target.js')).resolve(href);
  } catch (error) {
    throw new Error(`cannot resolve module ${JSON.stringify(href)} from ${cwd}, the working directory of the process running the task`, { cause: error });
  }
}

async function loadModule(href: string): Promise<unknown> {
  const file = moduleFile(href);
  // A builtin (`node:os`) resolves to itself.
  if (!path.isAbsolute(file)) return libRequire()(file);
  const ext = path.extname(file);
  if (ext === '.mjs' || ext === '.mts') return dynamicImport(pathToFileURL(file).href);
  try {
    return requireModule(file);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_REQUIRE_ESM') return dynamicImport(pathToFileURL(file).href);
    throw error;
  }
}

/** Requires a CommonJS or TypeScript module file (tsx is registered first for TypeScript). */
function requireModule(file: string): unknown {
  const ext = path.extname(file);
  if (ext === '.ts' || ext === '.cts' || ext === '.tsx') ensureTypeScript(file);
  return libRequire()(file);
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
  return exportedFunction(target, (await loading) as Record<string, unknown> | AnyFunction);
}

function exportedFunction(target: Extract<EncodedTarget, { kind: 'module' }>, mod: Record<string, unknown> | AnyFunction): AnyFunction {
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

/**
 * The hint added to "x is not defined" from a function target. A target runs from its source text,
 * without the scope of the file that defined it, so any name of that file is undefined there. The
 * names a compiler made up are the puzzling ones: an import written `import { randomUUID } from
 * 'node:crypto'` reads `import_node_crypto.randomUUID` in tsx (esbuild) output and
 * `node_crypto_1.randomUUID` in tsc output, and down-levelled code calls helpers such as `__awaiter`
 * or `__rest`. Passing them as arguments cannot work (modules and functions cannot be sent), so the
 * hint points at what does: require() inside the target, or a module reference.
 */
function hintFor(name: string): string {
  const elsewhere = 'export the function from a module and pass fromModule(path, name)';
  if (/^import_[\w$]+$/.test(name) || /^[\w$]+_\d+$/.test(name)) {
    return ` — it is an import of the file that defined the target, as tsx (import_x) or tsc (x_1) renames it, and a target runs ` +
      `in another thread without that file's scope: require() the module inside the target (for instance const { randomUUID } = require('node:crypto')), or ${elsewhere}`;
  }
  if (/^__[\w$]+$/.test(name)) {
    return ` — it is a helper that the compiler put into the target's code, defined only in the file it compiled: ${elsewhere}, ` +
      'or compile for a newer language target (ES2022) so that no helper is needed';
  }
  return ' — targets run in another thread and cannot use variables of the enclosing scope: pass values as args, ' +
    `require() modules inside the target, or ${elsewhere}`;
}

/**
 * The function of `target`, compiled or loaded in this thread (each once, then cached), without
 * waiting: a module target is required synchronously.
 * @throws what compiling or loading throws; an ES module (which only `import()` loads) throws
 *   ERR_REQUIRE_ESM.
 */
export function resolveTargetSync(target: EncodedTarget): AnyFunction {
  if (target.kind === 'source') return compile(target);
  const known = resolvedTargets.get(`${target.href}#${target.exportName}`);
  if (known !== undefined) return known;
  return exportedFunction(target, requireModule(moduleFile(target.href)) as Record<string, unknown> | AnyFunction);
}

/** As {@link resolveTargetSync}, loading ES modules too (asynchronously). */
export async function resolveTarget(target: EncodedTarget): Promise<AnyFunction> {
  return target.kind === 'source' ? compile(target) : resolvedTargets.get(`${target.href}#${target.exportName}`) ?? resolveModuleTarget(target);
}

/** Appends the hint to a ReferenceError thrown by a function target's own code. */
function addHint(error: unknown): void {
  if (!errors().isError(error) || error.name !== 'ReferenceError') return;
  const undefinedName = /^([\w$]+) is not defined$/.exec(error.message)?.[1];
  if (undefinedName === undefined) return;
  // Only when thrown by the target's own code (its top frame), not by a module it called.
  const topFrame = typeof error.stack === 'string' ? /^\s+at .*$/m.exec(error.stack)?.[0] : undefined;
  if (topFrame !== undefined && !topFrame.includes('threadkit-target:')) return;
  const before = error.message;
  error.message = before + hintFor(undefinedName);
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
export async function invoke(target: EncodedTarget, encodedArgs: unknown[], thisArg?: unknown, keepValue = true): Promise<EncodedOutcome> {
  return invokeSync(target, encodedArgs, thisArg, keepValue);
}

/**
 * As {@link invoke}, but synchronous when it can be: a function target, or a module target already
 * loaded in this thread, that returns a non-thenable gives its outcome at once (no microtask hops,
 * which a worker running many small tasks in a row would pay per task). Otherwise (a module still to
 * load, an async target) a Promise of the outcome, which never rejects. With `keepValue` false the
 * value is dropped unencoded (a caller that discards it, such as a Process, must not fail because
 * the value could not have been sent).
 */
export function invokeSync(target: EncodedTarget, encodedArgs: unknown[], thisArg?: unknown, keepValue = true): EncodedOutcome | Promise<EncodedOutcome> {
  let fn: AnyFunction | undefined;
  try {
    fn = target.kind === 'source' ? compile(target) : resolvedTargets.get(`${target.href}#${target.exportName}`);
  } catch (error) {
    return failure(target, error);
  }
  if (fn === undefined) return loadAndCall(target as Extract<EncodedTarget, { kind: 'module' }>, encodedArgs, thisArg, keepValue);
  return invokeResolved(target, fn, encodedArgs, thisArg, keepValue);
}

async function loadAndCall(target: Extract<EncodedTarget, { kind: 'module' }>, encodedArgs: unknown[], thisArg: unknown, keepValue: boolean): Promise<EncodedOutcome> {
  let fn: AnyFunction;
  try {
    fn = await resolveModuleTarget(target);
  } catch (error) {
    return failure(target, error);
  }
  return invokeResolved(target, fn, encodedArgs, thisArg, keepValue);
}

function invokeResolved(target: EncodedTarget, fn: AnyFunction, encodedArgs: unknown[], thisArg: unknown, keepValue: boolean): EncodedOutcome | Promise<EncodedOutcome> {
  let value: unknown;
  try {
    value = fn.apply(thisArg, decodeArgs(encodedArgs));
  } catch (error) {
    return failure(target, error);
  }
  return isThenable(value) ? settleLater(target, value, keepValue) : success(target, value, keepValue);
}

async function settleLater(target: EncodedTarget, value: PromiseLike<unknown>, keepValue: boolean): Promise<EncodedOutcome> {
  try {
    return success(target, await value, keepValue);
  } catch (error) {
    return failure(target, error);
  }
}

function success(target: EncodedTarget, value: unknown, keepValue: boolean): EncodedOutcome {
  if (!keepValue) return { ok: true, value: undefined };
  try {
    return { ok: true, value: encodeValue(value) };
  } catch (error) {
    return failure(target, error);
  }
}

function failure(target: EncodedTarget, error: unknown): EncodedOutcome {
  if (target.kind === 'source') addHint(error);
  return { ok: false, error: errors().encodeError(error) };
}
