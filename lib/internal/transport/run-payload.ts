/**
 * What a Thread-like object (a threading Thread, a multiprocessing Process) sends to run elsewhere:
 * its target with its arguments, or — when a subclass overrides `run()` — that method, sent by its
 * source text, with the instance's own enumerable fields as `this`. The fields must be cloneable or
 * shared objects; `super` calls and the class's other methods are not available on the other side.
 */
import { encodeTarget, type EncodedTarget } from './targets';
import { encodeValue, type EncodeOptions } from './values';

/** Target, arguments and `this` of a run, encoded. */
export interface RunPayload {
  readonly target: EncodedTarget;
  readonly args: unknown[];
  readonly thisArg: unknown;
}

/**
 * The payload of `instance`: its overriding `run()` with its fields when `run` is not `baseRun`,
 * else `fallback` (the encoded target and arguments).
 * @param name names the instance in error messages ("field "x" of Process-1")
 * @throws TypeError when the override or a field cannot be sent
 */
export function runPayload(instance: object, baseRun: unknown, fallback: { target: EncodedTarget; args: unknown[] }, name: string, options?: EncodeOptions): RunPayload {
  const run: unknown = (instance as { run?: unknown }).run;
  if (run === baseRun) return { target: fallback.target, args: fallback.args, thisArg: undefined };
  const target = encodeTarget(run, 'run');
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(instance)) {
    if (key === 'run') continue;
    fields[key] = encodeValue((instance as Record<string, unknown>)[key], `field ${JSON.stringify(key)} of ${name}`, options);
  }
  return { target, args: [], thisArg: fields };
}
