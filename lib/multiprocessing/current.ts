/**
 * Which process is this, which is its parent, and which of its children are alive: Python's
 * `multiprocessing.current_process`, `parent_process` and `active_children`.
 */
import { processIdentity } from '../internal/child/identity';
import { currentParentPid, HAVE_PROC } from '../internal/child/proc-status';

/** What {@link currentProcess} says about a process. */
export interface ProcessInfo {
  readonly name: string;
  readonly pid: number;
  readonly daemon: boolean;
}

/** What {@link parentProcess} says about the parent. */
export interface ParentProcessInfo {
  readonly name: string;
  readonly pid: number;
  /** True while the parent runs: this process has not been adopted by another (Linux: /proc). */
  isAlive(): boolean;
}

/**
 * The process running the calling code: `{ name: 'MainProcess', pid, daemon: false }` in a process
 * that threadkit did not start; in a Process's child (any of its threads), that Process's name and
 * daemon flag.
 * @example
 * new Process({ target: () => console.log(require('threadkit/multiprocessing').currentProcess().name) }).start();
 */
export function currentProcess(): ProcessInfo {
  const self = processIdentity();
  return Object.freeze({ name: self.name, pid: process.pid, daemon: self.daemon });
}

/**
 * The process that started this one, or null in a process that threadkit did not start. `isAlive()`
 * turns false once the parent has ended (this process was adopted by init or a subreaper).
 * @example
 * const parent = parentProcess(); // in a child: { name: 'MainProcess', pid: 1234, isAlive() }
 */
export function parentProcess(): ParentProcessInfo | null {
  const parent = processIdentity().parent;
  if (parent === null) return null;
  const { pid, name } = parent;
  return Object.freeze({
    name,
    pid,
    isAlive(): boolean {
      if (HAVE_PROC) return currentParentPid() === pid;
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    },
  });
}

/** What the registry of started children needs of a Process. */
export interface ChildLike {
  isAlive(): boolean;
}

/** Processes started from this thread that were not seen to end yet. */
const started = new Set<ChildLike>();

/** Registers a Process that was just started (process.ts). */
export function trackChild(child: ChildLike): void {
  started.add(child);
}

/** Forgets a Process that ended or was closed (process.ts). */
export function untrackChild(child: ChildLike): void {
  started.delete(child);
}

/**
 * The alive children that this thread started, in start order; finished ones are dropped from the
 * list (their processes are reaped as soon as the event loop turns, joined or not).
 * @example
 * for (const p of activeChildren()) p.terminate();
 */
export function activeChildren<P extends ChildLike = ChildLike>(): P[] {
  const alive: P[] = [];
  for (const child of started) {
    if (child.isAlive()) alive.push(child as P);
    else started.delete(child);
  }
  return alive;
}
