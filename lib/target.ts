/**
 * Targets: the code that threadkit runs in another thread or process.
 *
 * A target is either a self-contained function, sent by its source text, or a reference to an
 * exported function of a module, made with {@link fromModule}. Arguments travel by structured clone,
 * except threadkit's shared objects (locks, events, …), which arrive as working instances over the
 * same memory; results and thrown errors come back the same way.
 */
import { pathToFileURL, fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { describe } from './internal/validate';
import { isModuleTarget, kModuleTarget } from './internal/transport/targets';

export { isModuleTarget };

/** A reference to an exported function of a module, made by {@link fromModule}. */
export interface ModuleTarget<A extends unknown[] = any[], R = unknown> {
  readonly [kModuleTarget]: true;
  /**
   * `file:` URL of the module; or, for a package name or relative path, that specifier as given,
   * resolved where the task runs (see {@link fromModule}).
   */
  readonly href: string;
  /** Name of the exported function (`'default'` for the default export or `module.exports` itself). */
  readonly exportName: string;
  /** Phantom type: the call signature of the exported function. */
  readonly __signature?: (...args: A) => R;
}

/**
 * What threadkit can run elsewhere: a self-contained function (sent by source; it may use its
 * parameters, globals, `require()` and `await import()`, not captured variables), or a module
 * reference made by {@link fromModule}.
 */
export type Target<A extends unknown[] = any[], R = unknown> = ((...args: A) => R) | ModuleTarget<A, R>;

/**
 * The argument list of a call that passes a target's arguments as one array (`pool.apply(fn, args)`):
 * optional when the target can be called without arguments, required when it cannot. `A` is
 * inferred from the target alone, so the array must fit the target's parameters.
 */
export type TargetArgs<A extends any[]> = [] extends A ? [args?: NoInfer<A>] : [args: NoInfer<A>];

/**
 * The `target` and `args` options of a Thread (and of anything else that runs one target with its
 * arguments in another thread or process), typed together: `args` must fit the target's parameters,
 * and is required when the target has required parameters. `A` is inferred from `target` alone.
 *
 * @example
 * new Thread({ target: (lock: Lock, n: number) => …, args: [lock, 3] });  // ok
 * new Thread({ target: (n: number) => …, args: ['3'] });                  // type error
 */
export type TargetOptions<A extends any[] = any[]> = {
  /** What runs: a self-contained function, or a `fromModule` reference. @default nothing */
  target?: Target<A, unknown>;
} & ([] extends A
  ? {
      /** Arguments of the target: cloneable values and threadkit shared objects. @default [] */
      args?: NoInfer<A>;
    }
  : {
      /** Arguments of the target: cloneable values and threadkit shared objects. */
      args: NoInfer<A>;
    });

/**
 * Refers to the function `exportName` exported by the module at `modulePath`, to run it in
 * another thread or process. `.js`, `.cjs`, `.mjs` and `.ts` modules work.
 *
 * A package name (`'my-tasks'`, `'my-tasks/fib'`) or a relative path (`'./tasks/fib.js'`) is
 * resolved where the task runs, from the working directory of the process that runs it: the
 * same place as this process for local threads and processes, the worker's machine for a
 * `DistributedExecutor`.
 *
 * @param modulePath absolute path or `file:` URL of the module, or a package name or relative
 *   path resolved where the task runs
 * @param exportName name of the exported function; `'default'` takes the default export, or
 *   `module.exports` itself when that is a function
 * @throws TypeError when `modulePath` is not a path, package name or file URL, or `exportName` is not a string
 * @example
 * const fib = fromModule<[number], number>(require.resolve('./fib'), 'fib');
 * await executor.submit(fib, 30);
 */
export function fromModule<A extends unknown[] = any[], R = unknown>(
  modulePath: string | URL,
  exportName = 'default',
): ModuleTarget<A, R> {
  let href: string;
  if (modulePath instanceof URL || (typeof modulePath === 'string' && modulePath.startsWith('file:'))) {
    const url = new URL(String(modulePath));
    if (url.protocol !== 'file:') throw new TypeError(`Expected \`modulePath\` to be a file: URL, got ${url.protocol} URL`);
    href = url.href;
  } else if (typeof modulePath === 'string' && path.isAbsolute(modulePath)) {
    href = pathToFileURL(modulePath).href;
  } else if (typeof modulePath === 'string') {
    // A specifier, resolved where the task runs. `node:` builtins are specifiers too; other schemes are not.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(modulePath)?.[1];
    if (modulePath === '' || (scheme !== undefined && scheme !== 'node')) {
      throw new TypeError(`Expected \`modulePath\` to be a path, a package name or a file: URL, got ${JSON.stringify(modulePath)}`);
    }
    href = modulePath;
  } else {
    throw new TypeError(`Expected \`modulePath\` to be a string or URL, got ${describe(modulePath)}`);
  }
  if (typeof exportName !== 'string' || exportName === '') {
    throw new TypeError(`Expected \`exportName\` to be a non-empty string, got ${describe(exportName)}`);
  }
  return Object.freeze({ [kModuleTarget]: true as const, href, exportName });
}

/** The file path of a module target (a specifier resolved where the task runs is returned as it is). */
export function modulePathOf(target: ModuleTarget): string {
  return target.href.startsWith('file:') ? fileURLToPath(target.href) : target.href;
}
