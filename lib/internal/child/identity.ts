/**
 * Which process is this, in threadkit's terms: what `currentProcess()` and `parentProcess()` report,
 * on any thread of the process.
 *
 * The root process is 'MainProcess' with no parent. A process that threadkit forked adopts the
 * {@link ChildConfig} its parent gave it (startup.ts), and records it in `process.env` under
 * {@link ENV_KEY}, tagged with its own pid, so that its worker threads — which start with a copy of
 * the environment and fresh module state — find the same identity. A process started any other way
 * inherits that variable too, but its pid differs from the tag, so it ignores it and is a root.
 * Imports nothing but config.ts: child-side and public code share it.
 */
import type { ChildConfig } from './config';

/** Environment variable that carries this process's identity to its worker threads. */
export const ENV_KEY = 'THREADKIT_PROCESS';

/** What a process knows of itself. */
export interface ProcessIdentity {
  readonly name: string;
  readonly daemon: boolean;
  /** Python's `_identity`: empty for the root; a child's is its parent's plus its own number. */
  readonly identity: readonly number[];
  /** True when this process ends as soon as its parent ends (see {@link ChildConfig.lifeline}). */
  readonly lifeline: boolean;
  /** The process that started it, or null for the root. */
  readonly parent: { readonly pid: number; readonly name: string } | null;
}

const ROOT: ProcessIdentity = Object.freeze({ name: 'MainProcess', daemon: false, identity: Object.freeze([]), lifeline: false, parent: null });

let self: ProcessIdentity | undefined;

/** This process's identity (the root's when threadkit did not start it). */
export function processIdentity(): ProcessIdentity {
  if (self === undefined) {
    self = ROOT;
    const recorded = process.env[ENV_KEY];
    if (recorded !== undefined) {
      try {
        const parsed = JSON.parse(recorded) as ProcessIdentity & { pid: number };
        if (parsed.pid === process.pid) self = Object.freeze({ name: parsed.name, daemon: parsed.daemon, identity: Object.freeze([...parsed.identity]), lifeline: parsed.lifeline, parent: parsed.parent });
      } catch {
        // not ours: a root
      }
    }
  }
  return self;
}

/** Adopts the identity the parent gave this process (child startup; before any user code runs). */
export function adoptIdentity(config: ChildConfig): void {
  self = Object.freeze({
    name: config.name,
    daemon: config.daemon,
    identity: Object.freeze([...config.identity]),
    lifeline: config.lifeline,
    parent: Object.freeze({ pid: config.parentPid, name: config.parentName }),
  });
  process.env[ENV_KEY] = JSON.stringify({ ...self, pid: process.pid });
}
