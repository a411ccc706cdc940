/**
 * The library as a user runs it: compiled JavaScript, so that no TypeScript loader is involved.
 * Benchmarks of start-up costs (a cold Thread) measure this build, not the sources under tsx: a
 * worker that loads `.ts` files through tsx pays tens of milliseconds that no user of the package
 * pays.
 *
 * Uses `dist/` when `npm run build` made it after the last change to `lib/`; else compiles `lib/`
 * (tsconfig.build.json) into `build/bench-lib/` once per change.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const LIB = path.join(ROOT, 'lib');
const DIST = path.join(ROOT, 'dist');
const BENCH_LIB = path.join(ROOT, 'build', 'bench-lib');
/** Written after a successful compile into BENCH_LIB. */
const STAMP = path.join(BENCH_LIB, '.built');

/** Newest modification time of the `.ts` files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function builtAfter(marker: string, sources: number): boolean {
  try {
    return fs.statSync(marker).mtimeMs >= sources;
  } catch {
    return false;
  }
}

/** Directory of a compiled library at least as new as lib/, or undefined. */
export function freshBuild(): string | undefined {
  const sources = newestSource(LIB);
  if (builtAfter(path.join(DIST, 'threading', 'index.js'), sources)) return DIST;
  if (builtAfter(STAMP, sources)) return BENCH_LIB;
  return undefined;
}

/** Directory of the compiled library (its `threading/index.js` and so on), compiling it first when needed. */
export async function builtLib(): Promise<string> {
  const fresh = freshBuild();
  if (fresh !== undefined) return fresh;
  const tsc = require.resolve('typescript/bin/tsc');
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', BENCH_LIB], { cwd: ROOT, timeout: 180_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`compiling lib/ failed: ${(stdout + stderr).trim().split('\n')[0] || error.message}`));
      else resolve();
    });
  });
  fs.writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  return BENCH_LIB;
}
