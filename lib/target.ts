/**
 * Targets: the code that threadkit runs in another thread or process.
 *
 * A target is either a self-contained function, sent by its source text, or a reference to an
 * exported function of a module, made with {@link fromModule}; what a function target may use is
 * written on {@link Target}.
 */
import { pathToFileURL, fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { describe } from './internal/validate';
import { isModuleTarget, kModuleTarget } from './internal/transport/targets';

export { isModuleTarget };

/** A reference to an exported function of a module, made by {@link fromModule}. */
export interface ModuleTarget<A extends unknown[] = any[], R = unknown> {
  readonly [kModuleTarget]: true;
  /** `file:` URL of the module. */
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
 * Refers to the function `exportName` exported by the module at `modulePath`, to run it in
 * another thread or process. `.js`, `.cjs`, `.mjs` and `.ts` modules work.
 *
 * @param modulePath absolute path or `file:` URL of the module
 * @param exportName name of the exported function; `'default'` takes the default export, or
 *   `module.exports` itself when that is a function
 * @throws TypeError when `modulePath` is not an absolute path or file URL, or `exportName` is not a string
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
  } else if (typeof modulePath === 'string') {
    if (!path.isAbsolute(modulePath)) {
      throw new TypeError(`Expected \`modulePath\` to be an absolute path or file: URL, got relative path ${JSON.stringify(modulePath)}`);
    }
    href = pathToFileURL(modulePath).href;
  } else {
    throw new TypeError(`Expected \`modulePath\` to be a string or URL, got ${describe(modulePath)}`);
  }
  if (typeof exportName !== 'string' || exportName === '') {
    throw new TypeError(`Expected \`exportName\` to be a non-empty string, got ${describe(exportName)}`);
  }
  return Object.freeze({ [kModuleTarget]: true as const, href, exportName });
}

/** The file path of a module target. */
export function modulePathOf(target: ModuleTarget): string {
  return fileURLToPath(target.href);
}
