/**
 * Garbage-collection checks for the ports of CPython's reference tests (test_free_reference,
 * test_no_stale_references, test_release_task_refs).
 *
 * `--expose-gc` can be turned on at run time; the `gc` function then exists in contexts created
 * afterwards, so one is made for it (jest's own context was made before). A weakly held object is
 * "collected" once, after some full collections spread over a few turns of the event loop (a
 * promise reaction still queued may hold it for a turn), its WeakRef is empty.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const fullGc = vm.runInNewContext('gc') as () => void;

/** How many collect-and-look rounds before an object counts as leaked. */
const ROUNDS = 20;
const ROUND_MS = 10;

/** True once `ref`'s object has been collected; false if it is still alive after every round. */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let round = 0; round < ROUNDS; round++) {
    await new Promise((resolve) => setTimeout(resolve, ROUND_MS));
    fullGc();
    if (ref.deref() === undefined) return true;
  }
  return false;
}
