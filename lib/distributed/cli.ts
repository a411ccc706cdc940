/**
 * The `threadkit` command: `npx threadkit worker [--redis URL] [--queue NAME] [--concurrency N]
 * [--threads] [--lock-duration MS]` serves a DistributedExecutor's queue on this machine (see
 * {@link runWorker}); the secret comes from THREADKIT_SECRET, never from the command line (where
 * `ps` would show it).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_QUEUE, DEFAULT_REDIS, ENV_REDIS, ENV_SECRET } from './protocol';
import { runWorker } from './worker';

export const USAGE = `usage: threadkit worker [--redis URL] [--queue NAME] [--concurrency N] [--threads] [--lock-duration MS]

Serves a DistributedExecutor's queue: runs its tasks on this machine until SIGTERM or Ctrl-C
(running tasks finish first; a second signal ends at once).

  --redis URL           Redis to connect to (default: $${ENV_REDIS}, else ${DEFAULT_REDIS})
  --queue NAME          queue to serve (default: ${DEFAULT_QUEUE})
  --concurrency N       tasks at once (default: the number of CPUs)
  --threads             run tasks in worker threads instead of child processes
  --lock-duration MS    how long a dead worker's tasks wait before another worker re-runs them
                        (default: 30000)

The secret that tasks must be signed with is read from $${ENV_SECRET} (the executors' one).`;

/** Runs the command with `argv` (without node and the script); resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let values: { redis?: string; queue?: string; concurrency?: string; threads?: boolean; 'lock-duration'?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        redis: { type: 'string' },
        queue: { type: 'string' },
        concurrency: { type: 'string' },
        threads: { type: 'boolean' },
        'lock-duration': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1 || positionals[0] !== 'worker') {
      throw new TypeError(positionals.length === 0 ? 'missing command' : `unknown command ${JSON.stringify(positionals.join(' '))}`);
    }
    await runWorker({
      connection: values.redis,
      queue: values.queue,
      concurrency: numberFlag(values.concurrency, '--concurrency'),
      lockDuration: numberFlag(values['lock-duration'], '--lock-duration'),
      kind: values.threads ? 'threads' : 'processes',
    });
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`threadkit: ${message}\n${error instanceof TypeError || error instanceof RangeError ? `\n${USAGE}\n` : ''}`);
    return error instanceof TypeError || error instanceof RangeError ? 2 : 1;
  }
}

function numberFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1) throw new TypeError(`expected ${flag} to be a whole number from 1 up, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * Runs the command and exits with its status. Exiting explicitly ends what a stopped worker may
 * still hold: a task that timed out runs on in a retired thread or process, which ends with it.
 */
export function run(argv: readonly string[]): void {
  void main(argv).then((status) => process.stdout.write('', () => process.exit(status)));
}

if (require.main === module) run(process.argv.slice(2));
