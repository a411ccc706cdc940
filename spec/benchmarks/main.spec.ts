/**
 * `npm run bench` (benchmarks/main.ts) runs, prints its table, and writes results.json, results.md
 * and chart.svg. A small subset runs with --quick (well under a minute); the numbers themselves are
 * not checked — only that every strategy produced a row, with a correct result where it ran.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killAll, runScript, type Run } from '../examples/run-example';

const STRATEGIES = ['serial', 'async', 'thread', 'thread-cold', 'tpe', 'ppe', 'pool', 'piscina', 'workerpool'];

interface JsonOut {
  meta: { quick: boolean; node: string; python: string | null };
  workloads: Array<{ name: string }>;
  results: Array<{ workload: string; strategy: string; wallMs: number | null; speedup: number | null; ok: boolean | null; error?: string }>;
  micro: Array<{ id: string; rows: Array<{ impl: string; value: number | null }> }>;
  lesson: string[];
}

let out: string;
let run: Run;
let json: JsonOut;

afterEach(() => killAll());

beforeAll(async () => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'threadkit-bench-spec-'));
  run = await runScript('benchmarks/main.ts', ['--quick', '--only', 'fib', 'timers', 'lock-sync', '--json', '--out', out], 110_000);
  json = JSON.parse(run.stdout) as JsonOut;
}, 120_000);

afterAll(() => {
  killAll();
  fs.rmSync(out, { recursive: true, force: true });
});

describe('npm run bench -- --quick --only fib timers lock-sync --json', () => {
  test('exits 0 and prints only JSON on stdout, the table and the lesson on stderr', () => {
    expect(run.code).toBe(0);
    expect(json.meta.quick).toBe(true);
    expect(run.stderr).toMatch(/speedup vs serial\s+fib\s+timers/);
    expect(run.stderr).toContain('What this run shows');
  });

  test('has one row per strategy and workload, and every strategy ran (CPython too, when python3 is there)', () => {
    expect(json.workloads.map((w) => w.name)).toEqual(['fib', 'timers']);
    for (const workload of ['fib', 'timers']) {
      const rows = json.results.filter((r) => r.workload === workload);
      expect(rows.map((r) => r.strategy).filter((s) => !s.startsWith('cpython-'))).toEqual(STRATEGIES);
      // A strategy that fails shows as an error row in the report; here it is a failure.
      const mustRun = rows.filter((r) => !r.strategy.startsWith('cpython-') || json.meta.python !== null);
      expect(mustRun.filter((r) => r.wallMs === null || r.error !== undefined).map((r) => `${r.strategy}: ${r.error}`)).toEqual([]);
      const serial = rows.find((r) => r.strategy === 'serial')!;
      expect(serial.speedup).toBe(1);
      // Where a strategy ran, it computed what serial computed.
      for (const r of rows) if (r.wallMs !== null && !r.strategy.startsWith('cpython-')) expect(r.ok).toBe(true);
    }
  });

  test('runs the selected micro benchmark next to its peers', () => {
    expect(json.micro.map((m) => m.id)).toEqual(['lock-sync']);
    expect(json.micro[0].rows[0].impl).toBe('threadkit Lock');
  });

  test('derives a lesson from the numbers', () => {
    expect(json.lesson.length).toBeGreaterThanOrEqual(2);
    expect(json.lesson.join(' ')).toMatch(/timers: async/);
  });

  test('writes results.json, results.md and an SVG chart with a legend and every workload', () => {
    const written = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as JsonOut;
    expect(written.results).toEqual(json.results);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain('# threadkit benchmark results');
    expect(md).toContain('| workload | strategy | wall ms | speedup | CPU use | others | check |');
    expect(md).toContain('![speedup vs serial per workload](chart.svg)');
    const svg = fs.readFileSync(path.join(out, 'chart.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const label of ['fib', 'timers', 'ThreadPoolExecutor', 'piscina (raw)', 'CPU-bound', 'IO-bound']) expect(svg).toContain(label);
  });
});

describe('benchmarks/main.ts flags', () => {
  test('--help prints the usage, naming every micro benchmark, and exits 0', async () => {
    const help = await runScript('benchmarks/main.ts', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run bench -- /);
    const { MICRO_NAMES } = require('../../benchmarks/micro') as typeof import('../../benchmarks/micro');
    const listed = new Set(help.stdout.split(/[\s(),]+/));
    expect(MICRO_NAMES.filter((name) => !listed.has(name))).toEqual([]);
  }, 60_000);

  test('an unknown --only name is refused with the names it accepts, exit code 2', async () => {
    const bad = await runScript('benchmarks/main.ts', ['--only', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown name "nope" for --only; expected cpu, io, micro, all, fib');
  }, 60_000);
});
