/**
 * warmThreads(): how long finished threads' workers stay warm, how many are kept, and starting
 * some ahead of need. Expiry takes real time: the waits below are bounded polls of the library's
 * census (no sleep decides the outcome), with a long deadline for a loaded machine.
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { Thread, warmThreads } from 'threadkit/threading';
import { ValueError } from 'threadkit';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_IDLE, shutdownIdleThreads } from '../../lib/internal/thread/warm-pool';
import { liveResources } from '../../lib/internal/tracking';

const idleWorkers = (): number => liveResources().filter((r) => r.kind === 'thread' && r.idle).length;

/** Resolves once `predicate()` holds; fails naming `what` after `ms`. */
async function until(predicate: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function runThread(): Promise<number> {
  const thread = new Thread({ target: () => undefined });
  thread.start();
  expect(await thread.join(20_000)).toBe(true);
  return thread.ident!;
}

afterEach(async () => {
  warmThreads({ idleTimeout: DEFAULT_IDLE_TIMEOUT_MS, max: DEFAULT_MAX_IDLE });
  await shutdownIdleThreads();
});
afterAll(shutdownIdleThreads);

describe('warmThreads', () => {
  test('returns the settings in force, the defaults first', () => {
    expect(warmThreads()).toEqual({ idleTimeout: 5000, max: 8, idle: 0 });
  });

  test('an idle worker ends after idleTimeout; with Infinity it stays and the next thread reuses it', async () => {
    warmThreads({ idleTimeout: 30 });
    await runThread();
    // Well before the default 5 s: the setting, not the default, ended it.
    await until(() => idleWorkers() === 0, 'the idle worker ending', 2_500);
    const first = await runThread(); // idle again, on a 30 ms clock
    warmThreads({ idleTimeout: Infinity }); // …restarted: never
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(idleWorkers()).toBe(1);
    expect(await runThread()).toBe(first);
  });

  test('a new idleTimeout applies to the workers already idle', async () => {
    warmThreads({ idleTimeout: Infinity });
    await runThread();
    expect(idleWorkers()).toBe(1);
    warmThreads({ idleTimeout: 30 });
    await until(() => idleWorkers() === 0, 'the idle worker ending', 2_500);
  });

  test('max bounds the idle workers; lowering it ends the ones beyond it; 0 keeps none', async () => {
    warmThreads({ idleTimeout: Infinity, prestart: 3 });
    await until(() => idleWorkers() === 3, 'three workers prestarted');
    expect(warmThreads({ max: 1 }).idle).toBe(1);
    await until(() => idleWorkers() === 1, 'two idle workers ending');
    warmThreads({ max: 0 });
    await until(() => idleWorkers() === 0, 'the last idle worker ending');
    await runThread(); // its worker is not kept: it ends once the thread is done
    await until(() => idleWorkers() === 0 && liveResources().filter((r) => r.kind === 'thread').length === 0, 'the worker ending');
  });

  test('prestarted workers are what the next threads run on', async () => {
    warmThreads({ idleTimeout: Infinity, prestart: 2 });
    await until(() => idleWorkers() === 2, 'two workers prestarted');
    const idents = new Set(liveResources().filter((r) => r.kind === 'thread' && r.idle).map((r) => Number(/\d+$/.exec(r.label)?.[0])));
    const a = new Thread({ target: () => undefined });
    const b = new Thread({ target: () => undefined });
    a.start();
    b.start();
    expect(idents).toEqual(new Set([a.ident, b.ident]));
    await a.join();
    await b.join();
  });

  test('bad options are errors naming the option, and change nothing', () => {
    expect(() => warmThreads({ idleTimeout: -1 })).toThrow(ValueError);
    expect(() => warmThreads({ idleTimeout: '5' as never })).toThrow(/`idleTimeout`/);
    expect(() => warmThreads({ max: 1.5 })).toThrow(/`max`.*1\.5/);
    expect(() => warmThreads({ prestart: -2 })).toThrow(RangeError);
    expect(() => warmThreads(5 as never)).toThrow(TypeError);
    expect(warmThreads()).toEqual({ idleTimeout: 5000, max: 8, idle: 0 });
  });
});
