/**
 * The one message a Process sends to its child (`internal/worker/process-target-entry`): what to
 * run. Everything else the child knows came on its command line (config.ts).
 */
import type { RunPayload } from '../transport/run-payload';

export interface RunMessage extends RunPayload {
  readonly type: 'run';
}
