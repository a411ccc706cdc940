// Runs in a child process or worker thread of BullMQ's sandbox, started by a distributed worker.
/**
 * The processor that a distributed worker's BullMQ sandbox loads (its `ChildPool` forks a process,
 * or starts a worker thread, per job slot, and keeps it for the next jobs): it receives a job
 * whose signature the worker's main thread has already checked, runs its task with the runner the
 * local executors use, and returns the serialized outcome (value or encoded error), which the main
 * thread signs. It never throws for the task's sake: a task's error is its outcome, so it keeps
 * its class, stack and cause on the way. The secret never reaches this process or thread.
 *
 * A child process ends with its worker, however the worker ends (also by SIGKILL): the same death
 * watch as the library's own children.
 */
import { isMainThread } from 'node:worker_threads';
import { encodeError } from '../internal/transport';
import { invokeSync } from '../internal/transport/invoke';
import { runItem } from '../internal/executor/run-item';
import { packBatch } from '../internal/executor/batch';
import { watchParent } from '../internal/child/death-watch';
import { decodeTask, packOutcome, type JobData } from './protocol';
import type { EncodedOutcome } from '../internal/transport';

if (isMainThread && process.send !== undefined) watchParent(process.ppid, () => process.exit(0));

const encodeFailure = (error: unknown): EncodedOutcome => ({ ok: false, error: encodeError(error) });

/** BullMQ's sandboxed processor: the job's task, run here; resolves with its serialized outcome. */
export default function runSandboxedTask(job: { readonly data: JobData }): string | Promise<string> {
  let outcome;
  try {
    const { target, args, chunk } = decodeTask(job.data);
    // A single call goes straight to the runner; a `map` chunk through the pools' chunk runner.
    outcome = chunk ? runItem(packBatch([{ target, args, chunk }]), 0) : invokeSync(target, args);
  } catch (error) {
    return packOutcome(encodeFailure(error), encodeFailure);
  }
  if (!(outcome instanceof Promise)) return packOutcome(outcome, encodeFailure);
  return outcome.then(
    (later) => packOutcome(later, encodeFailure),
    (error: unknown) => packOutcome(encodeFailure(error), encodeFailure),
  );
}
