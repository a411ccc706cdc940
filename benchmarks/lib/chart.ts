/**
 * The SVG chart of the main job: for each workload a group of bars, one per strategy, the bar's
 * height its speedup over serial on a logarithmic axis (so 0.5× and 2× are equally far from 1×),
 * a panel per workload set, a legend, and the value on each bar.
 */
import type { JobResult, WorkloadInfo } from './results';

/** A colour per strategy: blues for the main thread, greens/teals for threadkit, greys for the peers, oranges for CPython. */
const COLOURS: Record<string, string> = {
  serial: '#9aa5b1',
  async: '#3b82f6',
  thread: '#6ee7b7',
  'thread-cold': '#a7f3d0',
  tpe: '#10b981',
  ppe: '#047857',
  pool: '#14b8a6',
  piscina: '#a78bfa',
  workerpool: '#7c3aed',
  'cpython-serial': '#fcd34d',
  'cpython-threads': '#f59e0b',
  'cpython-processes': '#b45309',
};

const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(x: number): string {
  return x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2);
}

/**
 * Draws the chart; `title` goes on top, `subtitle` (machine, sizes) under it. The CPU-bound panel
 * also marks `cores`×, the most that parallel work can gain on this machine.
 */
export function chartSvg(results: readonly JobResult[], workloads: readonly WorkloadInfo[], title: string, subtitle: string, cores?: number): string {
  const strategies: { id: string; label: string; family: string }[] = [];
  for (const r of results) if (!strategies.some((s) => s.id === r.strategy)) strategies.push({ id: r.strategy, label: r.label, family: r.family });
  const sets = (['cpu', 'io'] as const).filter((set) => workloads.some((w) => w.set === set));
  const speedups = results.map((r) => r.speedup).filter((x): x is number => x !== null && x > 0);
  // Room below the smallest bar for its rotated label.
  const lo = Math.min(0.5, ...speedups.map((x) => x / 2));
  const hi = Math.max(2, ...speedups.map((x) => x * 1.3));
  const ticks = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100].filter((t) => t >= lo && t <= hi);

  const barW = 18, barGap = 3, groupGap = 34, left = 78, right = 24, panelH = 300, panelGap = 100, top = 120;
  // A wider gap where the family changes (main thread | threadkit | peers | CPython) groups the bars.
  const familyGap = 8;
  const offsets: number[] = [];
  strategies.forEach((s, b) => {
    const previous = offsets[b - 1];
    offsets.push(b === 0 ? 0 : previous + barW + barGap + (strategies[b - 1].family !== s.family ? familyGap : 0));
  });
  const groupW = offsets[offsets.length - 1] + barW;
  const maxGroups = Math.max(...sets.map((set) => workloads.filter((w) => w.set === set).length));
  const width = Math.max(left + maxGroups * groupW + (maxGroups + 1) * groupGap + right, 1100);
  const plotW = width - left - right;
  // Legend columns as wide as the longest label (≈7.5 px per character at 13 px).
  const colW = Math.max(...strategies.map((s) => s.label.length)) * 7.5 + 36;
  const legendCols = Math.max(1, Math.min(strategies.length, Math.floor(plotW / colW)));
  const legendRows = Math.ceil(strategies.length / legendCols);
  const legendTop = top + sets.length * (panelH + panelGap) - 36;
  const height = legendTop + legendRows * 24 + 20;
  const y = (v: number, panelTop: number): number => panelTop + panelH - ((Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * panelH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="34" font-size="22" font-weight="bold" fill="#111827">${esc(title)}</text>`);
  out.push(`<text x="${left}" y="60" font-size="13" fill="#4b5563">${esc(subtitle)}</text>`);

  sets.forEach((set, p) => {
    const panelTop = top + p * (panelH + panelGap);
    const inSet = workloads.filter((w) => w.set === set);
    out.push(`<text x="${left}" y="${panelTop - 16}" font-size="16" font-weight="bold" fill="#111827">${set === 'cpu' ? 'CPU-bound' : 'IO-bound'} — speedup vs serial (log scale, higher is better)</text>`);
    if (set === 'cpu' && cores && cores > 1) {
      out.push(`<text x="${left + plotW}" y="${panelTop - 16}" font-size="13" text-anchor="end" fill="#dc2626">dotted red line: ${cores}× — with ${cores} cores, the most that parallel work can gain</text>`);
    }
    for (const t of ticks) {
      const ty = y(t, panelTop);
      const strong = t === 1;
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${ty}" y2="${ty}" stroke="${strong ? '#374151' : '#e5e7eb'}" stroke-width="${strong ? 1.5 : 1}"${strong ? ' stroke-dasharray="6 4"' : ''}/>`);
      out.push(`<text x="${left - 8}" y="${ty + 4}" font-size="12" text-anchor="end" fill="#374151">${t}×</text>`);
    }
    out.push(`<line x1="${left}" x2="${left}" y1="${panelTop}" y2="${panelTop + panelH}" stroke="#374151"/>`);
    if (set === 'cpu' && cores && cores > 1 && cores <= hi) {
      const cy = y(cores, panelTop);
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${cy}" y2="${cy}" stroke="#dc2626" stroke-width="1" stroke-dasharray="2 4"/>`);
    }
    inSet.forEach((w, g) => {
      const slot = plotW / inSet.length;
      const gx = left + g * slot + (slot - groupW) / 2;
      strategies.forEach((s, b) => {
        const r = results.find((x) => x.workload === w.name && x.strategy === s.id);
        const bx = gx + offsets[b];
        if (!r || r.speedup === null || r.speedup <= 0) {
          out.push(`<text x="${bx + barW / 2}" y="${panelTop + panelH - 6}" font-size="10" text-anchor="middle" fill="#9ca3af" transform="rotate(-90 ${bx + barW / 2} ${panelTop + panelH - 6})" dx="18">n/a</text>`);
          return;
        }
        // Bars grow from the 1× line: up when faster than serial, down when slower.
        const base = y(1, panelTop);
        const tip = y(Math.max(lo, r.speedup), panelTop);
        const y0 = Math.min(base, tip), h = Math.max(1, Math.abs(base - tip));
        out.push(`<rect x="${bx}" y="${y0}" width="${barW}" height="${h}" fill="${COLOURS[s.id] ?? '#6b7280'}" stroke="#1f2937" stroke-width="0.5"><title>${esc(`${s.label} on ${w.name}: ${fmt(r.speedup)}× (${Math.round(r.wallMs ?? 0)} ms)`)}</title></rect>`);
        const labelY = r.speedup >= 1 ? tip - 5 : tip + 5;
        out.push(`<text x="${bx + barW / 2}" y="${labelY}" font-size="10" fill="#111827" text-anchor="${r.speedup >= 1 ? 'start' : 'end'}" transform="rotate(-90 ${bx + barW / 2} ${labelY})" dy="3.5">${fmt(r.speedup)}</text>`);
      });
      out.push(`<text x="${gx + groupW / 2}" y="${panelTop + panelH + 22}" font-size="14" font-weight="bold" text-anchor="middle" fill="#111827">${esc(w.name)}</text>`);
      out.push(`<text x="${gx + groupW / 2}" y="${panelTop + panelH + 40}" font-size="11" text-anchor="middle" fill="#6b7280">${esc(w.size)}</text>`);
    });
  });

  strategies.forEach((s, i) => {
    const lx = left + (i % legendCols) * colW;
    const ly = legendTop + Math.floor(i / legendCols) * 24;
    out.push(`<rect x="${lx}" y="${ly}" width="14" height="14" fill="${COLOURS[s.id] ?? '#6b7280'}" stroke="#1f2937" stroke-width="0.5"/>`);
    out.push(`<text x="${lx + 20}" y="${ly + 12}" font-size="13" fill="#111827">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
