/**
 * Encoding of targets: what code to run in another thread or process.
 *
 * A function target travels as its source text and is compiled again on the other side (see
 * invoke.ts), so it must be self-contained. The source `Function.prototype.toString` gives is not
 * always an expression: a method written with the shorthand `run() { … }` (a Thread subclass's
 * `run`, an object literal's method) is only valid inside an object literal. So the encoder turns
 * every source into an *expression that evaluates to the function* once, here, by trying to compile
 * it (compiling checks syntax and runs nothing): as it is, else wrapped in an object literal from
 * which the one method is taken. Functions that have no usable source — native functions, bound
 * functions (`f.bind(x)` prints as native code), classes — are refused with a TypeError naming the
 * argument.
 *
 * Encoded targets are cached per function (WeakMap) and per source text, so a task submitted a
 * million times is classified once.
 */
import { describe } from '../validate';

/** The brand of a `fromModule()` reference (`lib/target.ts`); a registered symbol, so any realm's reference counts. */
export const kModuleTarget: unique symbol = Symbol.for('threadkit.ModuleTarget') as never;

/** What a `fromModule()` reference carries. */
interface ModuleReference {
  readonly [kModuleTarget]: true;
  readonly href: string;
  readonly exportName: string;
}

/** True for a value made by `fromModule()` (in any realm). */
export function isModuleTarget(value: unknown): value is ModuleReference {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kModuleTarget] === true;
}

/** A target as it travels: the expression source of a function, or a module export. */
export type EncodedTarget =
  | { readonly kind: 'source'; readonly source: string; readonly name: string }
  | { readonly kind: 'module'; readonly href: string; readonly exportName: string };

const byFunction = new WeakMap<Function, EncodedTarget>();
const expressionOf = new Map<string, string | Error>();

/** Distinct source texts remembered; beyond this the cache starts over. */
const MAX_CACHED_SOURCES = 1024;
const NATIVE = /\{\s*\[native code\]\s*\}\s*$/;
const CLASS = /^class\b/;

/** Turns function source text into an expression that evaluates to the function, or the SyntaxError. */
function toExpression(source: string): string | Error {
  let expression = expressionOf.get(source);
  if (expression !== undefined) return expression;
  // The newline before the closing bracket keeps a trailing `// comment` from swallowing it.
  const asIs = `(${source}\n)`;
  const asMethod = `(o => { const d = Object.getOwnPropertyDescriptor(o, Reflect.ownKeys(o)[0]); return d.value ?? d.get ?? d.set; })({ ${source}\n})`;
  try {
    new Function(`return ${asIs}`);
    expression = asIs;
  } catch {
    try {
      new Function(`return ${asMethod}`);
      expression = asMethod;
    } catch (error) {
      expression = error as Error;
    }
  }
  // Bounded: a program that makes functions from ever new source text must not grow this forever.
  if (expressionOf.size >= MAX_CACHED_SOURCES) expressionOf.clear();
  expressionOf.set(source, expression);
  return expression;
}

/**
 * Encodes a target (a self-contained function or a {@link fromModule} reference) for another thread.
 * @param argName name of the argument in error messages
 * @throws TypeError for anything else: a non-function, a native or bound function, a class, a
 *   function whose source cannot be compiled on its own (one using `#private` fields, for instance)
 */
export function encodeTarget(target: unknown, argName = 'target'): EncodedTarget {
  if (typeof target === 'function') {
    const cached = byFunction.get(target);
    if (cached !== undefined) return cached;
    const source = Function.prototype.toString.call(target);
    if (NATIVE.test(source)) {
      throw new TypeError(
        `\`${argName}\` cannot be sent to another thread: native and bound functions have no source (got ${describe(target)}); ` +
        'pass a self-contained function, or a module export with fromModule()',
      );
    }
    if (CLASS.test(source)) {
      throw new TypeError(`\`${argName}\` cannot be a class (got class ${target.name || '(anonymous)'}); pass a function`);
    }
    const expression = toExpression(source);
    if (typeof expression !== 'string') {
      throw new TypeError(`\`${argName}\` cannot be sent to another thread: its source does not compile on its own (${expression.message}); got ${describe(target)}`);
    }
    const encoded: EncodedTarget = Object.freeze({ kind: 'source', source: expression, name: target.name });
    byFunction.set(target, encoded);
    return encoded;
  }
  if (isModuleTarget(target)) return Object.freeze({ kind: 'module', href: target.href, exportName: target.exportName });
  throw new TypeError(`Expected \`${argName}\` to be a function or a fromModule() reference, got ${describe(target)}`);
}
