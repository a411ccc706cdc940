// Ported from CPython's Lib/test/test_threading.py (ThreadTests, ThreadJoinOnShutdown, ExceptHookTests)
// to threadkit's API, plus what is particular to worker threads (process.exit, terminate, warm reuse).
import { afterAll, afterEach, describe, expect, jest, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { Lock, Thread, setExcepthook } from 'threadkit/threading';
import { RuntimeError, fromModule } from 'threadkit';
import { kTerminate } from 'threadkit/threading/thread';
import { startTargetThread } from '../helpers/target-thread';
import { shutdownIdleThreads } from '../../lib/internal/thread/warm-pool';
import { liveResources } from '../../lib/internal/tracking';
import { workerEntry } from '../../lib/internal/transport';

const FIXTURES = path.resolve(__dirname, '../fixtures');
/** Every wait in a target gives up after this long, so a broken test fails instead of hanging. */
const WAIT_MS = 10_000;

/** A word threads wait on until the test opens it. */
function gate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

function open(word: Int32Array, value = 1): void {
  Atomics.store(word, 0, value);
  Atomics.notify(word, 0);
}

const started: Thread[] = [];

/** Creates and starts a thread that the teardown ends if the test did not. */
function spawn(options: ConstructorParameters<typeof Thread>[0]): Thread {
  const thread = new Thread(options);
  thread.start();
  started.push(thread);
  return thread;
}

/** Installs an excepthook that records its calls; `until(n)` resolves once n calls arrived (fails after WAIT_MS). */
function recordExceptions(): { calls: [unknown, unknown][]; until(count: number): Promise<[unknown, unknown][]> } {
  const calls: [unknown, unknown][] = [];
  let wake: (() => void) | undefined;
  setExcepthook((error, thread) => {
    calls.push([error, thread]);
    wake?.();
  });
  return {
    calls,
    until: (count) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`excepthook called ${calls.length} times, expected ${count}`)), WAIT_MS);
      wake = () => {
        if (calls.length < count) return;
        clearTimeout(timer);
        resolve(calls);
      };
      wake();
    }),
  };
}

afterEach(async () => {
  setExcepthook(null);
  for (const thread of started.splice(0)) {
    if (thread.isAlive()) await thread[kTerminate]();
  }
});

afterAll(shutdownIdleThreads);

describe('starting and joining', () => {
  test('a thread runs its target with its arguments in another thread', async () => {
    const out = new Int32Array(new SharedArrayBuffer(8));
    const thread = spawn({
      target: (o: Int32Array, a: number, b: number) => {
        o[0] = a + b;
        o[1] = require('node:worker_threads').threadId;
      },
      args: [out, 2, 3],
    });
    expect(await thread.join()).toBe(true);
    expect(out[0]).toBe(5);
    expect(out[1]).toBe(thread.ident);
    expect(thread.ident).not.toBe(0);
  });

  test('many threads run at the same time and each is joined', async () => {
    // test_various_ops: all threads must be running at once to pass the barrier-like gate.
    const N = 6;
    const arrived = new Int32Array(new SharedArrayBuffer(4));
    const threads = Array.from({ length: N }, () => spawn({
      target: (word: Int32Array, n: number, waitMs: number) => {
        if (Atomics.add(word, 0, 1) + 1 === n) Atomics.notify(word, 0);
        const end = Date.now() + waitMs;
        for (let seen = Atomics.load(word, 0); seen < n && Date.now() < end; seen = Atomics.load(word, 0)) {
          Atomics.wait(word, 0, seen, end - Date.now());
        }
        if (Atomics.load(word, 0) < n) throw new Error('not all threads ran at once');
      },
      args: [arrived, N, WAIT_MS],
    }));
    const errors = recordExceptions();
    for (const thread of threads) expect(await thread.join(WAIT_MS * 2)).toBe(true);
    expect(Atomics.load(arrived, 0)).toBe(N);
    expect(new Set(threads.map((t) => t.ident)).size).toBe(N);
    expect(new Set(threads.map((t) => t.name)).size).toBe(N);
    expect(errors.calls).toEqual([]);
  });

  test('joinSync blocks until the thread ends and returns true', () => {
    const word = gate();
    const thread = spawn({ target: (w: Int32Array) => { Atomics.store(w, 1, 7); }, args: [word] });
    expect(thread.joinSync(WAIT_MS)).toBe(true);
    expect(word[1]).toBe(7);
    expect(thread.isAlive()).toBe(false);
  });

  test('join with a timeout returns false while the thread runs, and true once it ended', async () => {
    const word = gate();
    const thread = spawn({ target: (w: Int32Array, ms: number) => { Atomics.wait(w, 0, 0, ms); }, args: [word, WAIT_MS] });
    expect(thread.isAlive()).toBe(true);
    expect(thread.joinSync(0)).toBe(false);
    expect(thread.joinSync(20)).toBe(false);
    expect(await thread.join(0)).toBe(false);
    expect(await thread.join(20)).toBe(false);
    expect(thread.isAlive()).toBe(true);
    open(word);
    expect(await thread.join()).toBe(true);
    expect(thread.isAlive()).toBe(false);
    // Joining an ended thread returns at once, again and again.
    expect(thread.joinSync(0)).toBe(true);
    expect(await thread.join(0)).toBe(true);
  });

  test('a timed join returns after about its timeout', async () => {
    const word = gate();
    const thread = spawn({ target: (w: Int32Array, ms: number) => { Atomics.wait(w, 0, 0, ms); }, args: [word, WAIT_MS] });
    let t0 = performance.now();
    expect(thread.joinSync(50)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(49);
    t0 = performance.now();
    expect(await thread.join(50)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(49);
    expect(performance.now() - t0).toBeLessThan(WAIT_MS);
    open(word);
    await thread.join();
  });

  test('starting a thread twice is a RuntimeError', async () => {
    const thread = spawn({ target: () => undefined });
    expect(() => thread.start()).toThrow(RuntimeError);
    expect(() => thread.start()).toThrow('threads can only be started once');
    await thread.join();
    expect(() => thread.start()).toThrow(RuntimeError);
  });

  test('joining a thread that was never started is a RuntimeError', async () => {
    const thread = new Thread({ target: () => undefined });
    expect(() => thread.joinSync()).toThrow(RuntimeError);
    expect(() => thread.joinSync()).toThrow('cannot join thread before it is started');
    await expect(thread.join()).rejects.toThrow(RuntimeError);
    expect(thread.isAlive()).toBe(false);
    expect(thread.ident).toBeNull();
  });

  test('a negative or NaN join timeout is a RangeError, a non-number a TypeError', async () => {
    const thread = spawn({ target: () => undefined });
    expect(() => thread.joinSync(-1)).toThrow(RangeError);
    expect(() => thread.joinSync(Number.NaN)).toThrow(RangeError);
    await expect(thread.join(-5)).rejects.toThrow(RangeError);
    expect(() => thread.joinSync('1' as never)).toThrow(TypeError);
    await thread.join();
  });

  test('a thread without a target starts, ends and is joinable', async () => {
    const thread = spawn({});
    expect(await thread.join()).toBe(true);
    expect(thread.isAlive()).toBe(false);
  });

  test('an async target is awaited before the thread ends', async () => {
    const word = gate();
    const thread = spawn({
      target: async (w: Int32Array) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        Atomics.store(w, 1, 1);
      },
      args: [word],
    });
    await thread.join();
    expect(word[1]).toBe(1);
  });

  test('a fromModule target runs in the thread', async () => {
    const out = gate();
    const thread = spawn({ target: fromModule(path.join(FIXTURES, 'thread-store-sum.ts'), 'storeSum'), args: [out, 40, 2] });
    await thread.join();
    expect(out[0]).toBe(42);
  });

  test('the value a target returns is dropped, even one that cannot be cloned', async () => {
    const errors = recordExceptions();
    const thread = spawn({ target: () => () => 'a function' });
    expect(await thread.join()).toBe(true);
    expect(errors.calls).toEqual([]);
  });

  test('calling run() directly runs the target in the calling thread', () => {
    const thread = new Thread({ target: (a: number, b: number) => a * b, args: [6, 7] });
    expect(thread.run()).toBe(42);
    expect(new Thread().run()).toBeUndefined();
  });
});

describe('names, daemon flag, ident and printing', () => {
  test('default names are Thread-N; a name can be given, or set before start', async () => {
    const a = new Thread();
    const b = new Thread();
    expect(a.name).toMatch(/^Thread-\d+$/);
    expect(Number(b.name.slice(7))).toBe(Number(a.name.slice(7)) + 1);
    expect(new Thread({ name: 'worker' }).name).toBe('worker');
    a.name = 'renamed';
    expect(a.name).toBe('renamed');
    expect(() => new Thread({ name: 3 as never })).toThrow(TypeError);
    const thread = spawn({ target: () => undefined });
    expect(() => { thread.name = 'late'; }).toThrow(RuntimeError);
    await thread.join();
  });

  test('the daemon flag defaults to the creating thread\'s and cannot change after start', async () => {
    expect(new Thread().daemon).toBe(false);
    expect(new Thread({ daemon: true }).daemon).toBe(true);
    const thread = new Thread({ target: () => undefined });
    thread.daemon = true;
    expect(thread.daemon).toBe(true);
    thread.start();
    started.push(thread);
    expect(() => { thread.daemon = false; }).toThrow(RuntimeError);
    expect(() => { thread.daemon = false; }).toThrow('cannot set daemon status of active thread');
    expect(() => new Thread({ daemon: 'yes' as never })).toThrow(TypeError);
    await thread.join();
    // Inside a daemon thread, a new Thread is a daemon too (as Python's threads inherit it).
    const inherited = startTargetThread(() => {
      const { Thread: InnerThread } = require('threadkit/threading/thread');
      return [new InnerThread().daemon, new InnerThread({ daemon: false }).daemon];
    }, []);
    expect(await inherited.join()).toEqual({ ok: true, value: [false, false] });
    const out = gate();
    const probe = spawn({
      daemon: true,
      target: (o: Int32Array) => {
        const { Thread: InnerThread } = require('threadkit/threading/thread');
        o[0] = new InnerThread().daemon ? 1 : 2;
      },
      args: [out],
    });
    await probe.join();
    expect(out[0]).toBe(1);
  });

  test('ident is null before start and the worker\'s threadId after', async () => {
    const out = gate();
    const thread = new Thread({ target: (o: Int32Array) => { o[0] = require('node:worker_threads').threadId; }, args: [out] });
    expect(thread.ident).toBeNull();
    thread.start();
    started.push(thread);
    expect(typeof thread.ident).toBe('number');
    await thread.join();
    expect(out[0]).toBe(thread.ident);
  });

  test('util.inspect shows the name and the state as Python\'s repr does', async () => {
    const word = gate();
    const thread = new Thread({ name: 'T', target: (w: Int32Array, ms: number) => { Atomics.wait(w, 0, 0, ms); }, args: [word, WAIT_MS] });
    expect(inspect(thread)).toBe('<Thread(T, initial)>');
    thread.start();
    started.push(thread);
    expect(inspect(thread)).toBe(`<Thread(T, started ${thread.ident})>`);
    open(word);
    await thread.join();
    expect(inspect(thread)).toBe(`<Thread(T, stopped ${thread.ident})>`);
    expect(inspect(new Thread({ name: 'D', daemon: true }))).toBe('<Thread(D, initial daemon)>');
  });
});

describe('bad input', () => {
  test('an argument that cannot be sent is a TypeError naming its position, and nothing starts', () => {
    const before = liveResources().length;
    expect(() => new Thread({ target: (..._args: unknown[]) => undefined, args: [1, () => 2] })).toThrow(TypeError);
    expect(() => new Thread({ target: (..._args: unknown[]) => undefined, args: [1, () => 2] })).toThrow(/^argument 2 \(args\[1\]\) cannot be sent to another thread/);
    expect(() => new Thread({ target: (..._args: unknown[]) => undefined, args: [Symbol('x')] })).toThrow(/^argument 1 \(args\[0\]\) cannot be sent/);
    expect(liveResources().length).toBe(before);
  });

  test('a target that is not a sendable function is a TypeError naming `target`', () => {
    expect(() => new Thread({ target: 42 as never })).toThrow('Expected `target` to be a function or a fromModule() reference, got number 42');
    expect(() => new Thread({ target: Math.max })).toThrow(/`target` cannot be sent to another thread/);
    expect(() => new Thread({ args: 'abc' as never })).toThrow('Expected `args` to be an array, got string "abc"');
    expect(() => new Thread(5 as never)).toThrow(TypeError);
  });
});

describe('subclasses', () => {
  test('an overriding run() runs in the new thread with the instance\'s fields as `this`', async () => {
    class Worker extends Thread {
      readonly out = new Int32Array(new SharedArrayBuffer(8));
      readonly lock = new Lock();
      readonly factor = 6;
      run(): void {
        this.out[0] = this.factor * 7;
        this.out[1] = this.lock.acquireSync(0) ? 1 : 2;
      }
    }
    const thread = new Worker();
    thread.lock.acquireSync();
    thread.start();
    started.push(thread);
    await thread.join();
    expect(thread.out[0]).toBe(42);
    expect(thread.out[1]).toBe(2); // the lock held here is held there too
    thread.lock.release();
  });

  test('an async run() override is awaited', async () => {
    class Async extends Thread {
      readonly out = gate();
      async run(): Promise<void> {
        await Promise.resolve();
        this.out[0] = 9;
      }
    }
    const thread = new Async();
    thread.start();
    started.push(thread);
    await thread.join();
    expect(thread.out[0]).toBe(9);
  });

  test('a field that cannot be sent is a TypeError at start, and the thread can start once it is fixed', async () => {
    class Bad extends Thread {
      callback: unknown = () => 1;
      readonly out = gate();
      run(): void { this.out[0] = 1; }
    }
    const thread = new Bad();
    const before = liveResources().filter((r) => !r.idle).length;
    expect(() => thread.start()).toThrow(/^field "callback" of Thread-\d+ cannot be sent to another thread: functions cannot be cloned/);
    expect(thread.isAlive()).toBe(false);
    expect(liveResources().filter((r) => !r.idle).length).toBe(before);
    thread.callback = 'fixed';
    thread.start();
    started.push(thread);
    await thread.join();
    expect(thread.out[0]).toBe(1);
  });
});

describe('errors and abnormal ends', () => {
  test('an error thrown by the target goes to the excepthook before join returns', async () => {
    const calls: [unknown, unknown][] = [];
    setExcepthook((error, thread) => calls.push([error, thread]));
    const thread = spawn({ name: 'failing', target: () => { throw Object.assign(new TypeError('boom'), { code: 'E_BOOM' }); } });
    expect(await thread.join()).toBe(true);
    expect(calls).toHaveLength(1);
    const [error, who] = calls[0];
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('boom');
    expect((error as { code?: string }).code).toBe('E_BOOM');
    expect(who).toBe(thread);
    expect(thread.isAlive()).toBe(false);
  });

  test('joinSync also hands the error to the excepthook before it returns', () => {
    const calls: unknown[] = [];
    setExcepthook((error) => calls.push(error));
    const thread = spawn({ target: async () => { throw new RangeError('async boom'); } });
    expect(thread.joinSync(WAIT_MS)).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(RangeError);
  });

  test('a thrown non-Error value reaches the excepthook as it was', async () => {
    const errors = recordExceptions();
    const a = spawn({ target: () => { throw undefined; } });
    const b = spawn({ target: () => { throw 0; } });
    await a.join();
    await b.join();
    expect((await errors.until(2)).map(([error]) => error).sort()).toEqual([0, undefined]);
  });

  test('the default excepthook prints "Exception in thread <name>:" and the stack to stderr, and the process goes on', async () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const thread = spawn({ name: 'noisy', target: () => { throw new Error('printed'); } });
      await thread.join();
      const printed = write.mock.calls.map((call) => String(call[0])).join('');
      expect(printed).toMatch(/^Exception in thread noisy:\nError: printed\n\s+at /);
    } finally {
      write.mockRestore();
    }
  });

  test('an excepthook that throws is reported and does not propagate', async () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      setExcepthook(() => { throw new Error('hook broke'); });
      const thread = spawn({ name: 'x', target: () => { throw new Error('original'); } });
      expect(await thread.join()).toBe(true);
      const printed = write.mock.calls.map((call) => String(call[0])).join('');
      expect(printed).toContain('hook broke');
      expect(printed).toContain('Exception in thread x:\nError: original');
    } finally {
      write.mockRestore();
    }
  });

  test('setExcepthook(null) restores the default; anything but a function or null is a TypeError', () => {
    expect(() => setExcepthook(5 as never)).toThrow(TypeError);
    setExcepthook(() => undefined);
    setExcepthook(null);
  });

  test('a thread whose target calls process.exit(3) is joinable, sync and async', async () => {
    const errors = recordExceptions();
    const a = spawn({ target: () => process.exit(3) });
    expect(a.joinSync(WAIT_MS)).toBe(true);
    expect(a.isAlive()).toBe(false);
    const b = spawn({ target: () => process.exit(3) });
    expect(await b.join(WAIT_MS)).toBe(true);
    expect(b.isAlive()).toBe(false);
    // Like Python's SystemExit: not an uncaught exception.
    expect(errors.calls).toEqual([]);
  });

  test('a thread whose worker is terminated is joinable', async () => {
    const word = gate();
    const thread = spawn({ target: (w: Int32Array) => { Atomics.wait(w, 0, 0); }, args: [word] });
    expect(thread.joinSync(10)).toBe(false);
    await thread[kTerminate]();
    expect(thread.joinSync(WAIT_MS)).toBe(true);
    expect(await thread.join(0)).toBe(true);
    expect(thread.isAlive()).toBe(false);
  });

  test('an uncaught error in a callback the target left behind goes to the excepthook', async () => {
    const errors = recordExceptions();
    const thread = spawn({ name: 'leaves-a-timer', target: () => { setTimeout(() => { throw new RangeError('later'); }, 1); } });
    await thread.join();
    const [[error, who]] = await errors.until(1);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('later');
    expect(who).toBe(thread);
  });

  test('a new thread after a worker died runs normally', async () => {
    const a = spawn({ target: () => process.exit(1) });
    await a.join();
    const out = gate();
    const b = spawn({ target: (o: Int32Array) => { o[0] = 5; }, args: [out] });
    await b.join();
    expect(out[0]).toBe(5);
  });
});

describe('threads started by threads', () => {
  test('a thread can start and join a thread of its own', async () => {
    const out = gate();
    const outer = spawn({
      target: (o: Int32Array, ms: number) => {
        const { Thread: Inner } = require('threadkit/threading/thread');
        const inner = new Inner({ name: 'inner', target: (p: Int32Array) => { p[0] = require('node:worker_threads').threadId; }, args: [o] });
        inner.start();
        o[1] = inner.joinSync(ms) ? 1 : 2;
        o[2] = require('node:worker_threads').threadId;
        return require('threadkit/internal/thread/warm-pool').shutdownIdleThreads();
      },
      args: [out, WAIT_MS],
    });
    expect(await outer.join(WAIT_MS)).toBe(true);
    expect(out[1]).toBe(1);
    expect(out[0]).toBeGreaterThan(0);
    expect(out[0]).not.toBe(out[2]);
  });
});

describe('shared objects', () => {
  test('a Lock passed to a thread is the same lock', async () => {
    const lock = new Lock();
    const word = gate();
    lock.acquireSync();
    const thread = spawn({
      target: (l: Lock, w: Int32Array, ms: number) => {
        Atomics.store(w, 1, l.acquireSync(0) ? 1 : 2); // held by the main thread
        Atomics.notify(w, 1);
        Atomics.wait(w, 0, 0, ms);
        Atomics.store(w, 1, l.acquireSync(ms) ? 3 : 4); // released by the main thread
      },
      args: [lock, word, WAIT_MS],
    });
    while (Atomics.load(word, 1) === 0) expect(Atomics.wait(word, 1, 0, WAIT_MS)).not.toBe('timed-out');
    expect(word[1]).toBe(2);
    lock.release();
    open(word);
    await thread.join();
    expect(word[1]).toBe(3);
    expect(lock.locked()).toBe(true); // the thread acquired it and never released it
    lock.release();
  });
});

describe('warm reuse and process lifetime', () => {
  test('a thread reuses the idle worker a finished thread left, and starts in well under a new worker\'s time', async () => {
    const first = spawn({ target: () => undefined });
    first.joinSync(WAIT_MS);
    // Let the first outcome be handled so its worker is idle again.
    await first.join();
    const times: number[] = [];
    let ident = first.ident;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const thread = spawn({ target: () => undefined });
      thread.joinSync(WAIT_MS);
      times.push(performance.now() - t0);
      expect(thread.ident).toBe(ident);
      ident = thread.ident;
    }
    times.sort((x, y) => x - y);
    expect(times[10]).toBeLessThan(20); // a cold Worker takes ≈ 40–130 ms; warm is ≈ 0.2 ms
  });

  test('shutdownIdleThreads ends every idle worker and a later thread starts a fresh one', async () => {
    const first = spawn({ target: () => undefined });
    await first.join();
    const idleThreads = () => liveResources().filter((r) => r.kind === 'thread' && r.idle);
    expect(idleThreads().length).toBeGreaterThan(0);
    await shutdownIdleThreads();
    expect(idleThreads()).toEqual([]);
    const next = spawn({ target: () => undefined });
    expect(next.ident).not.toBe(first.ident);
    expect(await next.join(WAIT_MS)).toBe(true);
  });

  test('everything threads print reaches stdout before the process exits, joined or not', async () => {
    const child = path.join(FIXTURES, 'thread-print-child.ts');
    const run = (mode: string) => new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [...workerEntry('thread-entry').execArgv, child, mode], { timeout: 20_000 }, (error, stdout) => {
        if (error) reject(error);
        else resolve(stdout);
      });
    });
    const expected = Array.from({ length: 4 }, (_, id) => Array.from({ length: 8 }, (__, line) => `thread ${id} line ${line}`)).flat().sort();
    const [unjoined, joined] = await Promise.all([run('no-join'), run('join')]);
    expect(unjoined.trim().split('\n').sort()).toEqual(expected);
    expect(joined.trim().split('\n').sort()).toEqual([...expected, 'all joined'].sort());
    expect(joined.trim().split('\n').at(-1)).toBe('all joined');
  });

  test('a target in a script run by tsx (CLI or require hook) works as written, inner named functions and import() included', async () => {
    const child = path.join(FIXTURES, 'thread-tsx-child.ts');
    const run = (args: string[]) => new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [...args, child], { timeout: 20_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    const expected = JSON.stringify([42, 'double', 'function', path.join('a', 'b')]);
    const [viaCli, viaHook] = await Promise.all([run([require.resolve('tsx/cli')]), run(workerEntry('thread-entry').execArgv)]);
    expect(viaCli).toBe(expected);
    expect(viaHook).toBe(expected);
  });

  test('a daemon thread does not keep a node process alive; a non-daemon thread does', async () => {
    const child = path.join(FIXTURES, 'thread-daemon-child.ts');
    const run = (mode: string) => new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      execFile(process.execPath, [...workerEntry('thread-entry').execArgv, child, mode], { timeout: 20_000 }, (error, stdout) => {
        if (error && error.killed) reject(new Error(`child (${mode}) did not exit`));
        else resolve({ code: error ? (error.code as number) : 0, stdout });
      });
    });
    const [daemon, nonDaemon] = await Promise.all([run('daemon'), run('non-daemon')]);
    expect(daemon).toEqual({ code: 0, stdout: 'main done\n' });
    expect(nonDaemon).toEqual({ code: 0, stdout: 'main done\nthread done\n' });
  });
});
