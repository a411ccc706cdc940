import { afterAll, expect, test } from '@jest/globals';
import { Thread, activeCount, currentThread, enumerate, mainThread, setExcepthook } from 'threadkit/threading';
import { startTargetThread } from '../helpers/target-thread';
import { shutdownIdleThreads } from '../../lib/internal/thread/warm-pool';

const WAIT_MS = 10_000;

afterAll(shutdownIdleThreads);

test('in the main thread, currentThread() and mainThread() are MainThread with ident 0', () => {
  expect(currentThread()).toEqual({ name: 'MainThread', ident: 0, daemon: false });
  expect(mainThread()).toEqual({ name: 'MainThread', ident: 0, daemon: false });
  expect(currentThread()).toBe(currentThread());
});

test('inside a thread, currentThread() is that thread and mainThread() is still the main one', async () => {
  const out = new Int32Array(new SharedArrayBuffer(4));
  const thread = new Thread({
    name: 'inspector',
    daemon: true,
    args: [out],
    target: (o: Int32Array) => {
      const { currentThread: current, mainThread: main, enumerate: list } = require('threadkit/threading/current');
      const me = current();
      const ok = me.name === 'inspector' && me.daemon === true && me.ident === require('node:worker_threads').threadId
        && main().name === 'MainThread' && main().ident === 0 && list().length === 1 && list()[0] === me;
      o[0] = ok ? 1 : 2;
    },
  });
  thread.start();
  expect(await thread.join(WAIT_MS)).toBe(true);
  expect(out[0]).toBe(1);
});

test('a worker reused by a second thread reports the second thread\'s name', async () => {
  const nameOf = async () => {
    const outcome = await startTargetThread(() => require('threadkit/threading/current').currentThread().name, []).join();
    return outcome.ok ? outcome.value : outcome.error;
  };
  const first = await nameOf();
  const second = await nameOf();
  expect(first).toMatch(/^Thread-\d+$/);
  expect(second).toMatch(/^Thread-\d+$/);
  expect(second).not.toBe(first);
});

test('default names stay unique across threads: a thread started in a thread takes the next number', async () => {
  const before = Number(new Thread().name.slice('Thread-'.length));
  const outcome = await startTargetThread(() => new (require('threadkit/threading').Thread)().name, []).join();
  const after = Number(new Thread().name.slice('Thread-'.length));
  expect(outcome.ok).toBe(true);
  const inner = Number(String(outcome.ok && outcome.value).slice('Thread-'.length));
  expect(inner).toBeGreaterThan(before);
  expect(after).toBeGreaterThan(inner);
});

test('enumerate() lists this thread and the alive threads it started; activeCount() counts them', async () => {
  const word = new Int32Array(new SharedArrayBuffer(4));
  expect(enumerate()).toEqual([currentThread()]);
  const base = activeCount();
  const thread = new Thread({ target: (w: Int32Array, ms: number) => { Atomics.wait(w, 0, 0, ms); }, args: [word, WAIT_MS] });
  thread.start();
  try {
    expect(enumerate()).toEqual([currentThread(), thread]);
    expect(activeCount()).toBe(base + 1);
  } finally {
    Atomics.store(word, 0, 1);
    Atomics.notify(word, 0);
    await thread.join(WAIT_MS);
  }
  expect(enumerate()).toEqual([currentThread()]);
  expect(activeCount()).toBe(base);
});

test('setExcepthook takes a function or null only', () => {
  expect(() => setExcepthook('print' as never)).toThrow('Expected `hook` to be a function or null, got string');
  setExcepthook(() => undefined);
  setExcepthook(null);
});
