/**
 * The native addon (native/threadkit_shm.cc): segments, futex wait/wake across threads and
 * processes, async waits off the libuv threadpool, and teardown with pending waits.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { types } from 'node:util';
import { Worker } from 'node:worker_threads';
import { loadNative } from '../../../lib/internal/arena/native';

const native = loadNative();
/** The built addon, for plain-JS workers and children. */
const ADDON = require.resolve('../../../native/build/Release/threadkit_shm.node');

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

/** A worker running `source` (plain JS) with `addon` (the native module) and `data` in scope. */
function worker(source: string, data: unknown): Worker {
  const w = new Worker(`const addon = require(${JSON.stringify(ADDON)}); const data = require('node:worker_threads').workerData;\n${source}`, { eval: true, workerData: data });
  workers.push(w);
  return w;
}

/** Runs `source` (plain JS, `addon` in scope) in a child node process; its stdout and exit status. */
function child(source: string, args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', `const addon = require(${JSON.stringify(ADDON)});\n${source}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function until(predicate: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('segments', () => {
  test('create maps a memfd as a real SharedArrayBuffer; open of /proc/<pid>/fd/<n> and map of the fd alias it', () => {
    const { fd, sab } = native.create(8192);
    try {
      expect(types.isSharedArrayBuffer(sab)).toBe(true);
      expect(sab.byteLength).toBe(8192);
      const viaProc = native.open(`/proc/${process.pid}/fd/${fd}`);
      const viaFd = native.map(fd);
      new Int32Array(sab)[100] = 7;
      expect(new Int32Array(viaProc.sab)[100]).toBe(7);
      expect(new Int32Array(viaFd)[100]).toBe(7);
      native.close(viaProc.fd);
    } finally {
      native.close(fd);
    }
  });

  test('errors name the call and the errno', () => {
    expect(() => native.open('/proc/self/fd/987654')).toThrow(/open failed: .*\(ENOENT\)/);
    expect(() => native.close(987654)).toThrow(/close failed: .*EBADF/);
    expect(() => native.create(0)).toThrow(/expected a size/);
    expect(() => native.wait(new Int32Array(4), 0, 0, 0)).toThrow(/SharedArrayBuffer/);
    expect(() => native.wake(new Int32Array(new SharedArrayBuffer(8)), 2, 1)).toThrow(/out of range/);
  });

  test('a child process maps the segment through /proc and writes what the parent reads', async () => {
    const { fd, sab } = native.create(4096);
    try {
      const out = await child(`const { sab, fd } = addon.open(process.argv[1]); new Int32Array(sab)[3] = 1234; addon.close(fd);`, [`/proc/${process.pid}/fd/${fd}`]);
      expect(out).toMatchObject({ status: 0 });
      expect(new Int32Array(sab)[3]).toBe(1234);
    } finally {
      native.close(fd);
    }
  });
});

describe('wait and wake', () => {
  test('wait returns not-equal at once, and timed-out after about its timeout', () => {
    const i32 = new Int32Array(native.create(4096).sab);
    expect(native.wait(i32, 0, 1, 10_000)).toBe('not-equal');
    const t0 = performance.now();
    expect(native.wait(i32, 0, 0, 30)).toBe('timed-out');
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(29);
    expect(took).toBeLessThan(5_000);
    expect(native.wake(i32, 0, 1)).toBe(0);
  });

  test('a wait sleeps one slice (100 ms) at most; a wake reaches a sync wait in a worker thread', async () => {
    const { sab } = native.create(4096);
    const i32 = new Int32Array(sab);
    const t0 = performance.now();
    expect(native.wait(i32, 0, 0, 10_000)).toBe('ok'); // the end of a slice: a spurious wake-up
    expect(performance.now() - t0).toBeLessThan(5_000);
    const w = worker(`const i32 = new Int32Array(data); Atomics.store(i32, 1, 1); let r; do r = addon.wait(i32, 0, 0, 20000); while (Atomics.load(i32, 0) === 0); Atomics.store(i32, 2, r === 'ok' ? 1 : 2);`, sab);
    await until(() => Atomics.load(i32, 1) === 1, 'the worker is about to wait');
    await new Promise((resolve) => setTimeout(resolve, 250)); // past two slices
    Atomics.store(i32, 0, 1);
    await until(() => native.wake(i32, 0, 1) === 1 || Atomics.load(i32, 2) !== 0, 'the wake reaches the worker');
    await until(() => Atomics.load(i32, 2) !== 0, 'the worker returns');
    expect(Atomics.load(i32, 2)).toBe(1);
    await w.terminate();
  });

  test('a wake crosses processes both ways', async () => {
    const { fd, sab } = native.create(4096);
    const i32 = new Int32Array(sab);
    try {
      // The child waits on word 0 (parent wakes it), then sets word 1 and wakes the parent's async wait on it.
      const done = child(`
        const { sab } = addon.open(process.argv[1]); const i32 = new Int32Array(sab);
        Atomics.store(i32, 2, 1);
        while (Atomics.load(i32, 0) === 0) addon.wait(i32, 0, 0, 20000);
        Atomics.store(i32, 1, 1); addon.wake(i32, 1, 1);`, [`/proc/${process.pid}/fd/${fd}`]);
      const parentWait = native.waitAsync(i32, 1, 0, 20_000);
      await until(() => Atomics.load(i32, 2) === 1, 'the child waits');
      Atomics.store(i32, 0, 1);
      native.wake(i32, 0, 1);
      expect(await parentWait).toBe('ok');
      expect((await done).status).toBe(0);
    } finally {
      native.close(fd);
    }
  });

  test('waitAsync: not-equal and timeout 0 answer at once; a timeout ends the wait; many waits settle independently', async () => {
    const i32 = new Int32Array(native.create(4096).sab);
    expect(native.waitAsync(i32, 0, 1, 1000)).toBe('not-equal');
    expect(native.waitAsync(i32, 0, 0, 0)).toBe('timed-out');
    expect(await native.waitAsync(i32, 0, 0, 20)).toBe('timed-out');
    // More than one waiter thread serves (127 words each).
    const waits = Array.from({ length: 300 }, (_, i) => native.waitAsync(i32, 10 + i, 0, 20_000) as Promise<string>);
    const timed = native.waitAsync(i32, 5, 0, 30) as Promise<string>;
    expect(await timed).toBe('timed-out');
    for (let i = 0; i < 300; i++) {
      Atomics.store(i32, 10 + i, 1);
      native.wake(i32, 10 + i, 1);
    }
    expect(new Set(await Promise.all(waits))).toEqual(new Set(['ok']));
  });

  test('pending async waits leave the libuv threadpool free (fs works while 8 waits are pending)', async () => {
    const i32 = new Int32Array(native.create(4096).sab);
    const waits = Array.from({ length: 8 }, (_, i) => native.waitAsync(i32, i, 0, 20_000) as Promise<string>);
    // With 8 waits on a 4-thread pool, fs.promises.stat would never run before the waits end.
    const stat = fs.promises.stat(__filename).then(() => 'stat');
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([stat, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), 10_000)))]);
    clearTimeout(timer);
    for (let i = 0; i < 8; i++) {
      Atomics.store(i32, i, 1);
      native.wake(i32, i, 1);
    }
    await Promise.all(waits);
    expect(first).toBe('stat');
  });
});

describe('teardown', () => {
  test('a pending async wait keeps the process alive until it settles', async () => {
    const out = await child(`
      const i32 = new Int32Array(addon.create(4096).sab);
      addon.waitAsync(i32, 0, 0, 150).then((r) => console.log(r));`);
    expect(out).toMatchObject({ status: 0, stdout: 'timed-out\n' });
  });

  test('worker.terminate() with pending async waits (and a sync wait) does not abort the process', async () => {
    const out = await child(`
      const { Worker } = require('node:worker_threads');
      const { sab } = addon.create(4096); const i32 = new Int32Array(sab);
      const src = 'const addon = require(' + JSON.stringify(${JSON.stringify(ADDON)}) + '); const i32 = new Int32Array(require("node:worker_threads").workerData);' +
        'for (let i = 0; i < 20; i++) addon.waitAsync(i32, 0, 0, 60000); Atomics.add(i32, 1, 1);';
      const syncSrc = 'const addon = require(' + JSON.stringify(${JSON.stringify(ADDON)}) + '); const i32 = new Int32Array(require("node:worker_threads").workerData);' +
        'Atomics.add(i32, 1, 1); while (Atomics.load(i32, 0) === 0) addon.wait(i32, 0, 0, 60000);';
      const ws = [new Worker(src, { eval: true, workerData: sab }), new Worker(src, { eval: true, workerData: sab }), new Worker(syncSrc, { eval: true, workerData: sab })];
      (async () => {
        while (Atomics.load(i32, 1) < 3) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 50));
        const t0 = Date.now();
        await Promise.all(ws.map((w) => w.terminate()));
        console.log('alive', Date.now() - t0 < 5000);
      })();`);
    expect(out.stderr).toBe('');
    expect(out).toMatchObject({ status: 0, stdout: 'alive true\n' });
  });
});

test('the addon file is where node-gyp-build finds it', () => {
  expect(fs.existsSync(path.join(path.dirname(ADDON), 'threadkit_shm.node'))).toBe(true);
  expect(spawnSync(process.execPath, ['-e', `require('node-gyp-build')(${JSON.stringify(path.resolve(__dirname, '../../../native'))})`]).status).toBe(0);
});
