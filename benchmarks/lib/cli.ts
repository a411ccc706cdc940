/**
 * Command-line flags of `npm run bench` (benchmarks/main.ts).
 *
 *   --quick              small sizes, one repetition: the whole run takes under a minute
 *   --only <names…>      cpu | io | micro | all | a workload name (fib, timers, …) | a micro benchmark
 *                        name (lock-sync, tpe-throughput, …); several names, space- or comma-separated
 *   --workers N          pool size for every pool (default: CPU count for cpu, 8 for io, CPU count for micro)
 *   --json               write the results as JSON to stdout (the tables go to stderr)
 *   --out DIR            where results.json, results.md and chart.svg go (default: bench-results/)
 *   --no-python          skip the CPython counterparts
 *   --help
 */
import * as path from 'node:path';

export interface Options {
  readonly quick: boolean;
  /** Selected names; empty = the main job (cpu and io). */
  readonly only: readonly string[];
  readonly workers: number | undefined;
  readonly json: boolean;
  readonly out: string;
  readonly python: boolean;
  readonly help: boolean;
}

/** Default output folder: bench-results/ at the project root. */
export const DEFAULT_OUT = path.resolve(__dirname, '../../bench-results');

export const USAGE = `usage: npm run bench -- [--quick] [--only <cpu|io|micro|all|name…>] [--workers N] [--json] [--out DIR] [--no-python]

  --quick        small sizes and one repetition (the whole run takes under a minute)
  --only         what to run: cpu, io (the main job, the default), micro, all, or single
                 workloads (fib sieve sha256 timers http file-read blocking-sleep blocking-wait) or micro
                 benchmarks (lock-sync lock-async event-pingpong contended thread-warm thread-cold
                 tpe-throughput ppe-throughput map-chunks latency-threads latency-processes
                 cpu-threads cpu-processes memory process-start-join process-many mp-lock
                 mp-contended mp-event-pingpong mp-value-read event-pingpong-hog queue-threads
                 queue-thread-rtt mp-queue-rtt pipe-rtt mp-queue-kib mp-queue-mib), or distributed
                 (needs redis-server); space- or comma-separated
  --workers N    workers of every pool (default: CPU count; 8 for the io set)
  --json         machine-readable results on stdout (tables go to stderr)
  --out DIR      output folder for results.json, results.md, chart.svg (default: bench-results/)
  --no-python    do not run the CPython counterparts`;

/**
 * Parses `argv` (without node and the script).
 * @throws TypeError on an unknown flag or a bad value, with the flag and the value received.
 */
export function parseArgs(argv: readonly string[]): Options {
  let quick = false, json = false, python = true, help = false;
  let workers: number | undefined;
  let out = DEFAULT_OUT;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new TypeError(`flag ${arg} needs a value`);
      i++;
      return next;
    };
    if (arg === '--quick') quick = true;
    else if (arg === '--json') json = true;
    else if (arg === '--no-python') python = false;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--out') out = path.resolve(value());
    else if (arg === '--workers') {
      const text = value();
      const n = Number(text);
      if (!Number.isInteger(n) || n < 1) throw new TypeError(`expected --workers to be a whole number from 1 up, got ${JSON.stringify(text)}`);
      workers = n;
    } else if (arg === '--only') {
      only.push(...value().split(',').filter(Boolean));
      // Further bare words belong to --only: `--only fib timers`.
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) only.push(...argv[++i].split(',').filter(Boolean));
    } else {
      throw new TypeError(`unknown flag ${JSON.stringify(arg)} (see --help)`);
    }
  }
  return { quick, only, workers, json, out, python, help };
}
