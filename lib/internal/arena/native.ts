/**
 * The native addon (native/threadkit_shm.cc), loaded once per thread on first use: the one built
 * at install (native/build), else the prebuilt one the package carries for its platform and Node
 * ABI (native/prebuilds), as node-gyp-build finds them.
 *
 * Where it cannot be loaded (not Linux; neither built nor prebuilt for this platform, libc and Node
 * ABI) every `threadkit/multiprocessing` shared object throws the Error of {@link loadNative}, which
 * says why; nothing else of the package needs it (a child process's death watch uses it when it is
 * there). `THREADKIT_NO_NATIVE=1` in the environment makes the load fail on purpose (the tests use
 * it to check that path).
 */
import * as path from 'node:path';
import type { ParkResult } from '../shm/block';

/** What the addon exports. */
export interface Native {
  /** A new memfd segment of `size` bytes, mapped; the caller owns `fd`. */
  create(size: number): { fd: number; sab: SharedArrayBuffer };
  /** Opens and maps `path` (`/proc/<pid>/fd/<n>` of a process that holds a segment); the caller owns `fd`. */
  open(path: string): { fd: number; sab: SharedArrayBuffer };
  /** Maps a segment fd this process holds. */
  map(fd: number): SharedArrayBuffer;
  close(fd: number): void;
  /** Shared futex wait while `i32[index] === expected`, at most `ms` (Infinity: no limit). */
  wait(i32: Int32Array, index: number, expected: number, ms: number): ParkResult;
  /** As wait, on the addon's waiter thread; a result at once when the word differs or `ms` is 0. */
  waitAsync(i32: Int32Array, index: number, expected: number, ms: number): ParkResult | Promise<ParkResult>;
  /** Wakes up to `count` futex waiters of `i32[index]`, in any process; returns how many. */
  wake(i32: Int32Array, index: number, count: number): number;
  /** Makes `fd` this process's arena (all its threads) unless one is set; returns the fd that is set (-1: read only). */
  claimArena(fd: number): number;
  /** The native death watch of a child process (internal/child/death-watch.ts states its contract). */
  watchParent(fd: number, parentPid: number, graceMs: number, via?: 'pidfd' | 'socket'): boolean;
  /** The shelf (internal/queue/shelf.ts): a zeroed SharedArrayBuffer that owns the entries shelved with it. */
  createGroup(size: number): SharedArrayBuffer;
  /** Shelves `buffer` in `group`; returns its id (≥ 1). */
  shelve(group: SharedArrayBuffer, buffer: SharedArrayBuffer): number;
  /** A SharedArrayBuffer of this thread over entry `id` (it stays on the shelf). */
  borrow(id: number): SharedArrayBuffer | undefined;
  /** As borrow, and removes the entry. */
  take(id: number): SharedArrayBuffer | undefined;
  /** Removes entry `id`. */
  discard(id: number): boolean;
}

/** Functions every build of the addon that this library loads must export (older builds lack some). */
export const NATIVE_FUNCTIONS: readonly (keyof Native)[] = [
  'create', 'open', 'map', 'close', 'wait', 'waitAsync', 'wake', 'claimArena', 'watchParent',
  'createGroup', 'shelve', 'borrow', 'take', 'discard',
];

/** Environment variable that makes the load fail on purpose (tests of the no-addon path). */
export const NO_NATIVE_ENV = 'THREADKIT_NO_NATIVE';

/**
 * Environment variable naming the addon file that a parent process found, so that its children
 * load that file without searching for it (see {@link addonEnv}).
 */
export const ADDON_ENV = 'THREADKIT_ADDON';

/** lib/internal/arena → the package root, from lib/ (ts) and dist/ (js) alike. */
const NATIVE_DIR = path.resolve(__dirname, '../../../native');

let loaded: Native | undefined;
let failure: Error | undefined;
/** The addon file this process loads, once found. */
let file: string | undefined;
/** Set when {@link addonEnv} found no addon file. */
let notFound = false;

/** The addon file for this Node, as node-gyp-build picks it (build/Release, else a matching prebuild); nothing is loaded. */
function findAddon(): string {
  if (process.env[NO_NATIVE_ENV] === '1') throw new Error(`disabled by ${NO_NATIVE_ENV}=1`);
  if (process.platform !== 'linux') throw new Error(`it needs Linux (memfd, futex); this is ${process.platform}`);
  file ??= (require('node-gyp-build') as { path(dir: string): string }).path(NATIVE_DIR);
  return file;
}

/**
 * The addon: the file the parent process named in {@link ADDON_ENV} when it is one of this
 * package's (a child runs the same package as its parent), else the one node-gyp-build finds.
 */
function requireAddon(): Native {
  const hint = process.env[ADDON_ENV];
  if (hint !== undefined && hint.startsWith(NATIVE_DIR + path.sep) && process.env[NO_NATIVE_ENV] !== '1') {
    try {
      const addon = require(hint) as Native;
      file = hint;
      return addon;
    } catch {
      // moved or rebuilt meanwhile: search as usual
    }
  }
  return require(findAddon()) as Native;
}

/**
 * What a child process's environment needs so that it loads the addon without searching for it:
 * node-gyp-build loads its own code and scans two directories, a few milliseconds of the start of
 * every child whose death watch loads the addon. `find`: look for the file now if this process has
 * not yet (a child that will load it for sure); else a file is passed on only once found. Empty
 * where there is no addon.
 */
export function addonEnv(find: boolean): NodeJS.ProcessEnv {
  if (file === undefined && (!find || notFound)) return {};
  try {
    return { [ADDON_ENV]: findAddon() };
  } catch {
    notFound = true; // no need to look again at every child's start
    return {};
  }
}

/**
 * The addon.
 * @throws Error saying why the addon is unavailable (and so shared memory across processes).
 */
export function loadNative(): Native {
  if (loaded !== undefined) return loaded;
  if (failure !== undefined) throw failure;
  try {
    const addon = requireAddon();
    const missing = NATIVE_FUNCTIONS.filter((name) => typeof addon[name] !== 'function');
    // A build left from an older version of this package (the install script did not run again).
    if (missing.length > 0) throw new Error(`the addon at ${file ?? 'its place'} is an older build without ${missing.join(', ')}; rebuild it (npm rebuild threadkit)`);
    loaded = addon;
    return loaded;
  } catch (error) {
    const why = (error as Error).message.trim();
    // On Linux: the package carries a prebuilt addon for the platform and Node ABI it was packed
    // on; any other is compiled by the install script (native/install.js), if it ran.
    const fix = process.platform !== 'linux' ? '' :
      ' The package carries it prebuilt for the platform and Node version it was packed on; elsewhere threadkit\'s install script compiles it ' +
      '(node-gyp, a C++ compiler and the Node headers), which npm 11 runs only once allowed: `npm install-scripts approve threadkit`, then `npm rebuild threadkit`.';
    failure = new Error(`threadkit/multiprocessing shared objects need threadkit's native addon, which could not be loaded: ${why}.${fix}`, { cause: error });
    throw failure;
  }
}
