/**
 * The internal target-thread starter: runs a target in a (warm) thread and hands back its outcome —
 * the value it returned or the error it threw, rebuilt in this realm — instead of sending errors to
 * the excepthook as a Thread does. For internal users such as Barrier's action, which passes its
 * action already encoded (a thread that revived a Barrier never rebuilds the function from source).
 */
import { RuntimeError } from '../../errors';
import { decodeError, decodeValue, encodeArgs, encodeTarget, type EncodedTarget } from '../transport';
import { FOREVER } from '../shm/deadline';
import { getCurrentThread, nextThreadName } from '../worker/context';
import { inThisRealm, ThreadRun } from './run';

/** How a target run by {@link startTargetThread} ended; `error` is rebuilt in this realm. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** A started target thread: wait for its outcome without or with blocking. */
export interface TargetThread {
  join(): Promise<Outcome>;
  joinSync(): Outcome;
}

/** A target already encoded (a Barrier's action travels encoded in its handle), else the user's target encoded now. */
function toEncodedTarget(target: unknown): EncodedTarget {
  const encoded = target as Partial<EncodedTarget> | null;
  if (typeof encoded === 'object' && encoded !== null && (encoded.kind === 'source' || encoded.kind === 'module')) return target as EncodedTarget;
  return encodeTarget(target, 'target'); // a function or fromModule reference; else the TypeError naming `target`
}

/**
 * Runs `target(...args)` in a thread of its own (a warm one when there is one).
 * @param target a function, a `fromModule` reference, or an already encoded target
 * @throws TypeError when the target or an argument cannot be sent
 */
export function startTargetThread(target: unknown, args: unknown[]): TargetThread {
  const encodedTarget = toEncodedTarget(target);
  const encodedArgs = encodeArgs(args);
  const name = nextThreadName();
  let outcome: Outcome | undefined;
  const run = new ThreadRun((end) => {
    if (end.kind === 'returned') outcome = { ok: true, value: decodeValue(end.value) };
    else if (end.kind === 'threw') outcome = { ok: false, error: decodeError(end.error) };
    else if (end.crash !== undefined) outcome = { ok: false, error: inThisRealm(end.crash) };
    else {
      const how = end.code === null ? 'its worker exited' : `its worker exited with code ${end.code}`;
      outcome = { ok: false, error: new RuntimeError(`thread ${name} ended before its target returned: ${how}`) };
    }
  });
  run.start({ target: encodedTarget, args: encodedArgs, name, daemon: getCurrentThread().daemon, wantResult: true });
  return {
    async join() {
      await run.waitAsync(FOREVER);
      return outcome!;
    },
    joinSync() {
      run.waitSync(FOREVER);
      return outcome!;
    },
  };
}
