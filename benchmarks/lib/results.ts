/** The shapes of the benchmark results (results.json) shared by the runner, the reports and the chart. */
import type { Family } from '../strategies';
import type { WorkloadSet } from '../workloads';

/** One strategy on one workload. */
export interface JobResult {
  readonly workload: string;
  readonly set: WorkloadSet;
  readonly strategy: string;
  readonly label: string;
  readonly family: Family;
  /** Best wall time over the repetitions, ms (null when the strategy failed). */
  readonly wallMs: number | null;
  /** Process-tree CPU ms during that repetition. */
  readonly cpuMs: number | null;
  /** cpuMs / wallMs: 1 = one core busy the whole time. */
  readonly cpuUse: number | null;
  /** CPU that other processes on the machine used meanwhile / wallMs (null where not measurable). */
  readonly othersUse: number | null;
  /** Serial wall time / this wall time (CPython rows: CPython serial / this). */
  readonly speedup: number | null;
  /** Results equal the serial run's (CPython: CPython serial's). */
  readonly ok: boolean | null;
  readonly reps: number;
  /** Why it did not run, when it did not. */
  readonly error?: string;
}

/** One implementation in one micro benchmark. */
export interface MicroRow {
  readonly bench: string;
  readonly impl: string;
  readonly threadkit: boolean;
  readonly value: number | null;
  readonly error?: string;
  readonly note?: string;
}

/** A micro benchmark: what it measures, its unit, and the goal of threadkit's row. */
export interface MicroBench {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  readonly goal?: { readonly op: '≤' | '≥'; readonly value: number; readonly impl?: string };
  readonly rows: MicroRow[];
  /** Problems that did not spoil the numbers (a pool that would not shut down). */
  readonly warnings?: string[];
}

export interface Meta {
  readonly date: string;
  readonly node: string;
  readonly python: string | null;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly quick: boolean;
  readonly workers: Readonly<Record<string, number>>;
  readonly measuresChildren: boolean;
  readonly durationMs: number;
  /** os.loadavg() when the run started (1, 5, 15 minutes). */
  readonly loadAverage: readonly number[];
  /** Which copy of threadkit ran: compiled, or lib/ through tsx (lib/threadkit.ts). */
  readonly library: string;
}

export interface WorkloadInfo {
  readonly name: string;
  readonly set: WorkloadSet;
  readonly description: string;
  readonly count: number;
  readonly size: string;
  readonly pySize: string;
}

export interface Results {
  meta: Meta;
  workloads: WorkloadInfo[];
  results: JobResult[];
  micro: MicroBench[];
  lesson: string[];
  /** Problems met along the way that did not spoil the numbers (a pool that would not shut down, …). */
  warnings: string[];
}
