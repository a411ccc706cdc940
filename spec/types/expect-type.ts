/**
 * Type-level assertions for the files of spec/types/. These files are checked by `npm run typecheck`
 * (tsc over spec/) and never run: each `expectType<T>()(value)` fails to compile unless `value` has
 * exactly type T, and each `// @ts-expect-error` line fails to compile if its line is NOT an error.
 */

/** True when X and Y are the same type (not merely assignable either way). */
export type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends (<T>() => T extends Y ? 1 : 2) ? true : false;

/** `expectType<number[]>()(value)` compiles only when `value` is exactly `number[]`. */
export function expectType<T>(): <U>(value: U & (Equal<T, U> extends true ? unknown : never)) => void {
  return () => undefined;
}
