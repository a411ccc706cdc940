/**
 * A block of the arena: words mapped in several processes, slept on and woken with the native
 * addon's shared futex (never with `Atomics.wait`/`notify`, which no other process sees; see
 * internal/shm/block.ts for why the two must never mix).
 */
import type { Block, ParkResult } from '../shm/block';
import type { Native } from './native';

/** Where a block is: the arena (its id), the segment and the byte offset of the block's header. */
export interface Place {
  readonly arenaId: string;
  readonly segment: number;
  readonly offset: number;
}

export class ArenaBlock implements Block {
  constructor(
    readonly i32: Int32Array,
    readonly place: Place,
    private readonly native: Native,
  ) {}

  waitSync(index: number, expected: number, ms: number): ParkResult {
    return this.native.wait(this.i32, index, expected, ms);
  }

  waitAsync(index: number, expected: number, ms: number): ParkResult | Promise<ParkResult> {
    return this.native.waitAsync(this.i32, index, expected, ms);
  }

  wake(index: number, count: number): number {
    return this.native.wake(this.i32, index, count);
  }
}
