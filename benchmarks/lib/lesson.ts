/**
 * The lesson at the end of the run, in plain words, derived from the measured numbers: which
 * strategy won which workload and why, in Node's terms. Every figure quoted comes from the results;
 * a claim whose numbers do not hold this time is not made (or is said the other way round).
 */
import type { JobResult } from './results';

const NON_BLOCKING_IO = ['timers', 'http', 'file-read'];

function x(v: number | null | undefined): string {
  return v === null || v === undefined ? 'n/a' : `${v >= 10 ? v.toFixed(0) : v.toFixed(1)}×`;
}

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? 'n/a' : `${Math.round(v * 100)}%`;
}

function get(results: readonly JobResult[], workload: string, strategy: string): number | null {
  return results.find((r) => r.workload === workload && r.strategy === strategy)?.speedup ?? null;
}

function best(results: readonly JobResult[], workload: string, families: readonly string[]): JobResult | undefined {
  return results
    .filter((r) => r.workload === workload && families.includes(r.family) && r.speedup !== null && r.ok !== false)
    .sort((a, b) => (b.speedup ?? 0) - (a.speedup ?? 0))[0];
}

function list(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The lesson paragraphs (empty when nothing ran). */
export function lesson(results: readonly JobResult[], cores: number): string[] {
  const out: string[] = [];
  const ran = (w: string): boolean => results.some((r) => r.workload === w && r.speedup !== null);
  const workloads = [...new Set(results.map((r) => r.workload))].filter(ran);

  // 1. Who won each workload (Node strategies).
  const winners = workloads.map((w) => {
    const top = best(results, w, ['main', 'threadkit', 'peer']);
    return top ? `${w}: ${top.label} (${x(top.speedup)})` : `${w}: nothing finished`;
  });
  if (winners.length) out.push(`Winners (speedup over serial): ${winners.join('; ')}.`);

  // 2. Non-blocking IO: one event loop already overlaps the waits.
  const io = NON_BLOCKING_IO.filter(ran);
  if (io.length) {
    const figures = io.map((w) => {
      const pool = best(results, w, ['threadkit', 'peer']);
      return `${w}: async ${x(get(results, w, 'async'))}, best with workers ${pool ? `${pool.label} ${x(pool.speedup)}` : 'n/a'}`;
    });
    const asyncWins = io.filter((w) => {
      const a = get(results, w, 'async') ?? 0;
      const pool = best(results, w, ['threadkit', 'peer'])?.speedup ?? 0;
      return a >= pool * 0.9;
    });
    if (asyncWins.length === io.length) {
      out.push(`Non-blocking IO (${figures.join('; ')}): plain async code on the main thread is as fast as anything, or faster. ` +
        `Node's one event loop already overlaps every timer, socket and fs request (libuv does the waiting), so worker threads ` +
        `add only overhead — a message round trip per task and a cap of one task per worker at a time.`);
    } else {
      out.push(`Non-blocking IO (${figures.join('; ')}): async on the main thread won ${asyncWins.length ? list(asyncWins) : 'none of them'}; ` +
        `where workers came out ahead (${list(io.filter((w) => !asyncWins.includes(w)))}), the task is not pure waiting — reading a cached ` +
        `file is mostly copying memory, which does run in parallel on other threads.`);
    }
  }

  // 3. Blocking calls: the event loop cannot overlap what blocks it.
  const blocking = ['blocking-wait', 'blocking-sleep'].filter(ran);
  if (blocking.length) {
    const bestOf = (w: string, ids: readonly string[]): JobResult | undefined =>
      results.filter((r) => r.workload === w && ids.includes(r.strategy) && r.speedup !== null).sort((p, q) => (q.speedup ?? 0) - (p.speedup ?? 0))[0];
    const figures = blocking.map((w) => {
      const threads = bestOf(w, ['thread', 'tpe', 'piscina', 'workerpool']);
      const processes = bestOf(w, ['ppe', 'pool']);
      return `${w}: async ${x(get(results, w, 'async'))}, threads ${threads ? `${x(threads.speedup)} (${threads.label})` : 'n/a'}, ` +
        `processes ${processes ? `${x(processes.speedup)} (${processes.label})` : 'n/a'}`;
    });
    let text = `Blocking calls (${figures.join('; ')}): async gains nothing — a synchronous call stops the event loop, so "concurrent" ` +
      `promises run one after another. Workers are the answer here: each blocks on its own and the waits overlap, up to one per worker.`;
    if (ran('blocking-sleep')) {
      const threads = bestOf('blocking-sleep', ['tpe', 'piscina', 'workerpool']);
      const processes = bestOf('blocking-sleep', ['ppe', 'pool']);
      if (threads && processes && (processes.speedup ?? 0) > 1.5 * (threads.speedup ?? 0)) {
        text += ` On blocking-sleep process pools beat thread pools (CPU use ${pct(processes.cpuUse)} against ${pct(threads.cpuUse)}), ` +
          `most likely because that call starts a process (fork and exec), which costs more CPU from the large main process with all its ` +
          `threads than from a small pool process${ran('blocking-wait') ? '; on blocking-wait, which starts nothing, threads and processes are alike' : ''}.`;
      }
    }
    out.push(text);
  }

  // 4. A Thread per task, warm and cold: what starting a Worker costs.
  const both = workloads.filter((w) => get(results, w, 'thread') !== null && get(results, w, 'thread-cold') !== null);
  if (both.length) {
    const wall = (w: string, s: string): number => results.find((r) => r.workload === w && r.strategy === s)?.wallMs ?? NaN;
    const figures = both.map((w) => `${w}: ${x(get(results, w, 'thread'))} warm, ${x(get(results, w, 'thread-cold'))} cold`);
    const added = both.map((w) => wall(w, 'thread-cold') - wall(w, 'thread')).filter((ms) => Number.isFinite(ms));
    const cost = added.length ? ` — the cold starts added ${Math.round(Math.min(...added))}–${Math.round(Math.max(...added))} ms to a run here` : '';
    out.push(`A Thread per task (${figures.join('; ')}): a Thread that finds a worker a finished Thread left warm starts in well ` +
      `under a millisecond, as a task sent to a pool does, so the warm row is measured like the pools (warmed before timing). ` +
      `A cold Thread starts a new Worker, a fresh V8 isolate and Node environment${cost}: that is what a program's first threads pay, ` +
      `and why many short tasks belong in a pool. warmThreads() keeps finished threads' workers longer or starts some ahead of need.`);
  }

  // 5. CPU-bound work: one thread cannot go faster; threads run JS in parallel, unlike CPython's.
  const cpu = ['fib', 'sieve', 'sha256'].filter(ran);
  if (cpu.length) {
    const parts = cpu.map((w) => `${w}: threads ${x(get(results, w, 'tpe'))}, processes ${x(get(results, w, 'ppe'))}, async ${x(get(results, w, 'async'))}`);
    const found = (v: Array<number | null>): number[] => v.filter((n): n is number => n !== null);
    const tpe = found(cpu.map((w) => get(results, w, 'tpe')));
    const ppe = found(cpu.map((w) => get(results, w, 'ppe')));
    const mean = (v: number[]): number => (v.length ? v.reduce((s, n) => s + n, 0) / v.length : NaN);
    const close = Math.abs(mean(tpe) - mean(ppe)) <= 0.15 * Math.max(mean(tpe), mean(ppe));
    const bestWorkers = Math.max(mean(tpe), mean(ppe));
    const verdict = !(tpe.length && ppe.length)
      ? `(Neither executor finished here, so this run cannot compare threads with processes.)`
      : bestWorkers < 1.2
      ? `This run saw no real gain from workers (${x(mean(tpe))} for threads, ${x(mean(ppe))} for processes on average): ` +
        `with ${cores} cores shared with other processes, or tasks this small, the cost of sending each task outweighed the parallelism. ` +
        `Run it again on an idle machine, or without --quick, to see the parallelism.`
      : close
        ? `Node's worker threads run JavaScript truly in parallel (each has its own V8 isolate; there is no GIL), so threads did as well as processes.`
        : mean(tpe) > mean(ppe)
          ? `Node's worker threads run JavaScript truly in parallel (no GIL) and beat processes here (${x(mean(tpe))} against ${x(mean(ppe))} on average).`
          : `Processes beat threads this time (${x(mean(ppe))} against ${x(mean(tpe))} on average); Node's threads still run in parallel (no GIL), so the gap is overhead, not a lock.`;
    out.push(`CPU-bound work (${parts.join('; ')}, ${cores} cores): async cannot help — the main thread runs one piece of JavaScript at a ` +
      `time, so Promise.all over CPU work is serial. It needs threads or processes. ${verdict}`);
    const py = cpu.filter((w) => get(results, w, 'cpython-threads') !== null);
    if (py.length) {
      const threadsOf = (w: string): number => get(results, w, 'cpython-threads') ?? 0;
      const pyParts = py.map((w) => `${w}: threads ${x(get(results, w, 'cpython-threads'))}, processes ${x(get(results, w, 'cpython-processes'))}`);
      // fib and sieve run Python bytecode (the sieve's slice assignments run in C but hold the GIL);
      // hashlib releases the GIL while it hashes buffers over 2 KiB.
      const bytecode = py.filter((w) => w !== 'sha256');
      const held = bytecode.filter((w) => threadsOf(w) < 1.3);
      const odd = bytecode.filter((w) => threadsOf(w) >= 1.3);
      const parts: string[] = [];
      if (held.length) parts.push(`its threads gain nothing on ${list(held)}: the GIL lets one thread run Python bytecode at a time, so CPython needs processes for that.`);
      if (odd.length) parts.push(`Its threads got more on ${list(odd)} than the GIL allows for pure Python code: read that as noise from other work on the machine.`);
      if (py.includes('sha256')) {
        const crowded = (results.find((r) => r.workload === 'sha256' && r.strategy === 'cpython-threads')?.othersUse ?? 0) >= 0.5;
        parts.push(threadsOf('sha256') >= 1.3
          ? `On sha256 its threads do scale: hashlib releases the GIL while it hashes large buffers, so that work runs in C, in parallel.`
          : `On sha256, where hashlib releases the GIL, its threads got only ${x(threadsOf('sha256'))} in this run` +
            (crowded ? ` — other processes held a core meanwhile (see "others"), so that figure says little.` : '.'));
      }
      out.push(`CPython, same tasks (${pyParts.join('; ')}): ${parts.join(' ')} In Node the choice between threads and processes is about isolation, not about a global lock.`);
    }
  }
  return out;
}
