/**
 * ProcessPoolExecutor whose children talk JSON (`kJsonChannel`, the distributed worker's slots):
 * the whole executor suite, and what only the channel changes (large payloads still arrive whole).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ProcessPoolExecutor, type ProcessPoolExecutorOptions } from 'threadkit/futures';
import { kJsonChannel } from '../../lib/futures/process-pool-executor';
import { describeExecutorSuite } from './executor-suite';

const jsonPool = (options?: ProcessPoolExecutorOptions): ProcessPoolExecutor => new ProcessPoolExecutor({ ...options, [kJsonChannel]: true } as ProcessPoolExecutorOptions);

describeExecutorSuite('ProcessPoolExecutor with a JSON channel', jsonPool);

describe('ProcessPoolExecutor with a JSON channel', () => {
  let executor: ProcessPoolExecutor;
  beforeAll(() => {
    executor = jsonPool({ maxWorkers: 1 });
  });
  afterAll(() => executor.shutdown());

  test('a large binary argument and result (v8 text) and a large plain one (JSON) arrive whole', async () => {
    const bytes = new Uint8Array(1 << 20).map((_, i) => i % 251);
    const back = await executor.submit((b: Uint8Array) => b.map((x) => 255 - x), bytes);
    expect(Object.prototype.toString.call(back)).toBe('[object Uint8Array]');
    expect(back.length).toBe(bytes.length);
    expect(back[1000]).toBe(255 - (1000 % 251));
    const numbers = Array.from({ length: 100_000 }, (_, i) => i / 3);
    expect(await executor.submit((xs: number[]) => xs.reduce((a, b) => a + b, 0), numbers)).toBeCloseTo(numbers.reduce((a, b) => a + b, 0));
  });
});
