/**
 * How threadkit starts a child process: the one place that holds the `fork` options, so that a
 * Process and a pool's worker are started alike (and a new kind of inherited resource, such as a
 * shared-memory fd in the stdio array, is added once).
 *
 * - The entry is a file of `internal/worker/`: its compiled `.js` when the package is built (no
 *   TypeScript loader in the child), else the `.ts` source through tsx (see `workerEntry`).
 * - `execArgv` is never inherited from this process: a loader such as tsx's `--import` breaks the child.
 * - stdin is /dev/null (as Python's children: `_close_stdin`); stdout and stderr are this process's
 *   own file descriptors, so the child's output goes straight where ours goes, in order, with
 *   nothing relayed through this event loop.
 * - fd 3 is the IPC channel ({@link IPC_FD}), with the serialization the config names
 *   (`'advanced'` or `'json'`: see channel.ts).
 * - The environment is inherited (`process.env` at the time of the call).
 * - This process's shared-memory arena (threadkit/multiprocessing objects) goes to the child as one
 *   more stdio entry after the channel, named in its environment (internal/arena/inherit.ts), so the
 *   child maps it without /proc access. The native addon's file is named there too (when this
 *   process knows it, or the child has a lifeline), so the child loads it without searching.
 * - The child's {@link ChildConfig} travels as its last argument (startup.ts removes it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { workerEntry } from '../transport/worker-entry';
import { arenaForChild } from '../arena/arena';
import { addonEnv } from '../arena/native';
import { CONFIG_FLAG, IPC_FD, type ChildConfig } from './config';

/** The stdio array of every child; index {@link IPC_FD} is the channel. */
const STDIO: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
if (STDIO[IPC_FD] !== 'ipc') throw new Error('internal: the IPC channel must be at index IPC_FD of the stdio array');

/**
 * Forks `lib/internal/worker/<entry>` with `config` and extra Node flags.
 * @throws what `fork` throws synchronously (a bad flag, EAGAIN); a failed spawn may also come as an 'error' event
 */
export function spawnChild(entry: string, config: ChildConfig, extraExecArgv: readonly string[] = []): ChildProcess {
  const { filename, execArgv } = workerEntry(entry);
  const arena = arenaForChild(STDIO.length);
  // A child with a lifeline loads the addon at startup (its death watch): name the file for it.
  const addon = addonEnv(config.lifeline);
  return fork(filename, [CONFIG_FLAG + JSON.stringify(config)], {
    serialization: config.channel,
    execArgv: [...execArgv, ...extraExecArgv],
    // This realm's `process.env` (the same object outside test sandboxes such as jest's), plus the
    // arena's variable and the addon's file.
    env: Object.keys(addon).length === 0 ? arena.env : { ...arena.env, ...addon },
    stdio: [...STDIO, ...arena.stdio],
  });
}
