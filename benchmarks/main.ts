/**
 * `npm run bench` — the main job: which way of running work wins, for IO-bound and for CPU-bound
 * work, in Node — serial, async on the main thread, a threadkit Thread per task, threadkit's
 * ThreadPoolExecutor, ProcessPoolExecutor and Pool, raw piscina and workerpool, and CPython's
 * executors on the same tasks. Prints a table and the lesson; writes bench-results/results.json,
 * results.md and chart.svg. `--only micro` runs the micro benchmarks instead. See lib/cli.ts.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, USAGE, type Options } from './lib/cli';
import { jobSteps, runJob } from './lib/job';
import { lesson } from './lib/lesson';
import { measuresChildren, now } from './lib/measure';
import { Progress } from './lib/progress';
import { pythonVersion } from './lib/python';
import { reportText, writeReports } from './lib/report';
import { useCompiledLibrary } from './lib/threadkit';
import type { Results } from './lib/results';
import { MICRO_NAMES, microSteps, runMicro } from './micro';
import { runDistributedBench } from './distributed';
import { WORKLOAD_NAMES, workloads } from './workloads';

interface Selection {
  readonly workloads: string[];
  readonly micro: string[];
}

/** Turns `--only` names into workloads and micro benchmarks. */
export function select(only: readonly string[]): Selection {
  const all = workloads(true);
  if (only.length === 0) return { workloads: [...WORKLOAD_NAMES], micro: [] };
  const chosen = { workloads: new Set<string>(), micro: new Set<string>() };
  for (const name of only) {
    if (name === 'distributed') continue; // run on its own by main() (benchmarks/distributed)
    else if (name === 'all') {
      WORKLOAD_NAMES.forEach((w) => chosen.workloads.add(w));
      MICRO_NAMES.forEach((m) => chosen.micro.add(m));
    } else if (name === 'cpu' || name === 'io') all.filter((w) => w.set === name).forEach((w) => chosen.workloads.add(w.name));
    else if (name === 'micro') MICRO_NAMES.forEach((m) => chosen.micro.add(m));
    else if (WORKLOAD_NAMES.includes(name)) chosen.workloads.add(name);
    else if (MICRO_NAMES.includes(name)) chosen.micro.add(name);
    else throw new TypeError(`unknown name ${JSON.stringify(name)} for --only; expected cpu, io, micro, all, ${WORKLOAD_NAMES.join(', ')}, or ${MICRO_NAMES.join(', ')}`);
  }
  // Keep the canonical order.
  return { workloads: WORKLOAD_NAMES.filter((w) => chosen.workloads.has(w)), micro: MICRO_NAMES.filter((m) => chosen.micro.has(m)) };
}

/** The progress of the run in course (for the message of an unexpected stop). */
let activeProgress: Progress | undefined;
const progressLabel = (): string => activeProgress?.current ?? 'start-up';

async function main(options: Options): Promise<void> {
  if (options.only.includes('distributed')) {
    await runDistributedBench(options, (text) => (options.json ? process.stderr : process.stdout).write(`${text}\n`));
    if (options.only.every((name) => name === 'distributed')) return;
  }
  const started = now();
  const loadAverage = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const selection = select(options.only);
  // What a user runs (no TypeScript loader in the workers); --quick takes the sources when no build is up to date.
  const library = await useCompiledLibrary(!options.quick);
  const chosen = workloads(options.quick).filter((w) => selection.workloads.includes(w.name));
  const progress = new Progress((chosen.length ? jobSteps(chosen, options) : 0) + (selection.micro.length ? microSteps(selection.micro, options) : 0));
  activeProgress = progress;
  const job = chosen.length ? await runJob(chosen, options, progress) : { results: [], infos: [], workers: {}, warnings: [] };
  const micro = selection.micro.length ? await runMicro(selection.micro, options, progress) : [];
  progress.end();
  const results: Results = {
    meta: {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      node: process.versions.node,
      python: options.python ? pythonVersion() : null,
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
      quick: options.quick,
      workers: job.workers,
      measuresChildren,
      durationMs: Math.round(now() - started),
      loadAverage,
      library,
    },
    workloads: job.infos,
    results: job.results,
    micro,
    lesson: lesson(job.results, os.availableParallelism()),
    warnings: [...job.warnings, ...micro.flatMap((m) => m.warnings ?? [])],
  };
  const files = writeReports(results, options.out);
  const text = `${reportText(results)}\n\nWrote ${files.map((f) => path.relative(process.cwd(), f) || f).join(', ')} (${(results.meta.durationMs / 1000).toFixed(0)} s).\n`;
  if (options.json) {
    process.stderr.write(text);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    process.stdout.write(text);
  }
}

if (require.main === module) {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
    if (!options.help) select(options.only);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  let finished = false;
  // A promise that never settles while nothing else is pending would let Node exit silently, in the
  // middle of the run and with status 0: say what was running and fail instead.
  process.on('beforeExit', () => {
    if (finished) return;
    process.stderr.write(`\nbenchmark stopped: the event loop ran empty while waiting on "${progressLabel()}" — a promise that never settles (a lost task?)\n`);
    process.exit(1);
  });
  main(options).then(
    // Exit explicitly: a pool that a failed strategy could not shut down must not hold the process.
    () => {
      finished = true;
      process.stdout.write('', () => process.exit(0));
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
