/**
 * A ThreadRun with `wantResult` (through the specs' target-thread helper, spec/helpers/target-thread.ts):
 * runs a target in a warm thread and hands back its outcome, rebuilt in this realm, instead of using
 * the excepthook.
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import * as path from 'node:path';
import { setExcepthook } from 'threadkit/threading';
import { RuntimeError, fromModule } from 'threadkit';
import { startTargetThread } from '../../helpers/target-thread';
import { shutdownIdleThreads } from '../../../lib/internal/thread/warm-pool';
import { liveResources } from '../../../lib/internal/tracking';

const FIXTURES = path.resolve(__dirname, '../../fixtures');

afterEach(() => setExcepthook(null));
afterAll(shutdownIdleThreads);

describe('startTargetThread', () => {
  test('reports the value or the error instead of using the excepthook', async () => {
    const hooked: unknown[] = [];
    setExcepthook((error) => hooked.push(error));
    expect(await startTargetThread((a: number) => a + 1, [1]).join()).toEqual({ ok: true, value: 2 });
    expect(startTargetThread(() => ({ x: [1] }), []).joinSync()).toEqual({ ok: true, value: { x: [1] } });
    const failed = await startTargetThread(() => { throw new TypeError('nope'); }, []).join();
    expect(failed.ok).toBe(false);
    expect(!failed.ok && failed.error).toBeInstanceOf(TypeError);
    const exited = startTargetThread(() => process.exit(4), []).joinSync();
    expect(!exited.ok && exited.error).toBeInstanceOf(RuntimeError);
    expect(!exited.ok && (exited.error as Error).message).toMatch(/ended before its target returned: its worker exited/);
    const unsendable = await startTargetThread(() => () => 1, []).join();
    expect(!unsendable.ok && (unsendable.error as Error).message).toMatch(/cannot be sent to another thread/);
    expect(hooked).toEqual([]);
  });

  test('runs a fromModule target, sync or async, and anything else that is not a target is a TypeError naming it', async () => {
    const moduleRef = fromModule(path.join(FIXTURES, 'transport-add.ts'), 'add');
    expect(startTargetThread(moduleRef, [2, 3]).joinSync()).toEqual({ ok: true, value: 5 });
    expect(await startTargetThread(moduleRef, [1, 1]).join()).toEqual({ ok: true, value: 2 });
    expect(() => startTargetThread({ kind: 'other' } as never, [])).toThrow('Expected `target` to be a function or a fromModule() reference, got object');
    expect(liveResources().filter((r) => !r.idle)).toEqual([]);
  });
});
