/**
 * The reports of a run: the text tables printed at the end, results.md, results.json and the chart
 * (chart.svg, plus chart.png when rsvg-convert or a headless Chromium is installed).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chartSvg } from './chart';
import { MIN_WALL_FOR_CPU_MS } from './measure';
import type { JobResult, Results } from './results';
import { markdownTable, num, textTable, type Align } from './table';
import { microMarkdown, microText } from '../micro';
import { PYTHON_STRATEGIES, STRATEGIES } from '../strategies';

/** A 1-minute load average from which the report warns that other work competed for the cores. */
const LOADED = 0.5;

const JOB_HEADERS = ['workload', 'strategy', 'wall ms', 'speedup', 'CPU use', 'others', 'check'];
const JOB_ALIGN: Align[] = ['l', 'l', 'r', 'r', 'r', 'r', 'l'];

function speedupCell(r: JobResult): string {
  if (r.speedup === null) return '—';
  return `${r.speedup.toFixed(r.speedup >= 10 ? 1 : 2)}×`;
}

function percentCell(use: number | null, wallMs: number | null): string {
  return use === null || (wallMs ?? 0) < MIN_WALL_FOR_CPU_MS ? '—' : `${Math.round(use * 100)}%`;
}

function jobRows(results: Results): string[][] {
  const rows: string[][] = [];
  for (const w of results.workloads) {
    const own = results.results.filter((r) => r.workload === w.name);
    own.forEach((r, i) => {
      rows.push([
        i === 0 ? `${w.name} (${w.size})` : r.family === 'cpython' && own[i - 1].family !== 'cpython' ? `  CPython: ${w.pySize}` : '',
        r.label,
        r.wallMs === null ? (r.error ?? 'failed') : num(r.wallMs),
        speedupCell(r),
        percentCell(r.cpuUse, r.wallMs),
        percentCell(r.othersUse, r.wallMs),
        r.error ? '' : r.ok === true ? 'ok' : r.ok === false ? 'WRONG RESULT' : '—',
      ]);
    });
  }
  return rows;
}

/** Speedups as a matrix: a row per strategy, a column per workload. */
function summaryRows(results: Results): { headers: string[]; rows: string[][] } {
  const headers = ['speedup vs serial', ...results.workloads.map((w) => w.name)];
  const strategies: JobResult[] = [];
  for (const r of results.results) if (!strategies.some((s) => s.strategy === r.strategy)) strategies.push(r);
  const rows = strategies.map((s) => [s.label, ...results.workloads.map((w) => {
    const r = results.results.find((x) => x.workload === w.name && x.strategy === s.strategy);
    return r ? speedupCell(r) : '';
  })]);
  return { headers, rows };
}

function metaLines(results: Results): string[] {
  const m = results.meta;
  const workers = Object.entries(m.workers).map(([set, n], i) => `${n}${i === 0 ? ' workers' : ''} for ${set}`).join(', ');
  const load = m.loadAverage[0] >= LOADED ? [`Load average ${m.loadAverage[0].toFixed(2)} when the run started: other processes competed for the ${m.cpus} cores, so the numbers are noisier than on an idle machine.`] : [];
  return [
    `${m.date} · Node ${m.node} · ${m.python ?? 'no CPython rows'} · ${m.cpus} × ${m.cpuModel}${m.quick ? ' · --quick' : ''}${m.library ? ` · ${m.library}` : ''}`,
    ...(workers ? [`Pools: ${workers}; pools started and warmed before timing; best of ${results.results[0]?.reps ?? 1} interleaved run(s).`] : []),
    ...(results.results.length ? [
      `Speedup = serial wall time / wall time (CPython rows: against CPython serial, which runs smaller CPU sizes).`,
      `CPU use = (user + system CPU time${m.measuresChildren ? ', this process and its children' : ', this process only'}) / wall time; 100% = one core busy; — when the run was too short to tell.`,
      `others = CPU that other processes on the machine used during that run (on ${m.cpus} cores, ${m.cpus * 100}% is the whole machine): where it is high, the row was slowed by work outside the benchmark.`,
    ] : []),
    ...load,
  ];
}

/** The whole report as text (what `npm run bench` prints). */
export function reportText(results: Results): string {
  const parts: string[] = [metaLines(results).join('\n')];
  if (results.results.length) {
    parts.push(textTable(JOB_HEADERS, jobRows(results), JOB_ALIGN));
    const summary = summaryRows(results);
    parts.push(textTable(summary.headers, summary.rows, ['l', ...summary.headers.slice(1).map((): Align => 'r')]));
  }
  if (results.micro.length) parts.push(`Micro benchmarks (${results.meta.quick ? 'quick sizes' : 'full sizes'})\n${microText(results.micro)}`);
  if (results.lesson.length) parts.push(`What this run shows\n${results.lesson.map((p) => `• ${p}`).join('\n')}`);
  if (results.warnings.length) parts.push(`Problems met\n${results.warnings.map((w) => `! ${w}`).join('\n')}`);
  return parts.join('\n\n');
}

/** The report in Markdown (results.md). */
export function reportMarkdown(results: Results, chartFile: string | null): string {
  const parts: string[] = ['# threadkit benchmark results', metaLines(results).map((l) => `${l}  `).join('\n')];
  if (results.results.length) {
    if (chartFile) parts.push(`![speedup vs serial per workload](${chartFile})`);
    const summary = summaryRows(results);
    parts.push('## Speedup over serial', markdownTable(summary.headers, summary.rows, ['l', ...summary.headers.slice(1).map((): Align => 'r')]));
    parts.push('## Every run', markdownTable(JOB_HEADERS, jobRows(results), JOB_ALIGN));
    const used = new Set(results.results.map((r) => r.strategy));
    parts.push('## Strategies', [...STRATEGIES, ...PYTHON_STRATEGIES].filter((st) => used.has(st.id)).map((st) => `- **${st.label}**: ${st.description}`).join('\n'));
    parts.push('## Workloads', results.workloads.map((w) => `- **${w.name}** (${w.set}): ${w.description}; ${w.size}; CPython ${w.pySize}`).join('\n'));
  }
  if (results.micro.length) parts.push('## Micro benchmarks', microMarkdown(results.micro));
  if (results.lesson.length) parts.push('## What this run shows', results.lesson.map((p) => `- ${p}`).join('\n'));
  if (results.warnings.length) parts.push('## Problems met', results.warnings.map((w) => `- ${w}`).join('\n'));
  return `${parts.join('\n\n')}\n`;
}

/** Renders the SVG to PNG with whatever is installed; returns the PNG path, or null. */
function renderPng(svgFile: string): string | null {
  const png = svgFile.replace(/\.svg$/, '.png');
  const rsvg = spawnSync('rsvg-convert', ['-o', png, svgFile], { stdio: 'ignore' });
  if (rsvg.status === 0) return png;
  for (const browser of ['chromium', 'chromium-browser', 'google-chrome']) {
    const run = spawnSync(browser, ['--headless', '--disable-gpu', '--no-sandbox', `--screenshot=${png}`, '--window-size=1600,1000', `file://${svgFile}`], { stdio: 'ignore', timeout: 30_000 });
    if (run.status === 0 && fs.existsSync(png)) return png;
  }
  return null;
}

/** Writes results.json, results.md and the chart into `dir`; returns the files written. */
export function writeReports(results: Results, dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const json = path.join(dir, 'results.json');
  fs.writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  written.push(json);
  let chartName: string | null = null;
  if (results.results.length) {
    const svg = path.join(dir, 'chart.svg');
    const m = results.meta;
    fs.writeFileSync(svg, chartSvg(results.results, results.workloads, 'threadkit — who wins IO-bound and CPU-bound work',
      `Node ${m.node}, ${m.cpus} cores, ${Object.entries(m.workers).map(([s, n]) => `${n} workers for ${s}`).join(', ')}${m.quick ? ', quick sizes' : ''}. Bars start at 1× (= serial).`, m.cpus));
    written.push(svg);
    chartName = 'chart.svg';
    const png = renderPng(svg);
    if (png) written.push(png);
  }
  const md = path.join(dir, 'results.md');
  fs.writeFileSync(md, reportMarkdown(results, chartName));
  written.push(md);
  return written;
}
