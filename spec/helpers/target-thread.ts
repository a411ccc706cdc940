/**
 * A target run in a real (warm) thread, for specs that need what it returned: the value or the
 * error it threw, rebuilt in this realm — where a Thread drops the value and sends errors to the
 * excepthook. It runs the same ThreadRun as Thread, with the protocol's `wantResult` set.
 */
import { RuntimeError } from '../../lib/errors';
import { decodeError, decodeValue, encodeArgs, encodeTarget } from '../../lib/internal/transport';
import { FOREVER } from '../../lib/internal/shm/deadline';
import { getCurrentThread, nextThreadName } from '../../lib/internal/worker/context';
import { inThisRealm, ThreadRun } from '../../lib/internal/thread/run';

/** How a target run by {@link startTargetThread} ended; `error` is rebuilt in this realm. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** A started target thread: wait for its outcome without or with blocking. */
export interface TargetThread {
  join(): Promise<Outcome>;
  joinSync(): Outcome;
}

/**
 * Runs `target(...args)` in a thread of its own (a warm one when there is one).
 * @param target a function or a `fromModule` reference
 * @throws TypeError when the target or an argument cannot be sent
 */
export function startTargetThread(target: unknown, args: unknown[]): TargetThread {
  const encodedTarget = encodeTarget(target, 'target');
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
