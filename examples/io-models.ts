/**
 * Seed 001, section 13 "IO模型" (IO models): the five ways a process can wait for data, from the
 * most blocking to the least — blocking, non-blocking, multiplexing, signal-driven, asynchronous —
 * each shown as it is written in Node.js, with a slow producer (a child process, standing in for the
 * kernel's "data not ready yet") writing into a named pipe (FIFO) or an ordinary pipe.
 *
 * 1. blocking: `fs.readFileSync` of a FIFO sleeps in read(2) until the data is there; meanwhile the
 *    whole thread is stopped, its event loop included: no timer callback runs.
 * 2. non-blocking: the FIFO opened with O_NONBLOCK; `fs.readSync` fails at once with EAGAIN while
 *    nothing is ready, so the program asks again later and does other work in between.
 * 3. multiplexing: one wait over many descriptors (select/poll/epoll). Node's event loop *is* this
 *    model (libuv on epoll, kqueue or IOCP): three pipes, one thread, one wait; each is handled when
 *    it becomes readable, in that order, not in the order they were asked for.
 * 4. signal-driven: the process is told by a signal that data is ready and reads it in the handler.
 *    Node does not expose O_ASYNC/SIGIO, so the producer itself sends SIGUSR2; Node delivers signals
 *    as events on the loop, so the handler runs between other callbacks.
 * 5. asynchronous: one call that returns at once; both the wait and the copy happen elsewhere (libuv's
 *    thread pool here) and a promise gives the finished result. This is `fs.promises`, `fetch`, net.
 *
 * Where a thread is still needed: a blocking call that has no asynchronous form (a synchronous
 * library or native call, `Atomics.wait`, a long computation) — run it on a ThreadPoolExecutor and
 * await its future: the event loop goes on meanwhile. (A process — ProcessPoolExecutor or Pool — is
 * for code that may crash, exit, or must have a heap of its own.)
 *
 *   npx tsx examples/io-models.ts
 *
 * Linux or macOS (named pipes come from `mkfifo`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { ThreadPoolExecutor } from 'threadkit/futures';
import { sleep } from 'threadkit/threading';

const DELAY_MS = 150;

/** Counts timer callbacks run by this thread's event loop (every 10 ms while it is free). */
function ticker(): { count: () => number; stop: () => void } {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  return { count: () => ticks, stop: () => clearInterval(timer) };
}

/** Runs a small Node program as the producer, with the given extra pipes; resolves when it exits. */
function producer(source: string, args: string[], extraPipes = 0): { child: ChildProcess; exited: Promise<void> } {
  const stdio: Array<'ignore' | 'inherit' | 'pipe'> = ['ignore', 'inherit', 'inherit', ...Array.from({ length: extraPipes }, () => 'pipe' as const)];
  const child = spawn(process.execPath, ['-e', source, '--', ...args], { stdio });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`producer exited with ${code}`))));
  });
  return { child, exited };
}

/** A producer that writes `text` into the FIFO after DELAY_MS (its open waits for a reader). */
const writeLater = (fifo: string, text: string, ms = DELAY_MS) =>
  producer('const [f, t, ms] = process.argv.slice(1); setTimeout(() => require("fs").writeFileSync(f, t), Number(ms));', [fifo, text, String(ms)]);

async function blocking(fifo: string): Promise<void> {
  const writer = writeLater(fifo, 'data 1');
  const ticks = ticker();
  const data = fs.readFileSync(fifo, 'utf8'); // open(2) and read(2) block until the producer wrote and closed
  const meanwhile = ticks.count();
  ticks.stop();
  await writer.exited;
  console.log(`1. blocking IO: readFileSync(fifo) returned "${data}" once the producer wrote it; timer callbacks that ran meanwhile: ${meanwhile}`);
}

async function nonBlocking(fifo: string): Promise<void> {
  // O_RDWR keeps a writer on the FIFO (this process), so an empty FIFO reads as "not ready" (EAGAIN)
  // rather than as the end of the data.
  const fd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  const writer = writeLater(fifo, 'data 2');
  const buffer = Buffer.alloc(64);
  let polls = 0;
  let notReady = 0;
  let data = '';
  try {
    while (data === '') {
      polls++;
      try {
        data = buffer.toString('utf8', 0, fs.readSync(fd, buffer));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        notReady++;
        await sleep(20); // free to do other work before asking again
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  await writer.exited;
  console.log(`2. non-blocking IO: read "${data}" at poll ${polls}; the ${notReady} polls before it found nothing ready (EAGAIN), and the program ran between them`);
}

async function multiplexing(): Promise<void> {
  // One producer with three pipes (its fds 3, 4, 5 = A, B, C), written in the order B, C, A.
  const source = 'const fs = require("fs"); const order = [[4, "B"], [5, "C"], [3, "A"]];' +
    'order.forEach(([fd, name], i) => setTimeout(() => { fs.writeSync(fd, name); fs.closeSync(fd); }, 60 * (i + 1)));';
  const { child, exited } = producer(source, [], 3);
  const arrived: string[] = [];
  const pipes = [3, 4, 5].map((fd) => child.stdio[fd] as Readable);
  // Three reads outstanding at once: the event loop waits for all of them in one epoll/kqueue call.
  await Promise.all(pipes.map((pipe) => new Promise<void>((resolve, reject) => {
    pipe.setEncoding('utf8');
    pipe.on('data', (name: string) => arrived.push(name));
    pipe.on('end', resolve);
    pipe.on('error', reject);
  })));
  await exited;
  console.log(`3. IO multiplexing: one event loop waited on ${pipes.length} pipes at once; they became readable in the order ${arrived.join(', ')}`);
}

async function signalDriven(file: string): Promise<void> {
  const ticks = ticker();
  const handled = new Promise<string>((resolve) => {
    process.once('SIGUSR2', () => resolve(fs.readFileSync(file, 'utf8'))); // the copy, in the handler
  });
  const { exited } = producer(
    'const [f, ms] = process.argv.slice(1); setTimeout(() => { require("fs").writeFileSync(f, "data 4"); process.kill(process.ppid, "SIGUSR2"); }, Number(ms));',
    [file, String(DELAY_MS)],
  );
  const data = await handled;
  const meanwhile = ticks.count();
  ticks.stop();
  await exited;
  console.log(`4. signal-driven IO: SIGUSR2 said the data was ready and the handler read "${data}"; the program went on meanwhile (${meanwhile} timer callbacks)`);
}

async function asynchronous(fifo: string): Promise<void> {
  const writer = writeLater(fifo, 'data 5');
  const ticks = ticker();
  const data = await fs.promises.readFile(fifo, 'utf8'); // waits and copies on libuv's thread pool
  const meanwhile = ticks.count();
  ticks.stop();
  await writer.exited;
  console.log(`5. asynchronous IO: fs.promises.readFile gave "${data}"; the waiting and the copying happened off the event loop, which ran ${meanwhile} timer callbacks meanwhile`);
}

/**
 * A blocking read on a worker thread: the event loop stays free, and to prove it, the loop itself
 * is the producer — it writes the data after three of its own timer ticks.
 */
async function onAThread(fifo: string): Promise<void> {
  const executor = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    const read = executor.submit((file: string) => (require('node:fs') as typeof fs).readFileSync(file, 'utf8'), fifo);
    let ticks = 0;
    while (ticks < 3) {
      await sleep(10);
      ticks++;
    }
    await fs.promises.writeFile(fifo, 'data 6'); // opening for writing waits for the thread's reader
    console.log('A blocking call with no asynchronous form belongs on a thread:');
    console.log(`   a worker thread blocked in readFileSync(fifo) returned "${await read}"; the event loop ticked ${ticks} times meanwhile and then wrote it itself`);
  } finally {
    await executor.shutdown();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'io-models-'));
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  try {
    console.log('Five IO models (seed 001 §13), as they look in Node.js:');
    await blocking(fifo);
    await nonBlocking(fifo);
    await multiplexing();
    await signalDriven(path.join(dir, 'signalled'));
    await asynchronous(fifo);
    await onAThread(fifo);
    console.log('From 1 to 5 the program blocks less and less. Node code is written in model 5 and runs on model 3;');
    console.log('threads are for the calls that can only block.');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
