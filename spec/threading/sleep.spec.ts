import { describe, expect, test } from '@jest/globals';
import { sleep, sleepSync } from 'threadkit/threading';

describe('sleep and sleepSync', () => {
  test('sleepSync blocks the calling thread for about the given milliseconds', () => {
    const t0 = performance.now();
    sleepSync(30);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(29);
    expect(elapsed).toBeLessThan(5000);
  });

  test('sleep resolves after about the given milliseconds without blocking the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    await sleep(40);
    clearInterval(timer);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(38);
    expect(ticks).toBeGreaterThan(0);
  });

  test('a sleep of 0 returns at once', async () => {
    sleepSync(0);
    await sleep(0);
  });

  test('negative, NaN and non-number durations are rejected', async () => {
    expect(() => sleepSync(-1)).toThrow(RangeError);
    expect(() => sleepSync(NaN)).toThrow(RangeError);
    expect(() => sleepSync('5' as never)).toThrow(TypeError);
    await expect(sleep(-1)).rejects.toThrow(RangeError);
    await expect(sleep(undefined as never)).rejects.toThrow(TypeError);
  });
});
