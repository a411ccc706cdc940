/**
 * The native death watch (`watchParent` of native/threadkit_shm.cc, armed by
 * internal/child/death-watch.ts in every child with a lifeline): its arguments, once per process,
 * errors that name the call, the parent that died before the watch was armed, and a channel closed
 * on purpose while the parent lives (a pool retiring its worker), through a pidfd and through the
 * socket fallback. The parent-killed cases run end to end in spec/multiprocessing/process.spec.ts.
 * Children here are plain Node scripts that load the built addon; they report on stdout.
 */
import { describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProcessPoolExecutor } from 'threadkit/futures';
import { Process } from 'threadkit/multiprocessing';
import { ADDON_ENV, loadNative } from '../../../lib/internal/arena/native';
import { DEATH_WATCH_ENV } from '../../../lib/internal/child/death-watch';

const onLinux = process.platform === 'linux' ? describe : describe.skip;

/** The built addon, for the plain-JS children. */
const ADDON = (): string => require.resolve('../../../native/build/Release/threadkit_shm.node');

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Collects a child's output and its end, killing it after 20 s (a test that hangs fails instead).
 * (Not 'close': Node never emits it for a child whose channel the parent disconnected.)
 */
function ended(child: ChildProcess): Promise<Ended> {
  let stdout = '';
  let stderr = '';
  const drained = (stream: NodeJS.ReadableStream, add: (chunk: string) => void): Promise<void> =>
    new Promise((resolve) => stream.on('data', (d) => add(String(d))).on('end', resolve));
  const output = Promise.all([drained(child.stdout!, (d) => (stdout += d)), drained(child.stderr!, (d) => (stderr += d))]);
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve([code, signal]);
    });
  });
  return Promise.all([exit, output]).then(([[code, signal]]) => ({ code, signal, stdout, stderr }));
}

/** Runs `source` (plain JS, `addon` in scope) in a child node process. */
function run(source: string): Promise<Ended> {
  return ended(spawn(process.execPath, ['-e', `const addon = require(${JSON.stringify(ADDON())});\n${source}`], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

onLinux('watchParent', () => {
  test('rejects arguments that are not what it watches with a TypeError, arming nothing', () => {
    const { watchParent } = loadNative();
    const bad: unknown[][] = [[-1, 1, 0], [0, 0, 0], [0, 1, -5], [0, 1.5, 0], ['3', 1, 0], [0, 1, 0, 'pipe'], [0, 1, 0, 1]];
    for (const args of bad) {
      // The addon's errors come from the main realm, not jest's sandbox: compare names.
      expect(() => (watchParent as (...a: unknown[]) => boolean)(...args)).toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^expected \(fd|^via must be/) }));
    }
  });

  test('arms once per process: the first call returns true, a later one false; the process still exits normally', async () => {
    const { code, signal, stdout } = await run(`
      const first = addon.watchParent(0, process.ppid, 0);
      const second = addon.watchParent(0, process.ppid, 0);
      console.log(JSON.stringify([first, second]));
    `);
    expect({ code, signal, stdout: stdout.trim() }).toEqual({ code: 0, signal: null, stdout: '[true,false]' });
  });

  test('an error names the failing call and its errno, and leaves the process free to arm the watch again', async () => {
    const { code, stdout } = await run(`
      try {
        addon.watchParent(9999, process.ppid, 0, 'socket');
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, message: error.message, code: error.code, syscall: error.syscall }));
      }
      console.log(JSON.stringify(addon.watchParent(0, process.ppid, 0)));
    `);
    expect(code).toBe(0);
    const [error, again] = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(error).toEqual({ name: 'Error', message: expect.stringMatching(/^fcntl\(F_DUPFD_CLOEXEC\) failed: .*\(EBADF\)$/), code: 'EBADF', syscall: 'fcntl(F_DUPFD_CLOEXEC)' });
    expect(again).toBe(true);
  });

  test('a parent that is gone before the watch is armed (another process, or no process, under its pid) kills the process at once', async () => {
    // A pid that no process has any more: a child that has exited and been reaped.
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => gone.on('exit', resolve));
    for (const parent of [1, gone.pid!]) {
      for (const via of ['pidfd', 'socket']) {
        const { signal, stdout } = await run(`addon.watchParent(0, ${parent}, 10000, '${via}'); console.log('still running');`);
        expect({ parent: parent === 1 ? 'init' : 'gone', via, signal, stdout }).toEqual({ parent: parent === 1 ? 'init' : 'gone', via, signal: 'SIGKILL', stdout: '' });
      }
    }
  });

  describe.each(['pidfd', 'socket'])('through %s', (via) => {
    test('a channel the living parent closes on purpose (a pool retiring its child) never kills the child, however long it takes to end', async () => {
      // The child arms the watch on its IPC channel (fd 3), then, once its channel is closed, blocks
      // its event loop for longer than the watch takes to decide (1 s of getppid() checks), and
      // exits 0. A watch that took the hangup for the parent's death would SIGKILL it meanwhile.
      const child = spawn(process.execPath, ['-e', `
        const addon = require(${JSON.stringify(ADDON())});
        addon.watchParent(3, process.ppid, 0, '${via}');
        process.on('disconnect', () => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
          console.log('finished');
        });
        process.send('armed');
      `], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      const end = ended(child);
      await new Promise((resolve) => child.once('message', resolve));
      child.disconnect();
      expect(await end).toEqual({ code: 0, signal: null, stdout: 'finished\n', stderr: '' });
    });
  });
});

onLinux.each(['pidfd', 'socket'])('a process pool retiring its child (the watch through %s)', (via) => {
  test('the retired child runs its exit handlers to the end, however long they take: the watch never kills it', async () => {
    // maxTasksPerChild: 1 retires the child after its task by closing its channel; the task's exit
    // handler then takes longer than the watch's grace. A watch that took that hangup for the
    // parent's death would SIGKILL the child inside the handler, which would never write its file.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tk-retire-'));
    const file = path.join(dir, 'exited');
    const saved = process.env[DEATH_WATCH_ENV];
    process.env[DEATH_WATCH_ENV] = via; // the pool's children inherit it
    const executor = new ProcessPoolExecutor({ maxWorkers: 1, maxTasksPerChild: 1 });
    try {
      const pid = await executor.submit((out: string) => {
        process.on('exit', () => {
          const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
          sleepSync(600);
          require('node:fs').writeFileSync(out, String(process.pid));
        });
        return process.pid;
      }, file);
      await executor.shutdown();
      expect(fs.readFileSync(file, 'utf8')).toBe(String(pid));
    } finally {
      if (saved === undefined) delete process.env[DEATH_WATCH_ENV];
      else process.env[DEATH_WATCH_ENV] = saved;
      await executor.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

onLinux('the addon in a child with a lifeline', () => {
  const ROOT = path.resolve(__dirname, '../../..');
  const addonFile = (): string => (require('node-gyp-build') as { path(dir: string): string }).path(path.join(ROOT, 'native'));

  test('the parent names the file in the child\'s environment, so that the death watch loads it without searching', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tk-addon-'));
    try {
      const out = path.join(dir, 'env');
      const p = new Process({ target: (to: string) => require('node:fs').writeFileSync(to, process.env.THREADKIT_ADDON ?? '(none)'), args: [out], daemon: true });
      p.start();
      expect(await p.join(20_000)).toBe(true);
      expect(p.exitcode).toBe(0);
      expect(fs.readFileSync(out, 'utf8')).toBe(addonFile());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test.each([
    ['a working copy of the addon outside the package', 'outside'],
    ['a file of the package that is not there', 'missing'],
  ])('a name that is %s is not loaded: the addon is found as usual', (_, kind) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tk-hint-'));
    try {
      const hint = kind === 'outside' ? path.join(dir, 'threadkit_shm.node') : path.join(ROOT, 'native', 'build', 'Release', 'gone.node');
      if (kind === 'outside') fs.copyFileSync(addonFile(), hint);
      const program = "const n = require('./lib/internal/arena/native'); n.loadNative(); console.log(n.addonEnv(false).THREADKIT_ADDON);";
      const ran = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', program], { cwd: ROOT, env: { ...process.env, [ADDON_ENV]: hint }, encoding: 'utf8', timeout: 30_000 });
      expect({ status: ran.status, stderr: ran.stderr, stdout: ran.stdout.trim() }).toEqual({ status: 0, stderr: '', stdout: addonFile() });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
