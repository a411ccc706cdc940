/**
 * What Linux's /proc says about a process, read synchronously: whether a child has exited while
 * this thread's event loop was busy (it is a zombie until libuv reaps it), with its wait status,
 * and who this process's parent is now (`process.ppid` is read once, at startup).
 *
 * A zombie's wait status is field 52 of /proc/<pid>/stat (`exit_code`, Linux ≥ 3.5), in the form
 * waitpid() reports it. Reading a child's entry is safe from pid reuse for as long as the child has
 * not been reaped: only its parent can reap it, and libuv does that on this thread's event loop,
 * which also runs the `'exit'` listener — so a caller that has not seen `'exit'` yet reads its own
 * child's entry.
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** How a process ended, as Node reports it: an exit code, or the signal that ended it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** True where /proc can answer (Linux). */
export const HAVE_PROC = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, …]; undefined when there is no such process. */
function statFields(pid: number | 'self'): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
  return text.slice(text.lastIndexOf(')') + 2).trimEnd().split(' ');
}

/**
 * The exit status of child `pid` when it has exited and is waiting to be reaped (a zombie), else
 * undefined (still running, or no /proc). Only meaningful for a child of this process that this
 * thread has not seen exit yet (see above).
 */
export function zombieStatus(pid: number): ExitStatus | undefined {
  const fields = statFields(pid);
  // fields[0] is field 3 (state); field 52 (exit_code) is fields[49].
  if (fields === undefined || fields[0] !== 'Z' || fields.length < 50) return undefined;
  const status = Number(fields[49]);
  const termSignal = status & 0x7f;
  if (termSignal === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: SIGNAL_NAMES.get(termSignal) ?? (`SIG${termSignal}` as NodeJS.Signals) };
}

/** This process's parent now (it changes when the parent dies and the process is adopted), or undefined without /proc. */
export function currentParentPid(): number | undefined {
  const fields = statFields('self');
  return fields === undefined ? undefined : Number(fields[1]);
}

/** Python's exit code of a process: the code, or -N when signal N ended it. */
export function exitCodeOf(status: ExitStatus): number {
  if (status.signal !== null) return -((constants.signals as Record<string, number>)[status.signal] ?? Number(status.signal.slice(3)));
  return status.code ?? 0;
}
