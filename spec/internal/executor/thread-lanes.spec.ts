/**
 * The thread pool's shortcuts for lone jobs (lib/internal/executor/thread-lanes.ts): a lone job goes
 * out held while that pays, and the plain way for a while after its threads kept going to sleep
 * before the release; its result is waited for on the spot while short tasks come back in time (the batch slot's protocol itself is in batch-slot.spec.ts, the whole path in
 * thread-pool-executor.spec.ts).
 */
import { describe, expect, test } from '@jest/globals';
import { ThreadLanes } from '../../../lib/internal/executor/thread-lanes';
import type { Job } from '../../../lib/internal/executor/batch';

function lanes(): ThreadLanes<Job> {
  // No lane is opened: the pool and its threads are made only with the first batch.
  return new ThreadLanes<Job>({ maxWorkers: 2, initializer: undefined, namePrefix: 'spec', resourceLimits: undefined, busy: () => false });
}

/** How many of the next `n` lone jobs would go out held. */
const heldOf = (kind: ThreadLanes<Job>, n: number): number => Array.from({ length: n }, () => kind.holds()).filter(Boolean).length;

describe('ThreadLanes early send', () => {
  test('lone jobs go out held while the threads are still polling at the release', () => {
    const kind = lanes();
    for (let i = 0; i < 100; i++) {
      expect(kind.holds()).toBe(true);
      kind.heldReleased(true);
    }
  });

  test('after 4 releases in a row that had to wake a sleeping thread, the next 64 lone jobs go the plain way, then one probes', () => {
    const kind = lanes();
    for (let i = 0; i < 3; i++) kind.heldReleased(false);
    kind.heldReleased(true); // a win resets the count
    for (let i = 0; i < 3; i++) kind.heldReleased(false);
    expect(kind.holds()).toBe(true);
    kind.heldReleased(false);
    expect(heldOf(kind, 64)).toBe(0);
    expect(kind.holds()).toBe(true); // the probe
    kind.heldReleased(true);
    expect(heldOf(kind, 10)).toBe(10);
  });

  test('waiting on the spot for a lone result follows the same rule, apart from the early send', () => {
    const kind = lanes();
    for (let i = 0; i < 4; i++) kind.resultPolled(false);
    expect(kind.holds()).toBe(true); // the early send is not affected
    expect(Array.from({ length: 64 }, () => kind.pollsResult()).filter(Boolean)).toHaveLength(0);
    expect(kind.pollsResult()).toBe(true);
  });
});
