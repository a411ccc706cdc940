/**
 * Micro benchmarks of shared memory across processes (threadkit/multiprocessing's Lock, Event and
 * Value over the native arena) and of the spin-then-sleep policy under a CPU hog, each beside
 * CPython's same probe (benchmarks/python/shm_micro.py).
 *
 * Children are Pool processes; every cross-process wait has a deadline, so a broken primitive is an
 * error row, not a hung run. The hog is one busy process per core, started before and killed after
 * the measurement it disturbs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Event as MpEvent, Lock as MpLock, Value as MpValue } from 'threadkit/multiprocessing';
import type { Event as TkEvent } from 'threadkit/threading';
import type { MicroRow } from '../lib/results';
import { pool, threading } from '../lib/threadkit';
import type { MicroContext, MicroDef } from './benches';

const WAIT_LIMIT_MS = 30_000;

interface Helpers {
  row(bench: string, impl: string, isThreadkit: boolean, measure: () => Promise<number | null> | number | null, note?: string): Promise<MicroRow>;
  py(ctx: MicroContext, bench: string, impl: string, name: string, field: string): Promise<MicroRow> | null;
  sequence(...makers: Array<() => Promise<MicroRow> | null>): Promise<MicroRow[]>;
}

function ok(value: boolean, what: string): void {
  if (!value) throw new Error(`${what}: no answer within ${WAIT_LIMIT_MS} ms`);
}

/** Sizes: a tenth with --quick. */
function sizes(ctx: MicroContext) {
  const scale = ctx.quick ? 10 : 1;
  return { lockOps: 2_000_000 / scale, increments: 1_000_000 / scale, pingPongs: 20_000 / scale, valueReads: 2_000_000 / scale };
}

/** Runs `use` with a Pool of `n` processes, terminated afterwards. */
async function withPool<T>(n: number, use: (p: InstanceType<Awaited<ReturnType<typeof pool>>['Pool']>) => Promise<T>): Promise<T> {
  const { Pool } = await pool();
  const p = new Pool(n);
  try {
    return await use(p);
  } finally {
    await p.terminate();
  }
}

/** Runs `fn` while one busy process per core competes for the CPUs. */
export async function underHog<T>(fn: () => Promise<T>): Promise<T> {
  const hogs: ChildProcess[] = Array.from({ length: os.availableParallelism() }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  try {
    await new Promise((resolve) => setTimeout(resolve, 200)); // let them get going
    return await fn();
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL');
  }
}

/** Round trip (µs) of a ping-pong between this thread and a threading Thread. */
async function threadPingPong(rounds: number): Promise<number> {
  const { Thread, Event } = await threading();
  const ping = new Event(), pong = new Event();
  const warm = rounds; // as many untimed round trips first: V8 optimizes the wait and set paths after thousands of calls
  const thread = new Thread({
    target: (ping: TkEvent, pong: TkEvent, n: number, limit: number) => {
      pong.set();
      for (let i = 0; i < n; i++) {
        if (!ping.waitSync(limit)) throw new Error('ping never came');
        ping.clear();
        pong.set();
      }
    },
    args: [ping, pong, rounds + warm, WAIT_LIMIT_MS],
    daemon: true,
  });
  thread.start();
  try {
    ok(await pong.wait(WAIT_LIMIT_MS), 'thread start');
    pong.clear();
    let t0 = 0;
    for (let i = 0; i < rounds + warm; i++) {
      if (i === warm) t0 = performance.now();
      ping.set();
      ok(pong.waitSync(WAIT_LIMIT_MS), 'pong');
      pong.clear();
    }
    return ((performance.now() - t0) * 1000) / rounds;
  } finally {
    await thread.join(WAIT_LIMIT_MS);
  }
}

/** Round trip (µs) of a multiprocessing Event ping-pong between this process and a child. */
async function processPingPong(rounds: number, asyncSide: boolean): Promise<number> {
  const { Event } = await pool();
  const ping = new Event(), pong = new Event();
  const warm = rounds; // as many untimed round trips first: V8 optimizes the wait and set paths after thousands of calls
  return withPool(1, async (p) => {
    const child = p.apply((ping: MpEvent, pong: MpEvent, n: number, limit: number) => {
      pong.set();
      for (let i = 0; i < n; i++) {
        if (!ping.waitSync(limit)) throw new Error('ping never came');
        ping.clear();
        pong.set();
      }
    }, [ping, pong, rounds + warm, WAIT_LIMIT_MS]);
    ok(await pong.wait(WAIT_LIMIT_MS), 'child start');
    pong.clear();
    let t0 = 0;
    for (let i = 0; i < rounds + warm; i++) {
      if (i === warm) t0 = performance.now();
      ping.set();
      ok(asyncSide ? await pong.wait(WAIT_LIMIT_MS) : pong.waitSync(WAIT_LIMIT_MS), 'pong');
      pong.clear();
    }
    const us = ((performance.now() - t0) * 1000) / rounds;
    await child;
    return us;
  });
}

export function shmMicro(h: Helpers): MicroDef[] {
  return [
    {
      id: 'mp-lock', title: 'multiprocessing Lock acquireSync()+release(), uncontended', unit: 'ns/op', better: 'lower', goal: { op: '≤', value: 73 }, python: ['mp_lock'],
      run: (ctx) => h.sequence(
        () => h.row('mp-lock', 'threadkit multiprocessing.Lock', true, async () => {
          const { Lock } = await pool();
          const lock = new Lock();
          const n = sizes(ctx).lockOps;
          for (let i = 0; i < n / 10; i++) { lock.acquireSync(); lock.release(); }
          const t0 = performance.now();
          for (let i = 0; i < n; i++) { lock.acquireSync(); lock.release(); }
          return ((performance.now() - t0) * 1e6) / n;
        }),
        () => h.py(ctx, 'mp-lock', 'CPython multiprocessing.Lock', 'mp_lock', 'nsPerOp'),
      ),
    },
    {
      id: 'mp-contended', title: '2 processes × locked increments of a shared value', unit: 'M incr/s', better: 'higher', goal: { op: '≥', value: 6.25 }, python: ['mp_contended'],
      run: (ctx) => h.sequence(
        () => h.row('mp-contended', 'threadkit multiprocessing.Lock + Value', true, async () => {
          const { Lock, Value, Event, Semaphore } = await pool();
          const lock = new Lock(), counter = new Value('i', 0, { lock: false }), go = new Event(), ready = new Semaphore(0);
          const n = sizes(ctx).increments;
          return withPool(2, async (p) => {
            const work = (lock: MpLock, c: MpValue, ready: InstanceType<typeof Semaphore>, go: MpEvent, n: number, limit: number) => {
              ready.release();
              if (!go.waitSync(limit)) throw new Error('go never came');
              for (let i = 0; i < n; i++) {
                lock.acquireSync();
                c.value += 1;
                lock.release();
              }
            };
            const children = [0, 1].map(() => p.apply(work, [lock, counter, ready, go, n, WAIT_LIMIT_MS]));
            for (let i = 0; i < 2; i++) ok(await ready.acquire(WAIT_LIMIT_MS), 'child start');
            const t0 = performance.now();
            go.set();
            await Promise.all(children);
            const elapsed = performance.now() - t0;
            if (counter.value !== 2 * n) throw new Error(`lost updates: ${counter.value} of ${2 * n}`);
            return (2 * n) / elapsed / 1000;
          });
        }, 'counter checked'),
        () => h.py(ctx, 'mp-contended', 'CPython mp.Lock + RawValue', 'mp_contended', 'mIncrementsPerSecond'),
      ),
    },
    {
      id: 'mp-event-pingpong', title: 'Event ping-pong round trip between two processes', unit: 'µs', better: 'lower', goal: { op: '≤', value: 36 }, python: ['mp_event'],
      run: (ctx) => h.sequence(
        () => h.row('mp-event-pingpong', 'threadkit multiprocessing.Event, waitSync', true, () => processPingPong(sizes(ctx).pingPongs, false)),
        () => h.row('mp-event-pingpong', 'threadkit multiprocessing.Event, parent awaits wait()', false, () => processPingPong(sizes(ctx).pingPongs / 4, true), 'goal ≤ CPython'),
        () => h.py(ctx, 'mp-event-pingpong', 'CPython multiprocessing.Event', 'mp_event', 'usPerRoundTrip'),
      ),
    },
    {
      id: 'mp-value-read', title: 'Value.value read in a child process (with its lock)', unit: 'ns/op', better: 'lower', python: ['mp_value'],
      run: (ctx) => h.sequence(
        () => h.row('mp-value-read', 'threadkit multiprocessing.Value', true, async () => {
          const { Value } = await pool();
          const v = new Value('d', 1.5);
          const n = sizes(ctx).valueReads;
          return withPool(1, (p) => p.apply((v: MpValue, n: number) => {
            let sum = 0;
            for (let i = 0; i < n / 10; i++) sum += v.value;
            // globalThis: a target is sent by its source, without this module's imports.
            const t0 = globalThis.performance.now();
            for (let i = 0; i < n; i++) sum += v.value;
            if (sum === 0) throw new Error('read nothing');
            return ((globalThis.performance.now() - t0) * 1e6) / n;
          }, [v, n]) as Promise<number>);
        }),
        () => h.py(ctx, 'mp-value-read', 'CPython multiprocessing.Value', 'mp_value', 'nsPerRead'),
      ),
    },
    {
      id: 'event-pingpong-hog', title: 'Event ping-pong between two threads, one busy process per core', unit: 'µs', better: 'lower', python: ['event_hog'],
      run: (ctx) => h.sequence(
        () => h.row('event-pingpong-hog', 'threadkit Event', true, () => underHog(() => threadPingPong(sizes(ctx).pingPongs / 4)), 'spin bounded by what it wins'),
        () => h.py(ctx, 'event-pingpong-hog', 'CPython threading.Event', 'event_hog', 'usPerRoundTrip'),
      ),
    },
  ];
}
