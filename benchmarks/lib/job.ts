/**
 * Runs the main job: every selected workload by every strategy, then by CPython.
 *
 * Per workload set, each strategy is opened once (pools started and warmed), runs each workload
 * (one untimed warm-up run, then `reps` timed runs, the fastest kept), and is closed. A strategy that
 * fails or hangs costs only its own rows: the error is recorded and the run goes on.
 */
import * as os from 'node:os';
import { STRATEGIES, PYTHON_STRATEGIES, type Runner, type Strategy } from '../strategies';
import { setUpFixtures, type Fixtures, type Workload, type WorkloadSet } from '../workloads';
import type { Options } from './cli';
import { bestSample, measure, MIN_WALL_FOR_CPU_MS, type Sample } from './measure';
import type { Progress } from './progress';
import { pythonVersion, runPython } from './python';
import type { JobResult, WorkloadInfo } from './results';
import { reason } from './threadkit';
import { SHUTDOWN_LIMIT_MS, within } from './within';

/**
 * Parallel CPU-bound runs during which other processes took a good part of a core: their speedups
 * are understated (the work had fewer cores than the report says).
 */
export function crowdedRuns(results: readonly JobResult[]): string[] {
  const out: string[] = [];
  for (const workload of [...new Set(results.map((r) => r.workload))]) {
    const hit = results.filter((r) => r.workload === workload && isParallel(r.strategy) && longEnough(r) && (r.othersUse ?? 0) >= CROWDED);
    if (hit.length) {
      out.push(`during ${workload}, other processes used half a core or more in the runs of ${hit.map((r) => `${r.label} (${Math.round((r.othersUse ?? 0) * 100)}%)`).join(', ')}: those speedups are understated`);
    }
  }
  return out;
}

/** Whether a run lasted long enough for its CPU figures to mean something (the report's "—" otherwise). */
function longEnough(r: JobResult): boolean {
  return (r.wallMs ?? 0) >= MIN_WALL_FOR_CPU_MS;
}

/** Strategies that use more than one core. */
export function isParallel(strategy: string): boolean {
  return !['serial', 'async', 'cpython-serial'].includes(strategy);
}

/** Below this CPU use, a serial CPU-bound run did not get a whole core. */
const STARVED = 0.85;
/** From this much CPU used by other processes during a CPU-bound run, its speedup is understated. */
const CROWDED = 0.5;

/** Repetitions: timed runs per (strategy, workload) and whether an untimed warm-up run precedes them. */
export function repetitions(quick: boolean): { reps: number; warmup: boolean } {
  return quick ? { reps: 1, warmup: false } : { reps: 5, warmup: true };
}

/** Pool size of a set: --workers, else the CPU count for CPU-bound work and 8 for IO-bound work. */
export function workersFor(set: WorkloadSet, options: Options): number {
  return options.workers ?? (set === 'cpu' ? os.availableParallelism() : Math.max(8, os.availableParallelism()));
}

/** How many progress steps {@link runJob} takes. */
export function jobSteps(selected: readonly Workload[], options: Options): number {
  const { reps, warmup } = repetitions(options.quick);
  const sets = new Set(selected.map((w) => w.set)).size;
  const python = options.python ? sets : 0;
  return selected.length * STRATEGIES.length * (reps + (warmup ? 1 : 0)) + sets * STRATEGIES.length + python;
}

function sameResults(a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean | null {
  if (!a || !b) return null;
  return a.length === b.length && a.every((v, i) => Number(v) === Number(b[i]));
}

function describeArg(arg: unknown): string {
  if (typeof arg === 'number') return String(arg);
  if (typeof arg === 'string') return arg.startsWith('http') ? 'url' : 'file';
  return typeof arg;
}

/** The report's description of a workload's sizes. */
export function workloadInfo(w: Workload, fixtures: Fixtures): WorkloadInfo {
  const size = (args: unknown[]): string => `${args.length} × ${w.task}(${describeArg(args[0])})`;
  return { name: w.name, set: w.set, description: w.description, count: w.count, size: size(w.args(fixtures)), pySize: size(w.pyArgs(fixtures)) };
}

interface Row {
  sample?: Sample;
  values?: number[];
  error?: string;
}

/** A strategy opened for a set, or why it could not be. */
interface Opened {
  readonly strategy: Strategy;
  readonly runner?: Runner;
  /** Set when the strategy cannot run any more (it failed to start, or a run timed out). */
  broken?: string;
}

/**
 * Runs every workload of a set by every strategy, **interleaved**: all strategies are opened first,
 * then each round runs each strategy once (in an order rotated every round) before the next round
 * starts. On a machine shared with other work the load drifts; interleaving makes every strategy see
 * the same drift, so the speedups stay meaningful even when the absolute times do not.
 */
async function runSet(workloads: readonly Workload[], fixtures: Fixtures, workers: number, options: Options, progress: Progress, warnings: string[]): Promise<Map<string, Map<string, Row>>> {
  const { reps, warmup } = repetitions(options.quick);
  const limit = options.quick ? 30_000 : 120_000;
  const rows = new Map<string, Map<string, Row>>(STRATEGIES.map((st) => [st.id, new Map<string, Row>()]));
  const opened: Opened[] = [];
  for (const strategy of STRATEGIES) {
    progress.status(strategy.pooled ? `${strategy.label}: starting ${workers} workers` : strategy.label);
    try {
      opened.push({ strategy, runner: await within(strategy.open(workers), limit, `${strategy.label} start`) });
      progress.step(`${strategy.label}: ready`);
    } catch (error) {
      opened.push({ strategy, broken: `unavailable: ${reason(error)}` });
      progress.step(`${strategy.label}: unavailable (${reason(error)})`);
    }
  }
  const rounds = reps + (warmup ? 1 : 0);
  for (const w of workloads) {
    const args = w.args(fixtures);
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < rounds; round++) {
      const timed = round >= rounds - reps;
      for (let k = 0; k < opened.length; k++) {
        const o = opened[(k + round) % opened.length];
        const own = rows.get(o.strategy.id)!;
        const what = `${o.strategy.label} · ${w.name}`;
        if (o.broken || own.get(w.name)?.error) {
          if (o.broken) own.set(w.name, { error: o.broken });
          progress.step(`${what} skipped`);
          continue;
        }
        try {
          const runner = o.runner!;
          if (runner.prepare) await within(runner.prepare(w.task, args), limit, `${o.strategy.label} preparing ${w.name}`);
          const { sample, value } = await measure(() => within(runner.run(w.task, args), limit, `${o.strategy.label} on ${w.name}`));
          if (timed) samples.set(o.strategy.id, [...(samples.get(o.strategy.id) ?? []), sample]);
          own.set(w.name, { values: value });
          progress.step(`${what} ${timed ? `${Math.round(sample.wallMs)} ms` : '(warm-up)'}`);
        } catch (error) {
          const message = reason(error);
          own.set(w.name, { error: message });
          progress.note(`  ${o.strategy.label} on ${w.name} failed: ${message}`);
          // A run that timed out may have left its pool wedged: the rest of this strategy is skipped.
          if (/did not finish/.test(message)) o.broken = `skipped after a timeout on ${w.name}`;
          progress.step(`${what} failed`);
        }
      }
    }
    for (const o of opened) {
      const own = rows.get(o.strategy.id)!;
      const row = own.get(w.name);
      const taken = samples.get(o.strategy.id);
      if (row && !row.error && taken?.length) own.set(w.name, { ...row, sample: bestSample(taken) });
      else if (!row) own.set(w.name, { error: o.broken ?? 'did not run' });
    }
  }
  for (const o of opened) {
    if (!o.runner) continue;
    await within(o.runner.close(), SHUTDOWN_LIMIT_MS, `${o.strategy.label} shutdown`).catch((error: unknown) => {
      warnings.push(reason(error));
      progress.note(`  ${o.strategy.label}: ${reason(error)}`);
    });
  }
  return rows;
}

function toResult(w: Workload, s: Pick<Strategy, 'id' | 'label' | 'family'>, row: Row, baseline: Row | undefined, reps: number): JobResult {
  const wallMs = row.sample?.wallMs ?? null;
  const cpuMs = row.sample?.cpuMs ?? null;
  const baseWall = baseline?.sample?.wallMs;
  return {
    workload: w.name, set: w.set, strategy: s.id, label: s.label, family: s.family,
    wallMs, cpuMs,
    cpuUse: wallMs && cpuMs !== null ? cpuMs / wallMs : null,
    othersUse: wallMs && row.sample?.othersCpuMs != null ? row.sample.othersCpuMs / wallMs : null,
    speedup: wallMs && baseWall ? baseWall / wallMs : null,
    ok: row.error ? null : sameResults(row.values, baseline?.values),
    reps,
    ...(row.error ? { error: row.error } : {}),
  };
}

async function runPythonSet(workloads: readonly Workload[], fixtures: Fixtures, workers: number, options: Options, progress: Progress): Promise<JobResult[]> {
  const { reps, warmup } = repetitions(options.quick);
  const job = { workers, reps, warmup, workloads: workloads.map((w) => ({ name: w.name, task: w.task, args: w.pyArgs(fixtures) })) };
  const rows = new Map<string, Row>();
  try {
    const out = await runPython<Array<{ workload: string; strategy: string; wallMs: number; cpuMs: number; othersCpuMs: number | null; results: number[] }>>(
      'workloads.py', [], job, (line) => progress.status(line), options.quick ? 60_000 : 300_000);
    for (const r of out.results) rows.set(`${r.strategy}/${r.workload}`, { sample: { wallMs: r.wallMs, cpuMs: r.cpuMs, othersCpuMs: r.othersCpuMs }, values: r.results });
  } catch (error) {
    progress.note(`  CPython: ${reason(error)}`);
    for (const s of PYTHON_STRATEGIES) for (const w of workloads) rows.set(`${s.id}/${w.name}`, { error: reason(error) });
  }
  progress.step(`CPython: done`);
  return workloads.flatMap((w) => PYTHON_STRATEGIES.map((s) => toResult(w, s, rows.get(`${s.id}/${w.name}`) ?? { error: 'no result' }, rows.get(`cpython-serial/${w.name}`), reps)));
}

/** Runs the selected workloads; resolves to one result per (workload, strategy). */
export async function runJob(selected: readonly Workload[], options: Options, progress: Progress): Promise<{ results: JobResult[]; infos: WorkloadInfo[]; workers: Record<string, number>; warnings: string[] }> {
  const { reps } = repetitions(options.quick);
  const fixtureHandle = await setUpFixtures(Math.max(0, ...selected.filter((w) => w.set === 'io').map((w) => w.count)));
  const results: JobResult[] = [];
  const workers: Record<string, number> = {};
  const warnings: string[] = [];
  try {
    const fixtures = fixtureHandle.fixtures;
    for (const set of ['cpu', 'io'] as const) {
      const inSet = selected.filter((w) => w.set === set);
      if (inSet.length === 0) continue;
      const n = workersFor(set, options);
      workers[set] = n;
      const byStrategy = await runSet(inSet, fixtures, n, options, progress, warnings);
      const serial = byStrategy.get('serial')!;
      for (const w of inSet) {
        for (const strategy of STRATEGIES) results.push(toResult(w, strategy, byStrategy.get(strategy.id)!.get(w.name)!, serial.get(w.name), reps));
        const base = results.find((r) => r.workload === w.name && r.strategy === 'serial');
        // Serial CPU-bound work keeps one core busy; when it got less, other processes took the cores.
        if (set === 'cpu' && base?.cpuUse != null && longEnough(base) && base.cpuUse < STARVED) {
          warnings.push(`serial ${w.name} ran on ${Math.round(base.cpuUse * 100)}% of a core: other processes competed for the cores, so its speedups are inflated or noisy`);
        }

      }
      if (options.python) {
        if (pythonVersion()) results.push(...(await runPythonSet(inSet, fixtures, n, options, progress)));
        else progress.note('python3 not found: the CPython rows are skipped');
      }
      if (set === 'cpu') warnings.push(...crowdedRuns(results.filter((r) => r.set === 'cpu')));
    }
    return { results, infos: selected.map((w) => workloadInfo(w, fixtures)), workers, warnings };
  } finally {
    await fixtureHandle.tearDown();
  }
}
