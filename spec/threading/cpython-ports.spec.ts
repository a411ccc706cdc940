// Scenarios of CPython's Lib/test/lock_tests.py and the Thread/Timer/excepthook parts of
// Lib/test/test_threading.py that the per-primitive specs did not already cover, translated to this
// API (ms timeouts, acquire/acquireSync, waits in real worker threads). Each test names the CPython
// test it ports. Cross-thread steps coordinate through shared memory; timing assertions are loose
// lower bounds on a timeout, never upper bounds below seconds.
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { Worker, setEnvironmentData } from 'node:worker_threads';
import {
  Barrier, Condition, Event, Lock, RLock, Semaphore, Thread, Timer, currentThread, enumerate, setExcepthook, sleep, sleepSync,
} from 'threadkit/threading';
import { RuntimeError, ValueError } from 'threadkit/errors';
import { kTerminate } from '../../lib/threading/thread';
import { shutdownIdleThreads } from '../../lib/internal/thread/warm-pool';
import { counters, memoryOf, spawn, stopAll, until } from '../fixtures/shm-threads';

/** Upper bound of any wait a test expects to end (it ends far sooner). */
const WAIT_MS = 20_000;
/** Environment-data key through which a Barrier action finds its gate. */
const ACTION_GATE = 'threadkit.spec.barrierActionGate';

const threads: Thread[] = [];

/** Creates and starts a Thread that the teardown ends if the test did not join it. */
function start(options: ConstructorParameters<typeof Thread>[0]): Thread {
  const thread = new Thread(options);
  thread.start();
  threads.push(thread);
  return thread;
}

afterEach(async () => {
  setExcepthook(null);
  for (const thread of threads.splice(0)) if (thread.isAlive()) await thread[kTerminate]();
  await stopAll();
});

afterAll(shutdownIdleThreads);

describe('Lock (lock_tests.LockTests)', () => {
  test('a worker trying once on a lock main holds gets false at once, sync and async (test_try_acquire_contended)', async () => {
    const lock = new Lock();
    lock.acquireSync();
    const tried = await spawn(async (lock: Lock) => [lock.acquireSync(0), await lock.acquire(0)], lock);
    expect(tried).toEqual([false, false]);
    expect(lock.locked()).toBe(true);
    lock.release();
  });

  test('a thread that acquires a Lock twice blocks until another thread releases it (test_reacquire)', async () => {
    const lock = new Lock();
    const phase = counters(1);
    const worker = spawn((lock: Lock, phase: Int32Array) => {
      lock.acquireSync();
      Atomics.store(phase, 0, 1);
      lock.acquireSync(); // not reentrant: waits for someone else's release
      Atomics.store(phase, 0, 2);
      lock.release();
    }, lock, phase);
    await until(() => Atomics.load(phase, 0) === 1 && Atomics.load(memoryOf(lock), 0) === 2, 'the worker sleeps on its second acquire');
    expect(Atomics.load(phase, 0)).toBe(1);
    lock.release(); // any thread may release a Lock
    await worker;
    expect(Atomics.load(phase, 0)).toBe(2);
    expect(lock.locked()).toBe(false);
  });

  test('huge and infinite timeouts take a free lock at once; a worker\'s timed acquire of a held lock fails after its timeout (test_timeout)', async () => {
    const lock = new Lock();
    for (const timeout of [Infinity, 1e100, Number.MAX_VALUE, 0x7fffffff + 1]) {
      expect(lock.acquireSync(timeout)).toBe(true);
      lock.release();
      expect(await lock.acquire(timeout)).toBe(true);
      lock.release();
    }
    lock.acquireSync();
    const [ok, elapsed] = (await spawn((lock: Lock) => {
      const t0 = performance.now();
      const got = lock.acquireSync(50);
      return [got, performance.now() - t0];
    }, lock)) as [boolean, number];
    expect(ok).toBe(false);
    expect(elapsed).toBeGreaterThanOrEqual(49);
    lock.release();
    // test_state_after_timeout: the timed-out waiter left the word usable.
    expect(lock.acquireSync(0)).toBe(true);
    lock.release();
  });

  test('after withLock ends by a throw, another thread can take the lock (test_with)', async () => {
    const lock = new Lock();
    await expect(lock.withLock(() => { throw new TypeError('inside'); })).rejects.toThrow(TypeError);
    expect(() => lock.withLockSync(() => { throw new TypeError('inside'); })).toThrow(TypeError);
    expect(await spawn((lock: Lock) => { const got = lock.acquireSync(0); if (got) lock.release(); return got; }, lock)).toBe(true);
  });

  test('15 threads acquire and release one lock, and none of them is left in enumerate() (test_thread_leak)', async () => {
    const lock = new Lock();
    const list = Array.from({ length: 15 }, () => start({ target: (lock: Lock) => lock.withLockSync(() => undefined), args: [lock] }));
    for (const thread of list) expect(await thread.join(WAIT_MS)).toBe(true);
    expect(enumerate()).toEqual([currentThread()]);
    expect(lock.locked()).toBe(false);
  });
});

describe('RLock (lock_tests.RLockTests)', () => {
  test('while a worker owns it, this thread sees depth 0 for itself and cannot wait on or notify a Condition over it (test_recursion_count, test__is_owned)', async () => {
    const rlock = new RLock();
    const cond = new Condition(rlock);
    rlock.acquireSync();
    rlock.acquireSync();
    rlock.acquireSync();
    expect(inspect(rlock)).toBe('<RLock owner=0 count=3>');
    rlock.release();
    rlock.release();
    rlock.release();
    expect(inspect(rlock)).toBe('<RLock owner=none count=0>');
    const gate = counters(2);
    const worker = spawn((rlock: RLock, gate: Int32Array) => {
      rlock.acquireSync();
      Atomics.store(gate, 0, require('node:worker_threads').threadId);
      Atomics.notify(gate, 0);
      while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0);
      rlock.release();
    }, rlock, gate);
    await until(() => Atomics.load(gate, 0) !== 0, 'the worker owns the RLock');
    expect(inspect(rlock)).toBe(`<RLock owner=${Atomics.load(gate, 0)} count=1>`);
    expect(rlock.acquireSync(0)).toBe(false);
    expect(() => rlock.release()).toThrow(RuntimeError);
    expect(() => cond.notify()).toThrow('cannot notify on un-acquired lock');
    expect(() => cond.waitSync(0)).toThrow('cannot wait on un-acquired lock');
    await expect(cond.wait(0)).rejects.toThrow(RuntimeError);
    Atomics.store(gate, 1, 1);
    Atomics.notify(gate, 1);
    await worker;
    expect(inspect(rlock)).toBe('<RLock owner=none count=0>');
    expect(rlock.acquireSync(0)).toBe(true);
    rlock.release();
  });
});

describe('Event (lock_tests.EventTests)', () => {
  /** Five threads each wait twice (sync or async in turn); resolves with every result. */
  function fiveWaitTwice(evt: Event, ready: Int32Array): Promise<unknown[]> {
    return Promise.all(Array.from({ length: 5 }, (_, i) => spawn(async (evt: Event, ready: Int32Array, sync: boolean) => {
      Atomics.add(ready, 0, 1);
      const first = sync ? evt.waitSync(20_000) : await evt.wait(20_000);
      const second = sync ? evt.waitSync(20_000) : await evt.wait(20_000);
      return [first, second];
    }, evt, ready, i % 2 === 0)));
  }

  test('one set wakes all five waiting threads and a second wait returns at once; again after set then clear (test_notify)', async () => {
    const evt = new Event();
    for (let round = 0; round < 2; round++) {
      const ready = counters(1);
      const all = fiveWaitTwice(evt, ready);
      await until(() => Atomics.load(ready, 0) === 5 && Atomics.load(memoryOf(evt), 1) === 5, 'five threads wait on the event');
      evt.set();
      expect(await all).toEqual(Array(5).fill([true, true]));
      evt.set();
      evt.clear();
    }
  });

  test('in five threads wait(0) is false and a timed wait false after its timeout; once set, both are true (test_timeout)', async () => {
    const evt = new Event();
    const probe = async (evt: Event) => {
      const now = evt.waitSync(0);
      const t0 = performance.now();
      const timed = await evt.wait(50);
      return [now, timed, performance.now() - t0];
    };
    const clear = (await Promise.all(Array.from({ length: 5 }, () => spawn(probe, evt)))) as [boolean, boolean, number][];
    for (const [now, timed, elapsed] of clear) {
      expect([now, timed]).toEqual([false, false]);
      expect(elapsed).toBeGreaterThanOrEqual(49);
    }
    evt.set();
    const set = (await Promise.all(Array.from({ length: 5 }, () => spawn(probe, evt)))) as [boolean, boolean, number][];
    for (const [now, timed] of set) expect([now, timed]).toEqual([true, true]);
  });
});

describe('Condition (lock_tests.ConditionTests)', () => {
  test('a Condition over a Lock acquires and releases exactly that lock (test_acquire)', async () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    cond.acquireSync();
    expect(lock.acquireSync(0)).toBe(false);
    cond.release();
    expect(lock.acquireSync(0)).toBe(true);
    expect(cond.acquireSync(0)).toBe(false);
    expect(await cond.acquire(0)).toBe(false);
    lock.release();
    await cond.withLock(() => expect(lock.locked()).toBe(true));
    cond.withLockSync(() => expect(lock.locked()).toBe(true));
    expect(lock.locked()).toBe(false);
  });

  test('timed waits in five threads each return false after at least the timeout, holding the lock (test_timeout)', async () => {
    const cond = new Condition();
    const results = (await Promise.all(Array.from({ length: 5 }, (_, i) => spawn(async (cond: Condition, sync: boolean) => {
      cond.acquireSync();
      const t0 = performance.now();
      const notified = sync ? cond.waitSync(50) : await cond.wait(50);
      const elapsed = performance.now() - t0;
      cond.release(); // would throw if the wait had not re-acquired the lock
      return [notified, elapsed];
    }, cond, i % 2 === 0)))) as [boolean, number][];
    for (const [notified, elapsed] of results) {
      expect(notified).toBe(false);
      expect(elapsed).toBeGreaterThanOrEqual(49);
    }
    expect(inspect(cond)).toContain('waiters=0');
  });

  test('a worker in waitFor re-checks its predicate on every notify and returns once it holds (test_waitfor)', async () => {
    const cond = new Condition();
    const state = counters(2);
    const worker = spawn((cond: Condition, state: Int32Array) => cond.withLockSync(() => {
      const result = cond.waitForSync(() => { Atomics.add(state, 1, 1); return Atomics.load(state, 0) === 4; });
      return [result, Atomics.load(state, 0)];
    }), cond, state);
    for (let i = 0; i < 4; i++) {
      // Each step waits until the worker is back in wait(), so no notify finds the queue empty.
      await until(() => inspect(cond).includes('waiters=1'), `the worker waits (step ${i})`);
      await cond.withLock(() => {
        Atomics.add(state, 0, 1);
        cond.notify();
      });
    }
    expect(await worker).toEqual([true, 4]);
    expect(Atomics.load(state, 1)).toBe(5); // once at first, then once per notify
  });

  test('waitFor whose predicate never holds returns it falsy after the timeout (test_waitfor_timeout)', async () => {
    const cond = new Condition();
    const state = counters(1);
    const worker = spawn((cond: Condition, state: Int32Array) => cond.withLockSync(() => {
      const t0 = performance.now();
      const result = cond.waitForSync(() => Atomics.load(state, 0) === 4, 300);
      return [result, performance.now() - t0];
    }), cond, state);
    for (let i = 0; i < 3; i++) {
      await cond.withLock(() => {
        Atomics.add(state, 0, 1);
        cond.notify();
      });
    }
    const [result, elapsed] = (await worker) as [boolean, number];
    expect(result).toBe(false);
    expect(elapsed).toBeGreaterThanOrEqual(299);
  });
});

describe('Semaphore (lock_tests.BaseSemaphoreTests)', () => {
  test('Semaphore(4) with one permit taken: five threads trying twice get exactly 3 permits (test_try_acquire_contended)', async () => {
    const sem = new Semaphore(4);
    sem.acquireSync();
    const results = await Promise.all(Array.from({ length: 5 }, () => spawn(async (sem: Semaphore) => [sem.acquireSync(0), await sem.acquire(0)], sem)));
    const flat = (results as boolean[][]).flat().sort();
    expect(flat).toEqual([...Array(7).fill(false), ...Array(3).fill(true)]);
    expect(sem.value).toBe(0);
  });

  test('a default Semaphore holds a second thread until this one releases (test_default_value)', async () => {
    const sem = new Semaphore();
    sem.acquireSync();
    const done = counters(1);
    const worker = spawn((sem: Semaphore, done: Int32Array) => {
      sem.acquireSync();
      Atomics.store(done, 0, 1);
      sem.release();
    }, sem, done);
    await until(() => Atomics.load(memoryOf(sem), 1) === 1, 'the worker sleeps on the semaphore');
    expect(Atomics.load(done, 0)).toBe(0);
    sem.release();
    await worker;
    expect(Atomics.load(done, 0)).toBe(1);
    expect(sem.value).toBe(1);
  });

  test('nested withLock takes one permit per level and gives them back on a throw (test_with)', () => {
    const sem = new Semaphore(2);
    const nested = (error?: Error) => sem.withLockSync(() => {
      expect(sem.acquireSync(0)).toBe(true);
      sem.release();
      sem.withLockSync(() => {
        expect(sem.acquireSync(0)).toBe(false);
        if (error) throw error;
      });
    });
    nested();
    expect(sem.value).toBe(2);
    expect(() => nested(new TypeError('inside'))).toThrow(TypeError);
    expect(sem.value).toBe(2);
  });
});

describe('Barrier (lock_tests.BarrierTests)', () => {
  test('after one party aborts, the parties meet on a second barrier, reset the first, and all pass it (test_abort_and_reset)', async () => {
    const N = 4;
    const barrier = new Barrier(N);
    const barrier2 = new Barrier(N);
    const results = counters(3); // [passed first round twice, broken, passed after reset]
    const party = (barrier: Barrier, barrier2: Barrier, results: Int32Array, n: number) => {
      try {
        const i = barrier.waitSync(20_000);
        if (i === n >> 1) throw new RangeError('this party aborts');
        barrier.waitSync(20_000);
        Atomics.add(results, 0, 1);
      } catch (error) {
        if ((error as Error).name === 'BrokenBarrierError') Atomics.add(results, 1, 1);
        else barrier.abort();
      }
      if (barrier2.waitSync(20_000) === n >> 1) barrier.reset();
      barrier2.waitSync(20_000);
      barrier.waitSync(20_000);
      Atomics.add(results, 2, 1);
    };
    await Promise.all(Array.from({ length: N }, () => spawn(party, barrier, barrier2, results, N)));
    expect(Array.from(results)).toEqual([0, N - 1, N]);
    expect(barrier.broken).toBe(false);
  });

  test('a timeout that passes while the action runs does not break the round, since every party arrived (CPython runs the action holding the barrier\'s lock)', async () => {
    // An action takes no arguments; it reaches its gate through the environment data that every
    // Worker created from now on inherits (a SharedArrayBuffer is shared, not copied).
    await shutdownIdleThreads(); // so the threads below are new workers that get the data
    const gate = counters(2); // [action running, action may end]
    setEnvironmentData(ACTION_GATE, gate.buffer);
    try {
      const barrier = new Barrier(2, {
        action: () => {
          const box = require('node:worker_threads').getEnvironmentData('threadkit.spec.barrierActionGate');
          const g = new Int32Array(box as SharedArrayBuffer);
          Atomics.store(g, 0, 1);
          while (Atomics.load(g, 1) === 0) Atomics.wait(g, 1, 0);
        },
      });
      const go = counters(2); // [worker ready, worker may arrive]
      const last = spawn((b: Barrier, go: Int32Array) => {
        Atomics.store(go, 0, 1);
        while (Atomics.load(go, 1) === 0) Atomics.wait(go, 1, 0);
        return b.waitSync(20_000);
      }, barrier, go);
      await until(() => Atomics.load(go, 0) === 1, 'the last party is ready');
      const TIMEOUT = 1000; // long enough for the last party to arrive, even on a loaded machine
      const t0 = performance.now();
      const mine = barrier.wait(TIMEOUT);
      Atomics.store(go, 1, 1);
      Atomics.notify(go, 1);
      await until(() => Atomics.load(gate, 0) === 1 && performance.now() > t0 + TIMEOUT + 20, 'the action runs past the timed party\'s deadline');
      expect(barrier.broken).toBe(false);
      Atomics.store(gate, 1, 1);
      Atomics.notify(gate, 1);
      expect(await mine).toBe(0);
      expect(await last).toBe(1);
      expect(barrier.broken).toBe(false);
    } finally {
      Atomics.store(gate, 1, 1);
      Atomics.notify(gate, 1);
      setEnvironmentData(ACTION_GATE, undefined);
    }
  });
});

describe('Thread (test_threading.ThreadTests, ExceptHookTests)', () => {
  test('an empty name takes the default Thread-N name, as in Python (test_name)', () => {
    expect(new Thread({ name: '' }).name).toMatch(/^Thread-\d+$/);
    expect(new Thread({ name: 'myname1' }).name).toBe('myname1');
    expect(new Thread({ target: () => 1, name: 'myname2' }).name).toBe('myname2');
  });

  test('in a worker that threadkit did not start, currentThread() is a daemon Dummy-N with the worker\'s threadId (test_ident_of_no_threading_threads)', async () => {
    const currentModule = require.resolve('../../lib/threading/current');
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage(require(${JSON.stringify(currentModule)}).currentThread());`,
      { eval: true, execArgv: ['--require', require.resolve('tsx/cjs')] },
    );
    try {
      const info = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(info).toEqual({ name: `Dummy-${worker.threadId}`, ident: worker.threadId, daemon: true });
    } finally {
      await worker.terminate();
    }
  });

  test('arguments holding nested arrays and objects arrive as given (test_args_argument)', async () => {
    const out = counters(1);
    const thread = start({
      target: (out: Int32Array, a: unknown, b: unknown, c: unknown) => {
        const same = JSON.stringify([a, b, c]) === JSON.stringify([[1], ['str', [2]], { t: [1, { u: 'v' }] }]);
        Atomics.store(out, 0, same ? 1 : 2);
      },
      args: [out, [1], ['str', [2]], { t: [1, { u: 'v' }] }],
    });
    expect(await thread.join(WAIT_MS)).toBe(true);
    expect(Atomics.load(out, 0)).toBe(1);
  });

  test('several joins of one thread at once, sync and async, all return true when it ends (test_join_from_multiple_threads)', async () => {
    const gate = counters(1);
    const thread = start({ target: (g: Int32Array) => { while (Atomics.load(g, 0) === 0) Atomics.wait(g, 0, 0); }, args: [gate] });
    const joins = Array.from({ length: 5 }, () => thread.join(WAIT_MS));
    expect(thread.joinSync(0)).toBe(false);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    expect(thread.joinSync(WAIT_MS)).toBe(true);
    expect(await Promise.all(joins)).toEqual([true, true, true, true, true]);
    expect(await thread.join()).toBe(true);
  });

  test('util.inspect shows "stopped" once the target ended, without any join (test_repr_stopped)', async () => {
    const gate = counters(2);
    const thread = start({
      target: (g: Int32Array) => {
        Atomics.store(g, 0, 1);
        while (Atomics.load(g, 1) === 0) Atomics.wait(g, 1, 0);
      },
      args: [gate],
    });
    await until(() => Atomics.load(gate, 0) === 1, 'the thread runs');
    expect(inspect(thread)).toMatch(/^<Thread\(Thread-\d+, started \d+\)>$/);
    Atomics.store(gate, 1, 1);
    Atomics.notify(gate, 1);
    await until(() => inspect(thread).includes('stopped'), 'the thread is seen stopped');
    expect(inspect(thread)).toMatch(/^<Thread\(Thread-\d+, stopped \d+\)>$/);
    expect(thread.isAlive()).toBe(false);
  });

  test('a subclass whose run() throws reaches the excepthook with the Thread object itself (test_custom_excepthook)', async () => {
    class ThreadRunFail extends Thread {
      override run(): never {
        throw new RangeError('run failed');
      }
    }
    const calls: [unknown, unknown][] = [];
    setExcepthook((error, thread) => calls.push([error, thread]));
    const thread = new ThreadRunFail({ name: 'excepthook thread' });
    thread.start();
    threads.push(thread);
    expect(await thread.join(WAIT_MS)).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0][0]).toBeInstanceOf(RangeError);
    expect((calls[0][0] as Error).message).toBe('run failed');
    expect(calls[0][1]).toBe(thread);
  });
});

describe('bad input across the threading API', () => {
  test('a notify count that is not a whole number is a TypeError naming `n`, and wakes nobody', async () => {
    const cond = new Condition(new Lock());
    const waiter = spawn((cond: Condition) => cond.withLockSync(() => cond.waitSync(20_000)), cond);
    await until(() => inspect(cond).includes('waiters=1'), 'one waiter is queued');
    cond.acquireSync();
    try {
      expect(() => cond.notify(0.5)).toThrow(TypeError);
      expect(() => cond.notify(0.5)).toThrow('Expected `n` to be a whole number of waiters, got number 0.5');
      expect(() => cond.notify(NaN)).toThrow(RangeError);
      expect(() => cond.notify(-1)).toThrow(RangeError);
      expect(() => cond.notify(-Infinity)).toThrow(RangeError);
      expect(inspect(cond)).toContain('waiters=1');
      cond.notify(Infinity);
    } finally {
      cond.release();
    }
    expect(await waiter).toBe(true);
  });

  test('every argument error names the argument and the value received', () => {
    const cases: [() => unknown, ErrorConstructor, string][] = [
      [() => new Lock().acquireSync(-5), RangeError, 'Expected `timeout` to be a non-negative number of milliseconds, got -5'],
      [() => new RLock().acquireSync('1' as never), TypeError, 'Expected `timeout` to be a number of milliseconds or undefined, got string "1"'],
      [() => new Event().waitSync(NaN), RangeError, '`timeout`'],
      [() => new Semaphore(-1), RangeError, 'Expected `value` to be an integer from 0 to 2147483647, got -1'],
      [() => new Semaphore(1.5), TypeError, 'Expected `value` to be an integer, got number 1.5'],
      [() => new Semaphore().release(0), RangeError, 'Expected `n` to be an integer from 1 to 2147483647, got 0'],
      [() => new Barrier(0), RangeError, 'Expected `parties` to be an integer from 1 to 2147483647, got 0'],
      [() => new Barrier(2 ** 31), RangeError, 'got 2147483648'],
      [() => new Barrier('2' as never), TypeError, 'Expected `parties` to be an integer, got string "2"'],
      [() => new Barrier(2, { timeout: -1 }), RangeError, '`options.timeout`'],
      [() => new Barrier(2, { action: 5 as never }), TypeError, 'Expected `options.action` to be a function or a fromModule() reference, got number 5'],
      [() => new Thread({ target: 5 as never }), TypeError, 'Expected `target` to be a function or a fromModule() reference, got number 5'],
      [() => new Thread({ args: 'ab' as never }), TypeError, 'Expected `args` to be an array, got string "ab"'],
      [() => new Thread({ name: 5 as never }), TypeError, 'Expected `name` to be a string, got number 5'],
      [() => new Thread({ daemon: 'yes' as never }), TypeError, 'Expected `daemon` to be a boolean, got string "yes"'],
      [() => new Timer(-1, () => 1), RangeError, 'Expected `interval` to be a non-negative number of milliseconds, got -1'],
      [() => new Timer('1' as never, () => 1), TypeError, 'Expected `interval` to be a number of milliseconds, got string "1"'],
      [() => new Timer(1, () => 1, 5 as never), TypeError, 'Expected `args` to be an array, got number 5'],
      [() => setExcepthook(5 as never), TypeError, 'Expected `hook` to be a function or null, got number 5'],
    ];
    for (const [call, Class, message] of cases) {
      expect(call).toThrow(Class);
      expect(call).toThrow(message);
    }
  });

  test('a constructor or start that fails leaves no thread started and the name counter untouched', () => {
    const before = new Thread().name;
    expect(() => new Thread({ target: (_fn: unknown) => 1, args: [() => 2] })).toThrow('argument 1 (args[0]) cannot be sent');
    expect(() => new Timer(1, () => 1, [Symbol('x')])).toThrow(TypeError);
    class BadField extends Thread {
      fn = () => 1;
      override run(): void {}
    }
    const bad = new BadField();
    expect(() => bad.start()).toThrow(TypeError);
    expect(bad.isAlive()).toBe(false);
    expect(bad.ident).toBeNull();
    expect(() => bad.joinSync(0)).toThrow(RuntimeError);
    expect(enumerate()).toEqual([currentThread()]);
    // Only the two successful constructions (`before` and `bad`) took a number.
    expect(Number(new Thread().name.slice('Thread-'.length))).toBe(Number(before.slice('Thread-'.length)) + 2);
  });
});

describe('out-of-range numbers are ValueError, as Python, and still RangeError, as the contract says', () => {
  const both = (f: () => unknown): void => {
    expect(f).toThrow(ValueError);
    expect(f).toThrow(RangeError);
  };

  test('negative or NaN timeouts (lock_tests test_timeout: acquire(timeout=-100))', async () => {
    const lock = new Lock();
    both(() => lock.acquireSync(-100));
    both(() => lock.acquireSync(NaN));
    await expect(lock.acquire(-100)).rejects.toThrow(ValueError);
    both(() => new Event().waitSync(-1));
    both(() => sleepSync(-1));
    await expect(sleep(-1)).rejects.toThrow(ValueError);
    expect(lock.locked()).toBe(false);
  });

  test('counts below their minimum (test_constructor, release(0)), and the lock state is untouched', () => {
    both(() => new Semaphore(-1));
    const sem = new Semaphore(1);
    both(() => sem.release(0));
    both(() => sem.release(-1));
    both(() => new Barrier(0));
    both(() => new Barrier(-1));
    both(() => new Timer(-1, () => {}));
    expect(sem.acquireSync(0)).toBe(true);
    expect(sem.acquireSync(0)).toBe(false);
  });
});
