// Runs inside the child process of a threadkit Process; imports only internal/.
/**
 * The Process entry: the first code of a Process's child. It runs one target, then lets the process
 * end the way a Node program ends — when nothing is left to do — which is also how Python's child
 * ends: after `run()` returns, once its non-daemon threads (here: non-daemon Threads, whose workers
 * keep the event loop alive) and non-daemon children have ended; daemon Threads never hold it.
 *
 * Exit code: 0; 1 when the target threw (or its promise rejected), after printing
 * `Process <name>:` and the error to stderr, as Python prints it; n when the target calls
 * `process.exit(n)`; a signal ends it as the signal does. The value the target returns is dropped.
 *
 * Start cost: this file loads the child startup and, once the run message is here, only the part
 * of the transport that runs a target (not the parent-side encoders).
 */
import { startChild } from '../child/startup';
import type { RunMessage } from '../child/run-message';

const { config } = startChild();

process.once('message', (message: RunMessage) => {
  // From now on the channel is only the lifeline: it no longer keeps this process alive (the
  // target's own work does), and a death watch armed at startup still hears it close.
  (process.channel as { unref?(): void } | undefined)?.unref?.();
  void run(message);
});

async function run(message: RunMessage): Promise<void> {
  const { invoke } = require('../transport/invoke') as typeof import('../transport/invoke');
  const { decodeValue } = require('../transport/values') as typeof import('../transport/values');
  const outcome = await invoke(message.target, message.args, decodeValue(message.thisArg), false);
  if (outcome.ok) return;
  const { decodeError } = require('../transport/errors') as typeof import('../transport/errors');
  const { inspect } = require('node:util') as typeof import('node:util');
  process.exitCode = 1;
  process.stderr.write(`Process ${config.name}:\n${inspect(decodeError(outcome.error))}\n`);
}
