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
    const t0 = performance.now();
    expect(sleepSync(0)).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(1000);
    // A sleep(0) that waited forever (or for a real timer's worth) would lose this race.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timed out'), 1000)));
    expect(await Promise.race([sleep(0).then(() => 'slept'), late])).toBe('slept');
    clearTimeout(timer);
  });

  test('negative, NaN and non-number durations are rejected', async () => {
    expect(() => sleepSync(-1)).toThrow(RangeError);
    expect(() => sleepSync(NaN)).toThrow(RangeError);
    expect(() => sleepSync('5' as never)).toThrow(TypeError);
    await expect(sleep(-1)).rejects.toThrow(RangeError);
    await expect(sleep(undefined as never)).rejects.toThrow(TypeError);
  });
});
