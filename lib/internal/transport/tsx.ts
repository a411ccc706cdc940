/**
 * tsx, the TypeScript loader that threadkit uses when TypeScript has to run in a worker: a `.ts`
 * task module (`fromModule('/abs/task.ts')`), or this library's own sources when it runs unbuilt
 * (this repository's tests and benchmarks; the published package runs its compiled `.js`).
 *
 * tsx is an optional peer dependency: it brings esbuild (a native binary, about 14 MB) that a user
 * whose tasks are plain JavaScript never needs. So it is looked up only when TypeScript has to be
 * loaded, and its absence is an Error that says to install it rather than a bare MODULE_NOT_FOUND.
 *
 * Where it is looked for: from this library's location first (the usual install, tsx beside
 * threadkit in the project's node_modules), then from the given directories (the task module's own
 * folder, the working directory), so a tsx that the project installed elsewhere in its tree works too.
 */
import * as path from 'node:path';

/** What a user runs to get tsx. */
export const INSTALL_TSX = 'npm install --save-dev tsx';

/**
 * Absolute path of a tsx entry (`'tsx/cjs'`, `'tsx/cjs/api'`), or undefined when tsx is not installed.
 * @param searchFrom directories to resolve from after this library's location
 */
export function findTsx(entry: string, searchFrom: readonly string[] = []): string | undefined {
  for (const from of [__dirname, ...searchFrom]) {
    try {
      return require.resolve(entry, { paths: [from] });
    } catch {
      // not reachable from there; try the next place
    }
  }
  return undefined;
}

/**
 * Loads `tsx/cjs/api` and registers its CommonJS hook, so that `require()` of `.ts` files works in
 * this thread.
 * @param forFile the TypeScript file that needs it (named in the error)
 * @throws Error saying to install tsx (or to compile the module) when tsx cannot be found
 */
export function registerTsx(forFile: string): void {
  const api = findTsx('tsx/cjs/api', [path.dirname(forFile), process.cwd()]);
  if (api === undefined) {
    throw new Error(
      `cannot load the TypeScript module ${forFile}: threadkit loads .ts task modules with tsx, an optional ` +
      `peer dependency that is not installed. Install it (${INSTALL_TSX}), or compile the module to .js and pass that path to fromModule()`,
    );
  }
  (require(api) as { register(): unknown }).register();
}
