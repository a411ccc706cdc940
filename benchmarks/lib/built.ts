/**
 * The library as a user runs it: compiled JavaScript, so that no TypeScript loader is involved.
 * Benchmarks of start-up costs (a cold Thread) measure this build, not the sources under tsx: a
 * worker that loads `.ts` files through tsx pays tens of milliseconds that no user of the package
 * pays.
 *
 * Uses `dist/` when it was built after the last change to `lib/`; else builds it first, as
 * `npm run build` does. It must be `dist/` and no other folder: a task's code that requires
 * `threadkit/…` in a worker gets the package's `dist/` (a second copy of the library next to
 * another folder would not share its registries with it), and the library finds its native addon
 * at `native/` next to its own folder.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const LIB = path.join(ROOT, 'lib');
const DIST = path.join(ROOT, 'dist');

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

/** `dist/` when it is at least as new as lib/, else undefined. */
export function freshBuild(): string | undefined {
  return builtAfter(path.join(DIST, 'threading', 'index.js'), newestSource(LIB)) ? DIST : undefined;
}

/** `dist/`, built first when it is out of date (what `npm run build` does: the old one removed, then tsc). */
export async function builtLib(): Promise<string> {
  if (freshBuild() !== undefined) return DIST;
  fs.rmSync(DIST, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, timeout: 180_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`building dist/ from lib/ failed: ${(stdout + stderr).trim().split('\n')[0] || error.message}`));
      else resolve();
    });
  });
  return DIST;
}
