// Runs first in every child process that threadkit forks; imports only internal/child.
/**
 * The lean start of a child: it loads only this folder's few small modules before it runs what it
 * was started for, so a child costs a Node boot and little more. The entry (a Process's or a
 * pool worker's) calls {@link startChild} before anything else, then loads what its work needs.
 */
import { CONFIG_FLAG, type ChildConfig } from './config';
import { adoptIdentity } from './identity';
import { watchParent, type DeathWatch } from './death-watch';

/** Takes the config the parent put on the command line (and removes it from `process.argv`). */
function takeConfig(): ChildConfig {
  const at = process.argv.findIndex((arg) => arg.startsWith(CONFIG_FLAG));
  if (at === -1) throw new Error('this file is an entry of threadkit child processes; it is not meant to be run directly');
  const config = JSON.parse(process.argv[at].slice(CONFIG_FLAG.length)) as ChildConfig;
  process.argv.splice(at, 1);
  return config;
}

/**
 * Starts this child: adopts the identity its parent gave it, and arms the death watch when it has a
 * lifeline (it then ends with `process.exit(0)` as soon as the parent's end of the channel closes —
 * the parent died, or a process pool retired it — or is killed at once by the native watcher when the
 * parent died while this process was busy).
 */
export function startChild(): { readonly config: ChildConfig; readonly deathWatch: DeathWatch | null } {
  const config = takeConfig();
  adoptIdentity(config);
  // A send that races the parent's end fails with EPIPE as an 'error' event; 'disconnect' follows.
  process.on('error', () => {});
  const deathWatch = config.lifeline ? watchParent(config.parentPid, () => process.exit(0)) : null;
  return { config, deathWatch };
}
