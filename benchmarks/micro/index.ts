/**
 * The micro benchmarks: `npm run bench -- --only micro` (or a benchmark's name), or alone with
 * `npx tsx benchmarks/micro/index.ts [--quick] [--only lock-sync,…]`.
 *
 * CPython runs first (benchmarks/python/micro.py, its memory benchmark in a process of its own),
 * then each Node benchmark, one at a time so that measurements never compete for the cores.
 */
import * as os from 'node:os';
import { parseArgs, type Options } from '../lib/cli';
import { Progress } from '../lib/progress';
import { pythonVersion, runPython } from '../lib/python';
import type { MicroBench, MicroRow } from '../lib/results';
import { markdownTable, num, textTable, type Align } from '../lib/table';
import { reason, useCompiledLibrary } from '../lib/threadkit';
import { MICRO, runChild, warnings } from './benches';
import { microSizes } from './sizes';

export const MICRO_NAMES = MICRO.map((m) => m.id);

/** Progress steps of {@link runMicro}. */
export function microSteps(ids: readonly string[], options: Options): number {
  return ids.length + (options.python ? 2 : 0);
}

/** Runs the micro benchmarks `ids` (all when empty). */
export async function runMicro(ids: readonly string[], options: Options, progress: Progress): Promise<MicroBench[]> {
  const selected = MICRO.filter((m) => ids.length === 0 || ids.includes(m.id));
  const sizes = microSizes(options.quick);
  const workers = options.workers ?? os.availableParallelism();
  let python: Record<string, Record<string, number | boolean>> | null = null;
  if (options.python) {
    const names = [...new Set(selected.flatMap((m) => m.python))];
    const inProcess = names.filter((n) => n !== 'memory');
    if (!pythonVersion()) {
      progress.note('python3 not found: the CPython rows are skipped');
    } else {
      python = {};
      const flags = [...(options.quick ? ['--quick'] : []), '--workers', String(workers)];
      for (const group of [inProcess, names.includes('memory') ? ['memory'] : []]) {
        if (group.length === 0) {
          progress.step('CPython: nothing to run');
          continue;
        }
        progress.status(`CPython micro: ${group.join(', ')}`);
        try {
          const out = await runPython<Record<string, Record<string, number | boolean>>>('micro.py', [...flags, '--only', group.join(',')], {}, (line) => progress.status(line), options.quick ? 60_000 : 300_000);
          Object.assign(python, out.results);
        } catch (error) {
          progress.note(`  CPython micro: ${reason(error)}`);
        }
        progress.step(`CPython micro: ${group.join(', ')}`);
      }
    }
  }
  const ctx = { sizes, workers, quick: options.quick, python, child: runChild };
  const out: MicroBench[] = [];
  for (const def of selected) {
    progress.status(`micro: ${def.id}`);
    let benchRows: MicroRow[];
    try {
      benchRows = await def.run(ctx);
    } catch (error) {
      benchRows = [{ bench: def.id, impl: 'threadkit', threadkit: true, value: null, error: reason(error) }];
    }
    const { run: _run, python: _python, ...bench } = def;
    const problems = warnings.splice(0);
    for (const problem of problems) progress.note(`  ${def.id}: ${problem}`);
    out.push({ ...bench, rows: benchRows, ...(problems.length ? { warnings: problems } : {}) });
    const first = benchRows[0];
    progress.step(`micro: ${def.id} ${first?.value !== null && first?.value !== undefined ? `${num(first.value)} ${def.unit}` : first?.error ?? ''}`);
  }
  return out;
}

/** "2.5× faster" / "3.1× slower" of `row` against the threadkit row `base`. */
function ratio(bench: MicroBench, row: MicroRow, base: MicroRow | undefined): string {
  if (!base || base === row || base.value === null || row.value === null || row.value === 0 || base.value === 0) return '';
  // How many times better threadkit is than this row.
  const r = bench.better === 'lower' ? row.value / base.value : base.value / row.value;
  return r >= 1 ? `threadkit ${r.toFixed(r >= 10 ? 0 : 1)}× better` : `threadkit ${(1 / r).toFixed(1 / r >= 10 ? 0 : 1)}× worse`;
}

function goalCell(bench: MicroBench, row: MicroRow): string {
  const goal = bench.goal;
  if (!goal || !row.threadkit || (goal.impl && goal.impl !== row.impl)) return '';
  const target = `${goal.op} ${Number.isInteger(goal.value) ? num(goal.value) : goal.value}`;
  if (row.value === null) return `${target}: missed`;
  const met = goal.op === '≤' ? row.value <= goal.value : row.value >= goal.value;
  return `${target}: ${met ? 'met' : 'missed'}`;
}

const HEADERS = ['benchmark', 'implementation', 'value', 'unit', 'vs threadkit', 'goal', 'note'];
const ALIGN: Align[] = ['l', 'l', 'r', 'l', 'l', 'l', 'l'];

function tableRows(benches: readonly MicroBench[]): string[][] {
  const out: string[][] = [];
  for (const bench of benches) {
    const base = bench.rows.find((r) => r.threadkit);
    bench.rows.forEach((row, i) => {
      out.push([
        i === 0 ? bench.title : '',
        row.impl,
        row.value === null ? 'error' : num(row.value),
        bench.unit,
        ratio(bench, row, base),
        goalCell(bench, row),
        row.error ? row.error : row.note ?? '',
      ]);
    });
  }
  return out;
}

/** The micro results as a text table. */
export function microText(benches: readonly MicroBench[]): string {
  return textTable(HEADERS, tableRows(benches), ALIGN);
}

/** The micro results as a Markdown table. */
export function microMarkdown(benches: readonly MicroBench[]): string {
  return markdownTable(HEADERS, tableRows(benches), ALIGN);
}

if (require.main === module) {
  // Alone: the same flags as main.ts; prints the table and nothing else.
  void (async () => {
    const options = parseArgs(process.argv.slice(2));
    await useCompiledLibrary(!options.quick);
    const ids = options.only.filter((n) => MICRO_NAMES.includes(n));
    const progress = new Progress(microSteps(ids.length ? ids : MICRO_NAMES, options));
    const benches = await runMicro(ids, options, progress);
    progress.end();
    process.stdout.write(`${options.json ? JSON.stringify(benches, null, 2) : microText(benches)}\n`);
    process.exit(0);
  })();
}
