// Runs inside a thread or child process of a distributed worker's local pool; imports only internal/.
/**
 * The module a distributed worker hands to its local ThreadPoolExecutor or ProcessPoolExecutor:
 * `runTask` receives a task exactly as it arrived from Redis (an encoded target and encoded
 * arguments) and runs it where the pool runs code, with the same runner the local executors use.
 * It never throws: it returns the outcome record (value or encoded error), which the worker signs
 * and sends back as it is, so the task's error keeps its class, stack and cause on the way.
 *
 * The worker's main thread thus never compiles or calls task code: it only checks signatures
 * and moves bytes.
 */
import type { EncodedTarget } from '../internal/transport';
import { invokeSync } from '../internal/transport/invoke';
import { runItem, type MaybeOutcome } from '../internal/executor/run-item';
import { packBatch } from '../internal/executor/batch';

/** Runs one call of `target`, or with `chunk` one call per element of `args` (a `map` chunk). */
export function runTask(target: EncodedTarget, args: unknown[], chunk: boolean): MaybeOutcome {
  // A single call goes straight to the runner; a chunk through the pools' chunk runner.
  return chunk ? runItem(packBatch([{ target, args, chunk }]), 0) : invokeSync(target, args);
}
