/**
 * Micro benchmarks of queues and pipes, each beside CPython's same probe
 * (benchmarks/python/queue_micro.py): threadkit/queue's Queue between two threads (put+get
 * throughput, round trip), multiprocessing Queue and Pipe round trips between two processes, and
 * multiprocessing Queue throughput of 1 KiB and 1 MiB items.
 *
 * The other side is a Thread or a Pool process that is started and answers once before timing;
 * every wait has a deadline, so a broken queue is an error row, not a hung run.
 */
import { performance } from 'node:perf_hooks';
import type { Connection as MpConnection, Event as MpEvent, Queue as MpQueue } from 'threadkit/multiprocessing';
import type { Queue as TkQueue } from 'threadkit/queue';
import type { MicroRow } from '../lib/results';
import { pool, threading } from '../lib/threadkit';
import type { MicroContext, MicroDef } from './benches';

const WAIT_LIMIT_MS = 30_000;

interface Helpers {
  row(bench: string, impl: string, isThreadkit: boolean, measure: () => Promise<number | null> | number | null, note?: string): Promise<MicroRow>;
  py(ctx: MicroContext, bench: string, impl: string, name: string, field: string): Promise<MicroRow> | null;
  sequence(...makers: Array<() => Promise<MicroRow> | null>): Promise<MicroRow[]>;
}

/** Sizes (queue_micro.py's): a tenth with --quick. */
function sizes(ctx: MicroContext) {
  const scale = ctx.quick ? 0.1 : 1;
  return {
    items: 200_000 * scale,
    threadTrips: 20_000 * scale,
    processTrips: 5_000 * scale,
    kibItems: 50_000 * scale,
    mibItems: Math.max(10, 500 * scale),
    /**
     * Round trips before timing starts: V8 optimizes the put and get paths after thousands of
     * calls (a process round trip averaged 22 µs over its first 7 000 trips, 5 µs after 60 000).
     */
    warm: 20_000 * scale,
  };
}

/** threadkit/queue, by require() as benchmarks/lib/threadkit.ts loads the others (import() would load dist/). */
async function queueModule(): Promise<typeof import('threadkit/queue')> {
  return require('threadkit/queue') as typeof import('threadkit/queue');
}

/** Items per second of `putSync` here and `getSync` in a Thread, from the first put to the last get. */
async function threadThroughput(n: number): Promise<number> {
  const { Thread } = await threading();
  const { Queue } = await queueModule();
  const q = new Queue<number>();
  const done = new Queue<number>();
  const thread = new Thread({
    target: (q: TkQueue<number>, done: TkQueue<number>, n: number, limit: number) => {
      q.getSync(limit); // started
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < n; i++) q.getSync(limit);
        done.putSync(n);
      }
    },
    args: [q, done, n, WAIT_LIMIT_MS],
    daemon: true,
  });
  thread.start();
  try {
    // Warm-up: the thread takes a first item (so it has started) and as many more as will be timed
    // (so that both sides run compiled code); then the timed run.
    for (let i = -1; i < n; i++) q.putSync(i);
    done.getSync(WAIT_LIMIT_MS);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) q.putSync(i);
    done.getSync(WAIT_LIMIT_MS);
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await thread.join(WAIT_LIMIT_MS);
  }
}

/** Round trip (µs): put into `ping` here, a Thread gets it and puts it into `pong`, get it back here. */
async function threadRoundTrip(n: number, warm: number): Promise<number> {
  const { Thread } = await threading();
  const { Queue } = await queueModule();
  const ping = new Queue<number>();
  const pong = new Queue<number>();
  const thread = new Thread({
    target: (ping: TkQueue<number>, pong: TkQueue<number>, n: number, limit: number) => {
      for (let i = 0; i < n; i++) pong.putSync(ping.getSync(limit));
    },
    args: [ping, pong, n + warm, WAIT_LIMIT_MS],
    daemon: true,
  });
  thread.start();
  try {
    let t0 = 0;
    for (let i = 0; i < n + warm; i++) {
      if (i === warm) t0 = performance.now();
      ping.putSync(i);
      pong.getSync(WAIT_LIMIT_MS);
    }
    return ((performance.now() - t0) * 1000) / n;
  } finally {
    await thread.join(WAIT_LIMIT_MS);
  }
}

/** Runs `use` with a Pool of one process, terminated afterwards. */
async function withChild<T>(use: (p: InstanceType<Awaited<ReturnType<typeof pool>>['Pool']>) => Promise<T>): Promise<T> {
  const { Pool } = await pool();
  const p = new Pool(1);
  try {
    await p.apply((x: number) => x, [0]); // started
    return await use(p);
  } finally {
    await p.terminate();
  }
}

/** Round trip (µs) of multiprocessing Queues: put here, a child process gets and puts back. */
async function processQueueRoundTrip(n: number, warm: number): Promise<number> {
  const { Queue } = await pool();
  const ping = new Queue<number>();
  const pong = new Queue<number>();
  return withChild(async (p) => {
    const child = p.apply((ping: MpQueue<number>, pong: MpQueue<number>, n: number, limit: number) => {
      for (let i = 0; i < n; i++) pong.putSync(ping.getSync(limit));
    }, [ping, pong, n + warm + 1, WAIT_LIMIT_MS]);
    child.catch(() => undefined); // seen by the await below; a failure here first must not be unhandled
    // The first answer awaited: the task reaches the child only while this event loop runs.
    ping.putSync(-1);
    await pong.get(WAIT_LIMIT_MS);
    let t0 = 0;
    for (let i = 0; i < n + warm; i++) {
      if (i === warm) t0 = performance.now();
      ping.putSync(i);
      pong.getSync(WAIT_LIMIT_MS);
    }
    const us = ((performance.now() - t0) * 1000) / n;
    await child;
    return us;
  });
}

/** Round trip (µs) of a Pipe: send here, a child process receives and sends back. */
async function pipeRoundTrip(n: number, warm: number): Promise<number> {
  const { Pipe } = await pool();
  const [a, b] = Pipe();
  return withChild(async (p) => {
    const child = p.apply((conn: MpConnection, n: number) => {
      for (let i = 0; i < n; i++) conn.send(conn.recvSync());
    }, [b, n + warm + 1]);
    child.catch(() => undefined);
    a.send(-1);
    await a.recv();
    let t0 = 0;
    for (let i = 0; i < n + warm; i++) {
      if (i === warm) t0 = performance.now();
      a.send(i);
      a.recvSync();
    }
    const us = ((performance.now() - t0) * 1000) / n;
    await child;
    return us;
  });
}

/** Items per second of `n` Uint8Arrays of `bytes` put here and taken by a child process. */
async function processThroughput(bytes: number, n: number): Promise<number> {
  const { Queue, Event } = await pool();
  const q = new Queue<Uint8Array>();
  const ready = new Event();
  const done = new Event();
  return withChild(async (p) => {
    const child = p.apply((q: MpQueue<Uint8Array>, ready: MpEvent, done: MpEvent, n: number, limit: number) => {
      ready.set();
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < n; i++) q.getSync(limit);
        done.set();
      }
    }, [q, ready, done, n, WAIT_LIMIT_MS]);
    child.catch(() => undefined);
    if (!(await ready.wait(WAIT_LIMIT_MS))) throw new Error('the child never started');
    const item = new Uint8Array(bytes).fill(120);
    // A first round, untimed: both sides compiled, the queue's memory grown once.
    for (let i = 0; i < n; i++) q.putSync(item);
    if (!done.waitSync(WAIT_LIMIT_MS * 4)) throw new Error('the child never finished');
    done.clear();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) q.putSync(item);
    if (!done.waitSync(WAIT_LIMIT_MS * 4)) throw new Error('the child never finished');
    const perSecond = n / ((performance.now() - t0) / 1000);
    await child;
    return perSecond;
  });
}

export function queueMicro(h: Helpers): MicroDef[] {
  return [
    {
      id: 'queue-threads', title: 'Queue putSync → getSync between two threads', unit: 'items/s', better: 'higher', goal: { op: '≥', value: 455_000 }, python: ['queue_threads'],
      run: (ctx) => h.sequence(
        () => h.row('queue-threads', 'threadkit Queue', true, () => threadThroughput(sizes(ctx).items), 'goal ≥ 5× CPython (≈ 91 k)'),
        () => h.py(ctx, 'queue-threads', 'CPython queue.Queue', 'queue_threads', 'itemsPerSecond'),
      ),
    },
    {
      id: 'queue-thread-rtt', title: 'Queue round trip between two threads (put, get, put back, get)', unit: 'µs', better: 'lower', python: ['queue_thread_rtt'],
      run: (ctx) => h.sequence(
        () => h.row('queue-thread-rtt', 'threadkit Queue', true, () => threadRoundTrip(sizes(ctx).threadTrips, sizes(ctx).warm)),
        () => h.py(ctx, 'queue-thread-rtt', 'CPython queue.Queue', 'queue_thread_rtt', 'usPerRoundTrip'),
      ),
    },
    {
      id: 'mp-queue-rtt', title: 'multiprocessing Queue round trip between two processes', unit: 'µs', better: 'lower', goal: { op: '≤', value: 31.5 }, python: ['mp_queue_rtt'],
      run: (ctx) => h.sequence(
        () => h.row('mp-queue-rtt', 'threadkit multiprocessing.Queue', true, () => processQueueRoundTrip(sizes(ctx).processTrips, sizes(ctx).warm), 'goal ≤ 0.25× CPython (≈ 126 µs)'),
        () => h.py(ctx, 'mp-queue-rtt', 'CPython multiprocessing.Queue', 'mp_queue_rtt', 'usPerRoundTrip'),
      ),
    },
    {
      id: 'pipe-rtt', title: 'Pipe round trip between two processes (send, recv, send back, recv)', unit: 'µs', better: 'lower', python: ['pipe_rtt'],
      run: (ctx) => h.sequence(
        () => h.row('pipe-rtt', 'threadkit Pipe', true, () => pipeRoundTrip(sizes(ctx).processTrips, sizes(ctx).warm), 'goal ≤ 0.25× CPython'),
        () => h.py(ctx, 'pipe-rtt', 'CPython multiprocessing.Pipe', 'pipe_rtt', 'usPerRoundTrip'),
      ),
    },
    {
      id: 'mp-queue-kib', title: 'multiprocessing Queue, 1 KiB items to a child process', unit: 'items/s', better: 'higher', python: ['mp_queue_kib'],
      run: (ctx) => h.sequence(
        () => h.row('mp-queue-kib', 'threadkit multiprocessing.Queue', true, () => processThroughput(1024, sizes(ctx).kibItems)),
        () => h.py(ctx, 'mp-queue-kib', 'CPython multiprocessing.Queue', 'mp_queue_kib', 'itemsPerSecond'),
      ),
    },
    {
      id: 'mp-queue-mib', title: 'multiprocessing Queue, 1 MiB items to a child process', unit: 'items/s', better: 'higher', python: ['mp_queue_mib'],
      run: (ctx) => h.sequence(
        () => h.row('mp-queue-mib', 'threadkit multiprocessing.Queue', true, () => processThroughput(1 << 20, sizes(ctx).mibItems)),
        () => h.py(ctx, 'mp-queue-mib', 'CPython multiprocessing.Queue', 'mp_queue_mib', 'itemsPerSecond'),
      ),
    },
  ];
}
