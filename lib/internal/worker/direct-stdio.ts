// Runs inside a worker thread; imports only node built-ins and the sleep of internal/shm/block.
/**
 * Makes a worker's `process.stdout` / `process.stderr` (and so its `console`) write straight to the
 * process's file descriptors 1 and 2, synchronously, as a Python thread's `print` does.
 *
 * Why: by default Node forwards a worker's output as messages to the thread that created it, which
 * writes it out from its event loop. That loses output and reorders it: (1) a process that exits with
 * forwarded chunks still queued drops them — a thread's last lines vanish when the main script ends
 * right after `join()`, or never joins and the worker, back in the idle pool, is unref'd; (2) nothing
 * appears while the creating thread is blocked (`joinSync`, `acquireSync`); (3) a thread's lines can
 * come after what the main thread printed once `join()` returned. Written directly, every line is out
 * before the write returns, so before the target's end is reported.
 *
 * Each `write` is one `writeSync` (atomic for pipes up to PIPE_BUF, so lines of different threads do not
 * mix). The descriptors may be non-blocking (libuv sets pipes so): EAGAIN is retried after a short
 * wait. A write error such as EPIPE (the reader went away) is dropped, as Node's stdout does not throw.
 */
import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { sleepBlocking } from '../shm/block';

const STDOUT_FD = 1;
const STDERR_FD = 2;
/** Wait between retries of a write to a full non-blocking pipe, in ms. */
const RETRY_MS = 1;

function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset, data.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      sleepBlocking(RETRY_MS);
    }
  }
}

function redirect(stream: Writable, fd: number): void {
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    const data = typeof chunk === 'string'
      ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
      : chunk instanceof Uint8Array ? chunk : Buffer.from(String(chunk));
    writeAll(fd, data);
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  };
  stream.write = write as Writable['write'];
}

let installed = false;

/** Sends this worker's stdout and stderr straight to the process's (once per worker). */
export function installDirectStdio(): void {
  if (installed) return;
  installed = true;
  redirect(process.stdout, STDOUT_FD);
  redirect(process.stderr, STDERR_FD);
}
