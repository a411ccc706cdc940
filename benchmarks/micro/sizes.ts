/** Sizes of the micro benchmarks; benchmarks/python/micro.py uses the same numbers (--quick: a tenth). */
export interface MicroSizes {
  readonly lockOps: number;
  readonly asyncLockOps: number;
  readonly pingPongs: number;
  readonly increments: number;
  readonly threadStarts: number;
  readonly coldStarts: number;
  readonly threadTasks: number;
  readonly processTasks: number;
  readonly mapItems: number;
  readonly latencyTasks: number;
  /**
   * Round trips each latency side runs before timing: V8 optimizes a function after thousands of
   * calls, and a pool whose path has more functions than another's needs more calls to get there
   * (threadkit's thread pool ran its first 2 000 lone tasks at 2–3× its steady round trip).
   */
  readonly latencyWarm: number;
  readonly fib: number;
  readonly pyFib: number;
  readonly cpuTasks: number;
  /** Interleaved serial/parallel rounds of the speedup benchmarks (the best of each side is kept). */
  readonly cpuRounds: number;
  readonly memoryTasks: number;
}

const FULL: MicroSizes = {
  lockOps: 2_000_000, asyncLockOps: 200_000, pingPongs: 20_000, increments: 1_000_000, threadStarts: 200, coldStarts: 7,
  threadTasks: 20_000, processTasks: 10_000, mapItems: 200_000, latencyTasks: 2_000, latencyWarm: 4_000,
  fib: 33, pyFib: 27, cpuTasks: 8, cpuRounds: 9, memoryTasks: 100_000,
};

export function microSizes(quick: boolean): MicroSizes {
  if (!quick) return FULL;
  const tenth = (n: number): number => Math.max(1, Math.floor(n / 10));
  return {
    lockOps: tenth(FULL.lockOps), asyncLockOps: tenth(FULL.asyncLockOps), pingPongs: tenth(FULL.pingPongs),
    increments: tenth(FULL.increments), threadStarts: tenth(FULL.threadStarts), coldStarts: 1,
    threadTasks: tenth(FULL.threadTasks), processTasks: tenth(FULL.processTasks), mapItems: tenth(FULL.mapItems),
    latencyTasks: tenth(FULL.latencyTasks), latencyWarm: tenth(FULL.latencyWarm), fib: 30, pyFib: 25, cpuTasks: 4, cpuRounds: 2, memoryTasks: FULL.memoryTasks,
  };
}
