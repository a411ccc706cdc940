/**
 * The arena: blocks freed and reused, segments reachable from threads, children and grandchildren,
 * no fd or segment leaks, teardown with pending arena waits, and the package without the addon.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { Event, Lock, Pool, SharedArray, Value } from 'threadkit/multiprocessing';
import { ownArena, arenaForChild } from '../../../lib/internal/arena/arena';
import { kShare } from '../../../lib/internal/transport/shareable';
import { spawn as spawnThread, stopAll } from '../../fixtures/shm-threads';

v8.setFlagsFromString('--expose-gc');
const fullGc = vm.runInNewContext('gc') as () => void;
const ROOT = path.resolve(__dirname, '../../..');

/** Children of the fd-leak test, of which NODE_CHILDREN are Node processes. */
const CHILDREN = 1000;
const NODE_CHILDREN = 40;
const turn = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));
const openFds = () => fs.readdirSync('/proc/self/fd').length;

/** The handle data of a shared object (its block's segment and offset). */
function placeOf(shared: object): { segment: number; offset: number } {
  return (shared as { [kShare](): { data: { segment: number; offset: number } } })[kShare]().data;
}

describe('blocks', () => {
  test('creating and dropping 100 000 Locks and Values keeps the used bytes bounded', async () => {
    const arena = ownArena();
    fullGc();
    await turn(5);
    const before = arena.usedBytes();
    let peak = 0;
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 1000; i++) {
        new Lock();
        new Value('i', i);
      }
      if (round % 10 === 9) fullGc();
      await turn();
      peak = Math.max(peak, arena.usedBytes() - before);
    }
    for (let i = 0; i < 5; i++) {
      fullGc();
      await turn(5);
    }
    // 100 000 of each, never freed, would be ~ 6.4 MB (a Lock: 16 bytes; a Value and its RLock: 16 and 32).
    expect(peak).toBeLessThan(4 << 20);
    expect(arena.usedBytes() - before).toBeLessThan(256 << 10);
  });

  test("a dropped object's block is freed; a shared one's stays until this thread ends", async () => {
    const arena = ownArena();
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        fullGc();
        await turn(5);
      }
    };
    await settle();
    const start = arena.usedBytes();
    let kept: Lock | undefined = new Lock();
    let shared: Lock | undefined = new Lock();
    placeOf(shared); // its handle was made: pinned
    expect(arena.usedBytes() - start).toBe(32); // 16 bytes each: the mutex, the last pid, the block header
    kept = undefined;
    shared = undefined;
    await settle();
    expect(kept ?? shared).toBeUndefined();
    expect(arena.usedBytes() - start).toBe(16);
  });

  test('a reused block comes back zeroed, or with only its header cleared when the caller writes it whole', () => {
    const arena = ownArena();
    const first = arena.allocate(4000);
    const { segment, offset } = first.place;
    first.i32.fill(-1);
    arena.release(segment, offset);
    const dirty = arena.allocate(4000, false); // the free list's head: the same block
    expect([dirty.place.segment, dirty.place.offset]).toEqual([segment, offset]);
    expect(dirty.i32[1]).toBe(-1); // word 0 held the free list's link
    expect(dirty.i32[dirty.i32.length - 1]).toBe(-1);
    dirty.i32.fill(-1);
    arena.release(segment, offset);
    const clean = arena.allocate(4000);
    expect([clean.place.segment, clean.place.offset]).toEqual([segment, offset]);
    expect(clean.i32.every((word) => word === 0)).toBe(true);
    // The header is the allocator's either way: one hold, so one release frees it.
    arena.release(segment, offset);
    expect(arena.allocate(4000, false).place).toEqual(clean.place);
    arena.release(segment, offset);
  });

  test('a thread of this process revives blocks through the fd this process holds', async () => {
    const counter = new Value('i', 0);
    await Promise.all([0, 1].map(() => spawnThread((c: Value) => {
      for (let i = 0; i < 1000; i++) c.getLock().withLockSync(() => { c.value += 1; });
    }, counter)));
    expect(counter.value).toBe(2000);
    await stopAll();
  });
});

describe('processes', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool(2);
  });
  afterAll(() => pool.terminate());

  test('a grandchild (a Pool inside a Pool child) reaches the objects of the root', async () => {
    const counter = new Value('i', 0);
    const out = await pool.apply(async (c: Value) => {
      const { Pool } = require('threadkit/multiprocessing');
      const inner = new Pool(1);
      try {
        return await inner.apply((c: Value) => { c.value = c.value + 41; return process.ppid; }, [c]);
      } finally {
        await inner.terminate();
      }
    }, [counter]);
    expect(counter.value).toBe(41);
    expect(out).not.toBe(process.pid);
  });

  test('blocks freed into a segment that ended with its creator are skipped: allocation still works', async () => {
    const once = new Pool(1, { maxtasksperchild: 1 });
    try {
      // 3.2 MB: its block gets a segment of its own, made by the child; the child exits after the
      // task, and its exit frees the block, into a segment that nobody else ever mapped.
      const place = await once.apply(() => {
        const { SharedArray } = require('threadkit/multiprocessing');
        const a = new SharedArray('d', 400_000, { lock: false });
        a.set(0, 1);
        return 'made';
      });
      expect(place).toBe('made');
    } finally {
      await once.close();
      await once.join();
    }
    const mine = new SharedArray('d', 400_000, { lock: false });
    mine.set(399_999, 2.5);
    expect(mine.get(399_999)).toBe(2.5);
    expect(await pool.apply((a: SharedArray) => a.get(399_999), [mine])).toBe(2.5);
  });

  test('1 000 children come and go (through the inherited fd and through /proc) without leaking an fd, a segment or a holder slot', async () => {
    const arena = ownArena();
    const counter = new Value('i', 0); // two children at a time increment it: a read and a write, under its lock
    const handoff = arenaForChild(3);
    const [, , pid, pfd] = handoff.env.THREADKIT_ARENA!.split(':');
    // Most children are tiny processes that read the arena's magic through the fd they inherited
    // (as a child the library starts) or through /proc (as any other process of the tree): what
    // the parent gives away per child is the same, and only Node's start-up would make them slow.
    const viaFd = 'head -c 4 /dev/fd/3'; // a new open of the inherited fd (its file offset is shared)
    const viaProc = `head -c 4 /proc/${pid}/fd/${pfd}`;
    const one = (i: number) => new Promise<string>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', i % 2 === 0 ? viaFd : viaProc], { stdio: ['ignore', 'pipe', 'inherit', ...handoff.stdio], env: handoff.env });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    const fdsBefore = openFds();
    const segments = arena.segmentCount();
    let next = 0;
    const seen = new Set<string>();
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < CHILDREN - NODE_CHILDREN) seen.add(await one(next++));
    }));
    expect([...seen]).toEqual(['RAKT']); // the arena's magic, 'TKAR' little-endian
    // The others are Node children of a Pool that start one process per task: each maps the arena,
    // records itself as a holder, increments the Value and exits.
    const churn = new Pool(2, { maxtasksperchild: 1 });
    try {
      await churn.map((c: Value) => c.getLock().withLockSync(() => { c.value += 1; }), Array.from({ length: NODE_CHILDREN }, () => counter), 1);
    } finally {
      churn.close();
      await churn.join();
    }
    expect(counter.value).toBe(NODE_CHILDREN);
    expect(openFds()).toBeLessThanOrEqual(fdsBefore); // other tests' pipes may have closed meanwhile
    expect(arena.segmentCount()).toBe(segments);
    expect(arena.address().holders.length).toBeLessThanOrEqual(6);
  }, 300_000);
});

describe('teardown and install', () => {
  test('worker.terminate() of a thread with a pending async arena wait: this process keeps running', async () => {
    const ready = new Int32Array(new SharedArrayBuffer(4));
    const w = new Worker(`
      const { Event } = require(${JSON.stringify(path.join(ROOT, 'lib/multiprocessing'))});
      const ready = new Int32Array(require('node:worker_threads').workerData);
      const events = [new Event(), new Event()];
      events.forEach((e) => e.wait());
      Atomics.store(ready, 0, 1);`, { eval: true, workerData: ready.buffer, execArgv: ['--require', 'tsx/cjs'] });
    const deadline = Date.now() + 20_000;
    while (Atomics.load(ready, 0) === 0 && Date.now() < deadline) await turn(5);
    expect(Atomics.load(ready, 0)).toBe(1);
    await turn(20);
    await w.terminate();
    // Still here, and the arena still works.
    const e = new Event();
    e.set();
    expect(await e.wait(1000)).toBe(true);
  });

  test('without the addon, a shared object throws an Error saying why, and threading, futures and Pool still work', () => {
    const script = `
      (async () => {
        const out = {};
        try { new (require('./lib/multiprocessing').Lock)(); out.lock = 'made'; } catch (e) { out.lock = e.constructor.name + ': ' + e.message; }
        const t = new (require('./lib/threading').Lock)(); out.threading = t.acquireSync();
        const { ThreadPoolExecutor } = require('./lib/futures');
        const ex = new ThreadPoolExecutor({ maxWorkers: 1 }); out.futures = await ex.submit((x) => x + 1, 1); await ex.shutdown();
        const { Pool } = require('./lib/multiprocessing');
        const pool = new Pool(1); out.pool = await pool.apply((x) => x * 2, [21]); await pool.terminate();
        console.log(JSON.stringify(out));
      })();`;
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, env: { ...process.env, THREADKIT_NO_NATIVE: '1' }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.lock).toMatch(/^Error: threadkit\/multiprocessing shared objects need threadkit's native addon, which could not be loaded: disabled by THREADKIT_NO_NATIVE=1/);
    expect(out).toMatchObject({ threading: true, futures: 2, pool: 42 });
  });
});
