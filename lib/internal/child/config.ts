/**
 * What a child process that threadkit forks knows from its first instruction, before any message
 * arrives: who its parent is, its own name and identity, whether it ends with its parent, and how
 * its IPC channel serializes. The parent (spawn.ts) puts it on the child's command line; the child
 * (startup.ts) takes it off again, so that the child's `process.argv` is its own. Imports only a
 * type: both sides load it.
 */

import type { ChannelKind } from './channel';

/** The command-line flag that carries a {@link ChildConfig} as JSON. */
export const CONFIG_FLAG = '--threadkit-child=';

/**
 * The child's end of the IPC channel: the fourth entry of the stdio array that spawn.ts passes to
 * `fork` (`['ignore', 'inherit', 'inherit', 'ipc']`). The channel doubles as the child's lifeline:
 * the parent's end closes when the parent process ends, however it ends.
 */
export const IPC_FD = 3;

/** What a process started by threadkit knows about itself at startup. */
export interface ChildConfig {
  /** The pid of the process that forked it. */
  readonly parentPid: number;
  /** `currentProcess().name` of the parent ('MainProcess' for the root). */
  readonly parentName: string;
  /** Its `currentProcess().name` ('Process-1', 'Process-1:2', 'PoolWorker-3', …). */
  readonly name: string;
  /** Its `currentProcess().daemon`, and the default daemon flag of the Processes it starts. */
  readonly daemon: boolean;
  /** Python's `_identity`: the parent's identity plus this child's number among the parent's children. */
  readonly identity: readonly number[];
  /**
   * True when it must end as soon as its parent ends, however the parent ends (a daemon Process,
   * any child of such a process, a pool's worker); false when it outlives its parent as an orphan.
   */
  readonly lifeline: boolean;
  /** How its IPC channel serializes messages (channel.ts). */
  readonly channel: ChannelKind;
}
