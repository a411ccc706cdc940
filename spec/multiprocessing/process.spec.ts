/**
 * multiprocessing.Process, with the Process scenarios of CPython's _test_multiprocessing.py ported
 * (test_process, test_terminate, test_kill, test_sys_exit, test_subclassing, test_active_children,
 * test_parent_process, test_close, test_many_processes, test_lose_target_ref, test_recursion,
 * test_daemon_argument, test_wait_for_threads, test_stderr_flush), and the lives of children whose
 * parent ends: a script run as its own process (fixtures/process-parent-script.ts) is the parent.
 * Children report to the test through a Unix socket (fixtures/process-inbox.ts), never via sleeps.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { inspect } from 'node:util';
import { Process, activeChildren, cpuCount, currentProcess, parentProcess, type ProcessOptions } from 'threadkit/multiprocessing';
import { RuntimeError, ValueError, fromModule } from 'threadkit';
import { Lock } from 'threadkit/threading';
import { ProcessPoolExecutor } from 'threadkit/futures';
import { DEATH_WATCH_ENV, nativeDeathWatchAvailable } from '../../lib/internal/child/death-watch';
import { INBOX, Inbox } from '../fixtures/process-inbox';
import { TARGETS } from '../fixtures/process-targets';
import { stillPresent } from '../fixtures/process-reaped';
import { collected } from '../helpers/gc';

const target = <A extends unknown[] = any[]>(name: string) => fromModule<A, unknown>(TARGETS, name);

let inbox: Inbox;
/** Processes a test made; any still alive afterwards is killed and joined. */
const owned: Process[] = [];

function make<A extends unknown[]>(options?: ProcessOptions<A>): Process<A> {
  const p = new Process<A>(options);
  owned.push(p as Process);
  return p;
}

beforeEach(async () => {
  inbox = await Inbox.open();
});

afterEach(async () => {
  for (const p of owned.splice(0)) {
    try {
      if (p.pid !== null) {
        p.kill();
        await p.join();
      }
    } catch {
      // closed by the test
    }
  }
  await inbox.close();
});

/** The pids that have not ended: still running (a zombie of ours counts as not reaped, see stillPresent). */
function running(pids: Iterable<number>): string[] {
  const out: string[] = [];
  for (const pid of pids) {
    let state: string | undefined;
    try {
      state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    } catch {
      continue; // gone
    }
    // An orphan that exited waits for init (or a subreaper) to reap it: it has ended.
    if (state !== 'Z') out.push(`${pid} (state ${state})`);
  }
  return out;
}

/** Polls until every pid has ended (running() is empty) or `ms` pass; returns what still runs. */
async function ended(pids: number[], ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = running(pids);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Process: the life of a child (test_process, test_active_children)', () => {
  test('the child runs the target with its arguments, and knows its name, pid, parent and environment', async () => {
    process.env.THREADKIT_TEST_VALUE = 'inherited';
    const p = make({ target: target('describeSelf'), args: [inbox.path, 1, 'two', { three: [3] }], name: 'SomeProcess' });
    delete process.env.THREADKIT_TEST_VALUE;
    p.start();
    const seen = (await inbox.next()) as Record<string, unknown>;
    expect(seen.args).toEqual([1, 'two', { three: [3] }]);
    expect(seen.current).toEqual({ name: 'SomeProcess', pid: p.pid, daemon: false });
    expect(seen.parent).toEqual({ pid: process.pid, name: 'MainProcess', alive: true });
    expect(seen.ppid).toBe(process.pid);
    // The environment of the moment start() was called, as Python's children inherit it.
    expect(seen.env).toBe(null);
    expect(seen.argv).toEqual([]);
    expect(seen.stdinIsNull).toBe(true);
    expect(await p.join()).toBe(true);
    expect(p.exitcode).toBe(0);
  });

  test('the environment is the one of the moment start() is called', async () => {
    process.env.THREADKIT_TEST_VALUE = 'inherited';
    try {
      make({ target: target('describeSelf'), args: [inbox.path] }).start();
    } finally {
      delete process.env.THREADKIT_TEST_VALUE;
    }
    expect(((await inbox.next()) as { env: string }).env).toBe('inherited');
  });

  test('isAlive, exitcode and activeChildren follow the child from start to join', async () => {
    const p = make({ target: target('readyThenSleep'), args: [inbox.path], daemon: true });
    expect(p.isAlive()).toBe(false);
    expect(p.daemon).toBe(true);
    expect(p.pid).toBeNull();
    expect(p.exitcode).toBeNull();
    expect(activeChildren()).not.toContain(p);
    expect(Array.isArray(activeChildren())).toBe(true);
    p.start();
    expect(p.pid).toEqual(expect.any(Number));
    expect(p.pid).not.toBe(process.pid);
    expect(p.isAlive()).toBe(true);
    expect(p.exitcode).toBeNull();
    expect(activeChildren()).toContain(p);
    expect(await inbox.next()).toBe('ready');
    p.terminate();
    expect(await p.join()).toBe(true);
    expect(p.isAlive()).toBe(false);
    expect(p.exitcode).toBe(-15);
    expect(activeChildren()).not.toContain(p);
  });

  test("default names are '<Class>-N' with N counting this process's children; an empty name takes the default", () => {
    const a = new Process();
    const b = new Process({ name: '' });
    const [na, nb] = [a.name, b.name].map((n) => Number(/^Process-(\d+)$/.exec(n)?.[1]));
    expect(nb).toBe(na + 1);
    b.name = 'renamed';
    expect(b.name).toBe('renamed');
    class Worker extends Process {}
    expect(new Worker().name).toMatch(/^Worker-\d+$/);
  });

  test('daemon defaults to the current process\'s flag and can be set until start (test_daemon_argument)', async () => {
    expect(currentProcess()).toEqual({ name: 'MainProcess', pid: process.pid, daemon: false });
    expect(new Process().daemon).toBe(false);
    expect(new Process({ daemon: true }).daemon).toBe(true);
    const p = make({ target: target('defaultDaemonHere'), args: [inbox.path] });
    p.daemon = true;
    p.start();
    expect(() => (p.daemon = false)).toThrow(RuntimeError);
    // In a daemon child, a new Process is a daemon by default.
    expect(await inbox.next()).toEqual({ daemon: true, childDefault: true });
    await p.join();
  });

  test('inspect shows name, pid, state and exit code as Python\'s repr', async () => {
    const p = make({ target: () => process.exit(3), name: 'shown' });
    expect(inspect(p)).toBe(`<Process name="shown" parent=${process.pid} initial>`);
    p.start();
    await p.join();
    expect(inspect(p)).toBe(`<Process name="shown" pid=${p.pid} parent=${process.pid} stopped exitcode=3>`);
    p.close();
    expect(inspect(p)).toBe(`<Process name="shown" parent=${process.pid} closed>`);
  });

  test('cpuCount() is a positive integer', () => {
    expect(Number.isInteger(cpuCount())).toBe(true);
    expect(cpuCount()).toBeGreaterThanOrEqual(1);
  });
});

describe('Process: exit codes (test_sys_exit, test_terminate, test_kill)', () => {
  // Children that fail print to their stderr, which is ours: point their fd 2 at /dev/null first.
  const cases: Array<[string, ProcessOptions['target'], number]> = [
    ['a target that returns', () => 42, 0],
    ['an async target that resolves', async () => 'ok', 0],
    ['a target that throws', () => {
      const fs = require('node:fs') as typeof import('node:fs');
      fs.closeSync(2);
      fs.openSync('/dev/null', 'w');
      throw new Error('boom');
    }, 1],
    ['an async target that rejects', async () => {
      const fs = require('node:fs') as typeof import('node:fs');
      fs.closeSync(2);
      fs.openSync('/dev/null', 'w');
      throw new TypeError('rejected');
    }, 1],
    ['a target that calls process.exit(7)', () => process.exit(7), 7],
    ['a target that calls process.exit() with exitCode 3', () => {
      process.exitCode = 3;
    }, 3],
    // (Not SIGUSR1: Node answers it by starting its inspector.)
    ['a target that kills itself with SIGUSR2', () => process.kill(process.pid, 'SIGUSR2'), -12],
  ];
  for (const [what, fn, code] of cases) {
    test(`${what}: exitcode ${code}`, async () => {
      const p = make({ target: fn });
      p.start();
      expect(await p.join()).toBe(true);
      expect(p.exitcode).toBe(code);
    });
  }

  async function killProcess(end: (p: Process) => void): Promise<number | null> {
    // CPython's _kill_process: a daemon child that signals it runs, then sleeps.
    const p = make({ target: target('readyThenSleep'), args: [inbox.path], daemon: true });
    p.start();
    expect(p.isAlive()).toBe(true);
    expect(activeChildren()).toContain(p);
    expect(p.exitcode).toBeNull();
    expect(await p.join(0)).toBe(false);
    expect(p.joinSync(0)).toBe(false);
    expect(p.isAlive()).toBe(true);
    expect(await inbox.next()).toBe('ready');
    end(p);
    expect(await p.join()).toBe(true);
    expect(p.isAlive()).toBe(false);
    expect(activeChildren()).not.toContain(p);
    expect(await p.join()).toBe(true); // joining again returns at once
    return p.exitcode;
  }

  test('terminate() ends the child with SIGTERM: exitcode -15', async () => {
    expect(await killProcess((p) => p.terminate())).toBe(-15);
  });

  test('kill() ends the child with SIGKILL: exitcode -9', async () => {
    expect(await killProcess((p) => p.kill())).toBe(-9);
  });

  test('any signal can be sent with process.kill(pid, signal): exitcode -N', async () => {
    expect(await killProcess((p) => process.kill(p.pid!, 'SIGHUP'))).toBe(-1);
  });

  test('joinSync returns as soon as the child has exited, with its exit code, before the event loop reaps it', async () => {
    const p = make({ target: (code: number) => process.exit(code), args: [5] });
    p.start();
    expect(p.joinSync(30_000)).toBe(true);
    expect(p.exitcode).toBe(5);
    expect(p.isAlive()).toBe(false);
    expect(await p.join()).toBe(true);
    expect(p.exitcode).toBe(5);
  });

  test('terminate() and kill() after the child ended do nothing', async () => {
    const p = make({ target: () => undefined });
    p.start();
    await p.join();
    p.terminate();
    p.kill();
    expect(p.exitcode).toBe(0);
  });
});

describe('Process: signals', () => {
  test('join(timeout) on a child that ignores SIGTERM gives up after the timeout; kill() then ends it', async () => {
    const p = make({ target: target('ignoreSigterm'), args: [inbox.path] });
    p.start();
    expect(await inbox.next()).toBe('ready');
    p.terminate();
    const t0 = performance.now();
    expect(await p.join(300)).toBe(false);
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(5_000); // a loose upper bound on the timeout's accuracy
    expect(p.joinSync(50)).toBe(false);
    expect(p.isAlive()).toBe(true);
    expect(p.exitcode).toBeNull();
    p.kill();
    expect(await p.join()).toBe(true);
    expect(p.exitcode).toBe(-9);
  });

  test('a child installs its own SIGINT and SIGTERM handlers, and process.kill(pid, signal) reaches them', async () => {
    const p = make({ target: target('signalHandlers'), args: [inbox.path] });
    p.start();
    expect(await inbox.next()).toBe('ready');
    process.kill(p.pid!, 'SIGINT');
    expect(await inbox.next()).toBe('got SIGINT');
    expect(p.isAlive()).toBe(true);
    p.terminate();
    expect(await inbox.next()).toBe('got SIGTERM, exiting');
    expect(await p.join()).toBe(true);
    expect(p.exitcode).toBe(0); // its handler let it end normally
  });
});

describe('Process: subclassing (test_subclassing)', () => {
  class UpperCaser extends Process {
    readonly inboxPath: string;
    readonly inboxModule = INBOX;
    readonly words: string[];

    constructor(inboxPath: string, words: string[]) {
      super({ daemon: true });
      this.inboxPath = inboxPath;
      this.words = words;
    }

    /** Runs in the child, with the instance's fields as `this`. */
    override async run(): Promise<void> {
      const { post } = require(this.inboxModule) as typeof import('../fixtures/process-inbox');
      await post(this.inboxPath, this.words.map((w) => w.toUpperCase()));
    }
  }

  test('a subclass overriding run() runs it in the child with its fields, and is named after its class', async () => {
    const p = new UpperCaser(inbox.path, ['hello', 'world']);
    owned.push(p);
    expect(p.name).toMatch(/^UpperCaser-\d+$/);
    p.start();
    expect(await inbox.next()).toEqual(['HELLO', 'WORLD']);
    await p.join();
    expect(p.exitcode).toBe(0);
  });

  test('run() called directly runs the target here, as in Python', () => {
    const p = new Process({ target: (a: number, b: number) => a + b, args: [2, 3] });
    expect(p.run()).toBe(5);
    expect(new Process().run()).toBeUndefined();
  });
});

describe('Process: children of children', () => {
  test('a child starts and joins children of its own, named after their identity (test_recursion)', async () => {
    const p = make({ target: target('recurse'), args: [inbox.path, []] });
    p.start();
    const reports = (await inbox.take(7)) as Array<{ id: number[]; name: string }>;
    await p.join();
    expect(p.exitcode).toBe(0);
    expect(reports.map((r) => r.id)).toEqual([[], [0], [0, 0], [0, 1], [1], [1, 0], [1, 1]]);
    const top = /^Process-(\d+)$/.exec(reports[0].name)![1];
    expect(reports[1].name).toBe(`Process-${top}:1`);
    expect(reports[2].name).toBe(`Process-${top}:1:1`);
    expect(reports[3].name).toBe(`Process-${top}:1:2`);
    expect(reports[4].name).toBe(`Process-${top}:2`);
  });

  test("a Thread in the child names the child's process, and the child waits for its non-daemon Threads (test_wait_for_threads)", async () => {
    const p = make({ target: target('startThreads'), args: [inbox.path], name: 'threaded' });
    p.start();
    expect(await p.join()).toBe(true);
    expect(p.exitcode).toBe(0);
    // The non-daemon thread reported before the child ended; the daemon one never did.
    expect(inbox.pending).toEqual([{ what: 'non-daemon thread done', process: 'threaded' }]);
  });

  test('a process pool\'s children are daemons with names of their own, children of this process', async () => {
    const executor = new ProcessPoolExecutor({ maxWorkers: 1 });
    try {
      const seen = await executor.submit(() => {
        const mp = require('threadkit/multiprocessing') as typeof import('threadkit/multiprocessing');
        return { current: mp.currentProcess(), parent: mp.parentProcess()?.pid };
      });
      expect(seen.current).toEqual({ name: expect.stringMatching(/^ProcessPoolExecutorWorker-\d+$/), pid: expect.any(Number), daemon: true });
      expect(seen.parent).toBe(process.pid);
    } finally {
      await executor.shutdown();
    }
  });

  test('parentProcess() is null in the root; in a child it names the parent, alive (test_parent_process_attributes)', async () => {
    expect(parentProcess()).toBeNull();
    const p = make({ target: target('describeSelf'), args: [inbox.path] });
    p.start();
    expect(((await inbox.next()) as { parent: unknown }).parent).toEqual({ pid: process.pid, name: 'MainProcess', alive: true });
    await p.join();
  });

  test('a grandchild sees its parent die, and a non-daemon one lives on (test_parent_process)', async () => {
    const p = make({ target: target('startOrphan'), args: [inbox.path] });
    p.start();
    const first = (await inbox.next()) as { child: number; parent: number };
    expect(first.parent).toBe(p.pid);
    p.terminate();
    await p.join();
    expect(await inbox.next()).toEqual({ orphaned: true });
    expect(await ended([first.child], 20_000)).toEqual([]);
  });
});

describe('Process: close (test_close)', () => {
  test('close() is refused while running; afterwards every use is a ValueError, and the object can be collected', async () => {
    let p: Process | undefined = new Process({ target: target('readyThenSleep'), args: [inbox.path], daemon: true });
    p.start();
    expect(await inbox.next()).toBe('ready');
    expect(() => p!.close()).toThrow(RuntimeError);
    p.terminate();
    await p.join();
    expect(p.exitcode).toBe(-15);
    p.close();
    expect(() => p!.isAlive()).toThrow(ValueError);
    await expect(p.join()).rejects.toThrow(ValueError);
    expect(() => p!.joinSync()).toThrow(ValueError);
    expect(() => p!.terminate()).toThrow(ValueError);
    expect(() => p!.kill()).toThrow(ValueError);
    expect(() => p!.start()).toThrow(ValueError);
    expect(() => p!.pid).toThrow(ValueError);
    expect(() => p!.exitcode).toThrow(ValueError);
    p.close(); // again: nothing
    const ref = new WeakRef(p);
    p = undefined;
    expect(await collected(ref)).toBe(true);
  });

  test('close() before start() is allowed', () => {
    const p = new Process();
    p.close();
    expect(() => p.start()).toThrow(ValueError);
  });
});

describe('Process: many children, zombies (test_many_processes)', () => {
  test('100 children started at once and joined all exit 0, and none is left a zombie', async () => {
    const procs = Array.from({ length: 100 }, () => make({ target: target('sleepFor'), args: [10] }));
    for (const p of procs) p.start();
    for (const p of procs) expect(await p.join()).toBe(true);
    expect(procs.map((p) => p.exitcode)).toEqual(procs.map(() => 0));
    // Joined means reaped: no /proc entry is left, not even a zombie (state Z).
    expect(stillPresent(procs.map((p) => p.pid!))).toEqual([]);
  }, 180_000);

  // CPython runs this part with 5 children under its "spawn" start method (a fresh interpreter per
  // child, as every Node.js child is); 25 here.
  test('25 children terminated while starting all end by SIGTERM', async () => {
    const procs = Array.from({ length: 25 }, () => make({ target: target('readyThenSleep'), args: [inbox.path] }));
    for (const p of procs) p.start();
    for (const p of procs) p.terminate();
    for (const p of procs) expect(await p.join()).toBe(true);
    expect(new Set(procs.map((p) => p.exitcode))).toEqual(new Set([-15]));
    expect(stillPresent(procs.map((p) => p.pid!))).toEqual([]);
  }, 180_000);

  test('a finished child is reaped even when nobody joins it', async () => {
    const procs = Array.from({ length: 5 }, () => make({ target: () => undefined }));
    for (const p of procs) p.start();
    const pids = procs.map((p) => p.pid!);
    const deadline = Date.now() + 60_000;
    while (stillPresent(pids).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stillPresent(pids)).toEqual([]);
    expect(activeChildren().filter((p) => procs.includes(p as Process))).toEqual([]);
  }, 90_000);

  test('the target is not kept alive by the Process once started (test_lose_target_ref)', async () => {
    let fn: (() => number) | undefined = () => 5;
    const ref = new WeakRef(fn);
    const p = make({ target: fn });
    fn = undefined;
    p.start();
    await p.join();
    expect(p.exitcode).toBe(0);
    expect(await collected(ref)).toBe(true);
  });
});

describe('Process: bad use', () => {
  test('start() twice is a RuntimeError; join before start rejects with RuntimeError; a bad timeout is a RangeError', async () => {
    const p = make({ target: () => undefined });
    await expect(p.join()).rejects.toThrow(RuntimeError);
    expect(() => p.joinSync()).toThrow(RuntimeError);
    expect(() => p.terminate()).toThrow(RuntimeError);
    expect(() => p.kill()).toThrow(RuntimeError);
    p.start();
    expect(() => p.start()).toThrow(RuntimeError);
    await expect(p.join(-1)).rejects.toThrow(RangeError);
    expect(() => p.joinSync(Number.NaN)).toThrow(RangeError);
    await p.join();
  });

  test('options of the wrong type are TypeErrors naming them', () => {
    expect(() => new Process(null as never)).toThrow(/`options`/);
    expect(() => new Process({ target: 42 as never })).toThrow(TypeError);
    expect(() => new Process({ args: 'x' as never })).toThrow(/`args`/);
    expect(() => new Process({ name: 3 as never })).toThrow(/`name`/);
    expect(() => new Process({ daemon: 'yes' as never })).toThrow(/`daemon`/);
    expect(() => (new Process().daemon = 1 as never)).toThrow(TypeError);
  });

  test('a threading Lock as argument is a TypeError that points to threadkit/multiprocessing, and nothing starts', () => {
    expect(() => new Process({ target: (lock: Lock) => lock.locked(), args: [new Lock()] })).toThrow(/multiprocessing/);
  });

  test('an argument that cannot be sent is a TypeError naming it, before anything starts', () => {
    expect(() => new Process({ target: (f: () => void) => f(), args: [() => undefined] })).toThrow(/argument 1/);
  });

  test('a subclass field that cannot be sent is a TypeError at start(), and nothing starts', () => {
    class Bad extends Process {
      readonly callback = (): void => undefined;
      override run(): void {}
    }
    const p = new Bad();
    expect(() => p.start()).toThrow(/field "callback"/);
    expect(p.pid).toBeNull();
  });
});

describe('Process: types', () => {
  // These lines are checked by `npm run typecheck` (an unused @ts-expect-error is an error too);
  // at run time they only construct Processes, which start nothing.
  test('args are typed by the target\'s parameters: required when it has required ones', () => {
    const made = [
      new Process({ target: (a: number, b: string) => a + b, args: [1, 'x'] }),
      // @ts-expect-error an argument of the wrong type
      new Process({ target: (a: number, b: string) => a + b, args: [1, 2] }),
      // @ts-expect-error the target's required arguments are missing
      new Process({ target: (a: number) => a }),
      new Process({ target: (a?: number) => a }),
      new Process({ target: () => 1 }),
      new Process({ target: fromModule<[number], number>('/typed.js', 'f'), args: [1] }),
      // @ts-expect-error an argument of the wrong type for a typed module target
      new Process({ target: fromModule<[number], number>('/typed.js', 'f'), args: ['1'] }),
      new Process({ target: fromModule('/untyped.js', 'f'), args: ['anything', 2] }),
    ];
    expect(made.every((p) => p.pid === null)).toBe(true);
  });
});

describe('Process: when the parent ends', () => {
  const script = require.resolve('../fixtures/process-parent-script');
  const scripts = new Set<ChildProcess>();

  afterEach(() => {
    // The script runs in its own process group, with every process it started.
    for (const child of scripts) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
    scripts.clear();
  });

  interface Run {
    readonly child: ChildProcess;
    /** The script has ended and every process that shares its stdout/stderr has closed them. */
    readonly done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
  }

  /** SIGKILLs the script and resolves when it has died (its children may still hold its pipes: no wait for 'close'). */
  function killScript(run: Run): Promise<void> {
    const died = new Promise<void>((resolve) => run.child.once('exit', () => resolve()));
    run.child.kill('SIGKILL');
    return died;
  }

  function runScript(mode: string, env: NodeJS.ProcessEnv = {}): Run {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), script, mode, inbox.path], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, ...env },
    });
    scripts.add(child);
    let stdout = '', stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`script ${mode} did not end within 60 s: ${stdout} ${stderr}`)), 60_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
    return { child, done };
  }

  test("an uncaught error in the target is printed to the child's stderr, after 'Process <name>:', and sets exitcode 1 (test_stderr_flush)", async () => {
    const { code, stdout, stderr } = await runScript('uncaught').done;
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim())).toEqual({ exitcode: 1 });
    expect(stderr).toMatch(/^Process Process-1:\nError: marker: the target failed\n\s+at /);
  });

  test("non-daemon children keep the parent alive after its main script ends, and are reaped by it", async () => {
    const { code, stdout } = await runScript('outlive').done;
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.slice(1)).toEqual(['main done', 'child done']);
    const { child } = JSON.parse(lines[0]) as { child: number };
    expect(stillPresent([child])).toEqual([]);
  });

  test('a parent whose main script ends terminates its daemon children first (SIGTERM, as Python at exit)', async () => {
    const { code, stdout } = await runScript('daemon-at-exit').done;
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.slice(1)).toEqual(['main done', 'daemon child got SIGTERM']);
    const { child } = JSON.parse(lines[0]) as { child: number };
    expect(await ended([child], 5_000)).toEqual([]);
  });

  test('a daemon child and its own (non-daemon) child end within 1 s when the parent is SIGKILLed', async () => {
    const run = runScript('daemon-idle');
    const reports = Object.assign({}, ...((await inbox.take(2)) as object[])) as { child: number; grandchild: number };
    expect(Object.keys(reports).sort()).toEqual(['child', 'grandchild']);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    expect(await ended([reports.child, reports.grandchild], 1_000)).toEqual([]);
  });

  test('a non-daemon child outlives its killed parent as an orphan, as in Python, and ends by itself', async () => {
    const run = runScript('orphan');
    const first = (await inbox.next()) as { child: number };
    run.child.kill('SIGKILL');
    await run.done;
    expect(await inbox.next()).toEqual({ orphaned: true });
    expect(await ended([first.child], 20_000)).toEqual([]);
  });

  // A child whose event loop is blocked is ended by the native addon's watcher thread
  // (internal/child/death-watch.ts): through a pidfd of the parent, and through the IPC socket's
  // hangup where the kernel has no pidfd_open (forced here by THREADKIT_DEATH_WATCH=socket). The
  // addon is built at install on Linux: a missing addon fails these tests there.
  const onLinux = process.platform === 'linux' ? describe : describe.skip;

  onLinux('the native death watch', () => {
    test('the addon provides it on Linux', () => {
      expect(nativeDeathWatchAvailable()).toBe(true);
    });
  });

  onLinux.each([
    ['a pidfd of the parent', {}],
    ['the socket fallback', { [DEATH_WATCH_ENV]: 'socket' }],
  ])('the native death watch, through %s', (_, env) => {
    test('a daemon child blocked mid-task, and its blocked child, end within 1 s when the parent is SIGKILLed', async () => {
      const run = runScript('daemon-busy', env);
      const reports = Object.assign({}, ...((await inbox.take(2)) as object[])) as { parent: number; child: number };
      await killScript(run);
      expect(await ended([reports.parent, reports.child], 1_000)).toEqual([]);
    });

    test('a process-pool child blocked mid-task ends within 1 s when the parent is SIGKILLed', async () => {
      const run = runScript('pool-busy', env);
      const { child } = (await inbox.next()) as { child: number };
      await killScript(run);
      expect(await ended([child], 1_000)).toEqual([]);
    });
  });
});
