/**
 * Handing the arena to child processes. A child the library starts gets segment 0's fd as an extra
 * entry of its stdio array (so it needs no /proc access), and THREADKIT_ARENA in its environment
 * saying which fd that is, which arena it must be, and which process holds it (the fallback: a
 * process started from that child by other means inherits the variable but not the fd, and opens
 * `/proc/<pid>/fd/<n>` instead). The child adopts it the first time it needs an arena (arena.ts).
 */

/** The environment variable: `<arena id>:<fd in the child>:<holder pid>:<fd in the holder>`. */
export const ARENA_ENV = 'THREADKIT_ARENA';

/** A segment-0 opener (arena.ts): tries each [pid, fd] holder, checks the arena id. */
type Open = (holders: readonly (readonly [number, number])[], id: string) => { segment: { sab: SharedArrayBuffer; i32: Int32Array }; fd: number } | undefined;

/** The arena this process was given by its parent, opened; undefined when none (or unreachable). */
export function inheritedArena(open: Open): { segment: { sab: SharedArrayBuffer; i32: Int32Array }; fd: number } | undefined {
  const value = process.env[ARENA_ENV];
  const m = value === undefined ? null : /^([0-9a-f]+\.[0-9a-f]+):(\d+):(\d+):(\d+)$/.exec(value);
  if (m === null) return undefined;
  return open([[process.pid, Number(m[2])], [Number(m[3]), Number(m[4])]], m[1]);
}

/** What a child of this process needs to inherit `arena`: stdio entries to append, and its environment. */
export function childArena(arena: { id: string; fd: number } | undefined, stdioLength: number): { stdio: number[]; env: NodeJS.ProcessEnv } {
  if (arena === undefined) return { stdio: [], env: process.env };
  return { stdio: [arena.fd], env: { ...process.env, [ARENA_ENV]: `${arena.id}:${stdioLength}:${process.pid}:${arena.fd}` } };
}
