/**
 * Timing and CPU accounting for the benchmarks.
 *
 * CPU use is the user+system time of this process (all its threads) **and of its descendants**:
 * child processes of a process pool are alive while a workload runs, so their time is read from
 * /proc/<pid>/stat; children that ended meanwhile are counted through this process's
 * cutime/cstime (the kernel adds a child's time to its parent's when the parent reaps it). Without
 * /proc (macOS, Windows) only this process is counted, and the report says so.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Kernel clock ticks per second for /proc times (USER_HZ, 100 on every common Linux build). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Below this wall time a run is too short to tell its CPU use (the /proc clock ticks every 10 ms):
 * the report prints no CPU figure for it, and no warning is drawn from its CPU figures either.
 */
export const MIN_WALL_FOR_CPU_MS = 40;

/** Fields of /proc/<pid>/stat counted from 1, after the `(comm)` field. */
const STAT_FIELD = { PPID: 4, UTIME: 14, STIME: 15, CUTIME: 16, CSTIME: 17 } as const;

/** True when descendants' CPU time can be measured (Linux /proc). */
export const measuresChildren = fs.existsSync('/proc/self/stat');

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime+stime+cutime+cstime, in ms. */
  readonly cpuMs: number;
}

function readStat(pid: number | 'self'): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null; // the process ended between listing and reading
  }
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state).
  const field = (n: number): number => Number(fields[n - 3]);
  const ticks = field(STAT_FIELD.UTIME) + field(STAT_FIELD.STIME) + field(STAT_FIELD.CUTIME) + field(STAT_FIELD.CSTIME);
  return { pid: pid === 'self' ? process.pid : pid, ppid: field(STAT_FIELD.PPID), cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND };
}

/** CPU ms used so far by this process tree (see the module comment). */
export function treeCpuMs(): number {
  if (!measuresChildren) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  }
  const self = readStat('self');
  let total = self ? self.cpuMs : 0;
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    cpu.set(pid, stat.cpuMs);
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const pending = [...(children.get(process.pid) ?? [])];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    total += cpu.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Wall and CPU time of one measured run. */
export interface Sample {
  readonly wallMs: number;
  /** CPU time of this process tree. */
  readonly cpuMs: number;
  /** CPU time that processes outside this tree used meanwhile (other work on the machine), or null. */
  readonly othersCpuMs: number | null;
}

/** Fields of /proc/stat's `cpu` line that count busy time: user nice system (idle iowait) irq softirq steal. */
const BUSY_FIELDS = [0, 1, 2, 5, 6, 7] as const;

/** CPU ms the whole machine has been busy (all cores, every process), or null without /proc/stat. */
function machineBusyMs(): number | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0];
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    return (BUSY_FIELDS.reduce((sum: number, i) => sum + (ticks[i] ?? 0), 0) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Runs `fn` once and measures wall time and process-tree CPU time around it. */
export async function measure<T>(fn: () => Promise<T>): Promise<{ sample: Sample; value: T }> {
  const busy0 = machineBusyMs();
  const cpu0 = treeCpuMs();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const cpuMs = treeCpuMs() - cpu0;
  const busy1 = machineBusyMs();
  const othersCpuMs = busy0 === null || busy1 === null ? null : Math.max(0, busy1 - busy0 - cpuMs);
  return { sample: { wallMs, cpuMs, othersCpuMs }, value };
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The fastest sample. Interference from other work on the machine only ever slows a run down, so
 * the best of several runs is the closest to what the strategy does on a quiet machine.
 */
export function bestSample(samples: readonly Sample[]): Sample {
  return samples.reduce((best, s) => (s.wallMs < best.wallMs ? s : best));
}

/** Milliseconds since an arbitrary origin (monotonic). */
export const now = (): number => performance.now();
