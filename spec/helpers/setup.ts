/**
 * Runs around every spec file (jest `setupFilesAfterEnv`). After the file's own teardown, it checks
 * the library's census of started threads and processes: idle warm workers are ended, and anything
 * else still running is a leak — it is killed (so jest never hangs on it) and the file fails, naming it.
 */
import { afterAll } from '@jest/globals';
import { liveResources } from '../../lib/internal/tracking';

const GRACE_MS = 5000;

afterAll(async () => {
  const deadline = Date.now() + GRACE_MS;
  for (;;) {
    for (const r of liveResources()) if (r.idle) await r.kill();
    const busy = liveResources().filter((r) => !r.idle);
    if (busy.length === 0) return;
    if (Date.now() > deadline) {
      await Promise.all(busy.map((r) => r.kill()));
      throw new Error(`leaked ${busy.length} thread(s)/process(es) after this file's tests: ${busy.map((r) => `${r.label} (${r.kind})`).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}, GRACE_MS + 5000);
