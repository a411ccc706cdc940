// Ported from CPython's Lib/test/test_threading.py (TimerTests) to threadkit's API.
import { afterAll, afterEach, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { Timer, setExcepthook } from 'threadkit/threading';
import { kTerminate } from 'threadkit/threading/thread';
import { shutdownIdleThreads } from '../../lib/internal/thread/warm-pool';

const WAIT_MS = 10_000;
const started: Timer[] = [];

/** out[0]: 1 once the target ran; out[1]: number of arguments it got; out[2..3]: when it ran (Float64 slot). */
function probe(): { flags: Int32Array; when: Float64Array } {
  const buffer = new SharedArrayBuffer(16);
  return { flags: new Int32Array(buffer, 0, 2), when: new Float64Array(buffer, 8, 1) };
}

function ran(flags: Int32Array, when: Float64Array, ...rest: unknown[]): void {
  when[0] = performance.timeOrigin + performance.now();
  Atomics.store(flags, 1, rest.length);
  Atomics.store(flags, 0, 1);
}

function startTimer(interval: number, args: unknown[]): Timer {
  const timer = new Timer(interval, ran, args);
  timer.start();
  started.push(timer);
  return timer;
}

afterEach(async () => {
  setExcepthook(null);
  for (const timer of started.splice(0)) {
    timer.cancel();
    if (timer.isAlive() && !(await timer.join(WAIT_MS))) await timer[kTerminate]();
  }
});

afterAll(shutdownIdleThreads);

test('a timer runs its target with its arguments after the interval', async () => {
  const { flags, when } = probe();
  const t0 = performance.timeOrigin + performance.now();
  const timer = startTimer(100, [flags, when, 'extra']);
  expect(await timer.join(WAIT_MS)).toBe(true);
  expect(flags[0]).toBe(1);
  expect(flags[1]).toBe(1);
  expect(when[0] - t0).toBeGreaterThanOrEqual(95); // clocks of two threads may differ by a hair
  expect(when[0] - t0).toBeLessThan(WAIT_MS);
});

test('cancel while waiting stops it at once: the target never runs', async () => {
  const { flags, when } = probe();
  const timer = startTimer(WAIT_MS * 3, [flags, when]);
  expect(timer.isAlive()).toBe(true);
  const t0 = performance.now();
  timer.cancel();
  expect(await timer.join(WAIT_MS)).toBe(true);
  expect(performance.now() - t0).toBeLessThan(WAIT_MS);
  expect(flags[0]).toBe(0);
});

test('cancel before start makes the timer end as soon as it starts, without running', async () => {
  const { flags, when } = probe();
  const timer = new Timer(WAIT_MS * 3, ran, [flags, when]);
  timer.cancel();
  timer.start();
  started.push(timer);
  expect(timer.joinSync(WAIT_MS)).toBe(true);
  expect(flags[0]).toBe(0);
});

test('cancel after the timer fired has no effect', async () => {
  const { flags, when } = probe();
  const timer = startTimer(0, [flags, when]);
  await timer.join(WAIT_MS);
  timer.cancel();
  expect(flags[0]).toBe(1);
  expect(timer.isAlive()).toBe(false);
});

test('each timer gets its own default (empty) argument list', async () => {
  const a = new Timer(0, () => undefined);
  const b = new Timer(0, () => undefined);
  expect(a.interval).toBe(0);
  expect(b.interval).toBe(0);
  a.start();
  b.start();
  started.push(a, b);
  expect(await a.join(WAIT_MS)).toBe(true);
  expect(await b.join(WAIT_MS)).toBe(true);
});

test('an error thrown by a timer\'s target goes to the excepthook', async () => {
  const calls: unknown[] = [];
  setExcepthook((error) => calls.push(error));
  const timer = new Timer(1, () => { throw new RangeError('timer boom'); });
  timer.start();
  started.push(timer);
  await timer.join(WAIT_MS);
  expect(calls).toHaveLength(1);
  expect(calls[0]).toBeInstanceOf(RangeError);
});

test('a bad interval is a RangeError or TypeError, a missing target a TypeError', () => {
  expect(() => new Timer(-1, () => undefined)).toThrow(RangeError);
  expect(() => new Timer(Number.NaN, () => undefined)).toThrow(RangeError);
  expect(() => new Timer('5' as never, () => undefined)).toThrow('Expected `interval` to be a number of milliseconds, got string "5"');
  expect(() => new Timer(5, undefined as never)).toThrow(TypeError);
  expect(() => new Timer(5, () => undefined, [() => 1])).toThrow(/^argument 1 \(args\[0\]\) cannot be sent/);
});

test('util.inspect names the class like Python\'s repr', () => {
  expect(inspect(new Timer(5, () => undefined))).toMatch(/^<Timer\(Thread-\d+, initial\)>$/);
});
