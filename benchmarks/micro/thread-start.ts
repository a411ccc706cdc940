/**
 * Thread start→join, warm and cold, beside the floor a Thread cannot go below (a bare `new Worker`
 * running a trivial `.js` file) and CPython's thread start.
 *
 * - warm: a finished Thread left its worker idle, the next one posts its run to it (the median of
 *   many starts in one process);
 * - cold: the first Thread of a fresh process, which must start a Worker. Measured on the compiled
 *   library (`lib/built.ts`), as a user runs it, with plain node; each sample is a fresh process,
 *   alternating with a fresh process that starts a bare Worker, so both see the same machine.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { builtLib } from '../lib/built';
import { median } from '../lib/measure';
import { threading } from '../lib/threadkit';
import { py, row, sequence, waitOk, WAIT_LIMIT_MS, type MicroDef } from './benches';

const CHILD = path.resolve(__dirname, 'thread-start-child.cjs');
/** A cold Thread start should cost at most this many times a bare Worker's. */
const COLD_GOAL_RATIO = 1.2;

/** One fresh process: the cold start of `mode` in ms. */
function coldStart(mode: 'thread' | 'worker', lib: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CHILD, mode, lib], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`cold ${mode} start failed: ${(stderr || error.message).trim().split('\n').slice(-1)[0]}`));
      try {
        resolve((JSON.parse(stdout.trim().split('\n').pop() ?? '') as { coldMs: number }).coldMs);
      } catch {
        reject(new Error(`cold ${mode} start printed no JSON`));
      }
    });
  });
}

export const THREAD_START: readonly MicroDef[] = [
  {
    id: 'thread-warm', title: 'Thread start→join, warm (a finished Thread left a worker)', unit: 'ms', better: 'lower', goal: { op: '≤', value: 1 }, python: ['thread'],
    run: (ctx) => sequence(
      () => row('thread-warm', 'threadkit Thread', true, async () => {
        const { Thread } = await threading();
        const times: number[] = [];
        for (let i = 0; i < ctx.sizes.threadStarts + 1; i++) {
          const t0 = performance.now();
          const thread = new Thread({ target: () => undefined });
          thread.start();
          waitOk(await thread.join(WAIT_LIMIT_MS), 'join');
          if (i > 0) times.push(performance.now() - t0); // the first one is cold
        }
        return median(times);
      }, 'median'),
      () => py(ctx, 'thread-warm', 'CPython threading.Thread', 'thread', 'warmMs'),
    ),
  },
  {
    id: 'thread-cold', title: 'Thread start→join, cold (first thread of a fresh process)', unit: 'ms', better: 'lower', python: ['thread'],
    run: async (ctx) => {
      // Interleaved samples, so that both sides see the same load; medians.
      const thread: number[] = [];
      const worker: number[] = [];
      let setup: Error | undefined;
      try {
        const lib = await builtLib();
        for (let i = 0; i < ctx.sizes.coldStarts; i++) {
          worker.push(await coldStart('worker', lib));
          thread.push(await coldStart('thread', lib));
        }
      } catch (error) {
        setup = error as Error;
      }
      const ratio = thread.length && worker.length ? median(thread) / median(worker) : undefined;
      const verdict = ratio === undefined ? '' : `; ${ratio.toFixed(2)}× a bare Worker (goal ≤ ${COLD_GOAL_RATIO}×: ${ratio <= COLD_GOAL_RATIO ? 'met' : 'missed'})`;
      const samples = `median of ${ctx.sizes.coldStarts} fresh processes, compiled JS`;
      return sequence(
        () => row('thread-cold', 'threadkit Thread', true, () => {
          if (setup) throw setup;
          return median(thread);
        }, `${samples}${verdict}`),
        () => row('thread-cold', 'bare new Worker (trivial .js, no threadkit)', false, () => {
          if (setup) throw setup;
          return median(worker);
        }, samples),
        () => py(ctx, 'thread-cold', 'CPython threading.Thread', 'thread', 'coldMs'),
      );
    },
  },
];
