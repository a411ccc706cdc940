/** Plain-text and Markdown tables for the reports. */

/** Column alignment: 'l'eft or 'r'ight. */
export type Align = 'l' | 'r';

/** Visible width of a cell (counts code points, ignores ANSI colour codes). */
function width(text: string): number {
  return [...text.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

function pad(text: string, size: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)));
  return align === 'r' ? fill + text : text + fill;
}

/** A table with a header rule, columns padded to their widest cell. */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string {
  const sizes = headers.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c] ?? ''))));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => pad(cell ?? '', sizes[c], align[c] ?? 'l')).join('  ').trimEnd();
  return [line(headers), sizes.map((s) => '─'.repeat(s)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table in GitHub Markdown. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string {
  const esc = (cell: string): string => cell.replace(/\|/g, '\\|');
  return [
    `| ${headers.map(esc).join(' | ')} |`,
    `| ${headers.map((_, c) => (align[c] === 'r' ? '---:' : ':---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** A number with about three significant digits: 0.0123, 1.23, 12.3, 123, 12 345. */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US').replace(/,/g, ' ');
  if (Number.isInteger(value)) return String(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}
