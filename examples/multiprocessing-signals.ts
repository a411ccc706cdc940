/**
 * Seed 003 "信号通信" (signals): `kill -l` lists the signals; `os.kill(pid, sig)` sends one to a
 * process, which handles it its own way (here: SIGINT is reported and ignored, SIGTERM ends it
 * cleanly) or, without a handler, is ended by it (exitcode -N).
 *
 *   npx tsx examples/multiprocessing-signals.ts
 *
 * In Node.js `os.constants.signals` is the list, `process.kill(pid, signal)` sends one, and
 * `process.on('SIGINT', handler)` installs a handler. The child tells the parent it is ready with a
 * signal too (SIGUSR2 to its parent), so that nothing is sent before its handlers are installed.
 */
import { constants } from 'node:os';
import { Process } from 'threadkit/multiprocessing';

/** A child with its own handlers: reports SIGINT (Ctrl-C) and goes on; ends cleanly on SIGTERM. */
function worker(): void {
  const keepAlive = setInterval(() => {}, 60_000);
  process.on('SIGINT', () => console.log('child: got SIGINT (Ctrl-C), going on'));
  process.on('SIGTERM', () => {
    console.log('child: got SIGTERM, cleaning up and exiting');
    clearInterval(keepAlive);
  });
  process.kill(process.ppid, 'SIGUSR2'); // ready
}

/** A child without handlers: any deadly signal ends it. */
function sleeper(): void {
  setInterval(() => {}, 60_000);
  process.kill(process.ppid, 'SIGUSR2'); // ready
}

/** Starts `p` and resolves once it said it is ready. */
function startAndWait(p: Process): Promise<void> {
  const keep = setInterval(() => {}, 60_000); // a signal listener alone does not keep Node alive
  const ready = new Promise<void>((resolve) => process.once('SIGUSR2', () => resolve()));
  p.start();
  return ready.finally(() => clearInterval(keep));
}

async function main(): Promise<void> {
  const byNumber = new Map<number, string>();
  for (const [name, n] of Object.entries(constants.signals)) if (!byNumber.has(n)) byNumber.set(n, name); // one name per number (SIGABRT, not its alias SIGIOT)
  const first = [...byNumber].sort((a, b) => a[0] - b[0]).slice(0, 15);
  console.log(`kill -l: ${first.map(([n, name]) => `${n}) ${name}`).join(' ')} …`);

  const p = new Process({ target: worker });
  await startAndWait(p);
  process.kill(p.pid!, 'SIGINT'); // the seed's os.kill(pid, signal.SIGINT)
  await new Promise((resolve) => setTimeout(resolve, 200));
  console.log(`after SIGINT the child is alive: ${p.isAlive()}`);
  process.kill(p.pid!, 'SIGTERM'); // the same as p.terminate()
  await p.join();
  console.log(`after SIGTERM the child ended by itself: exitcode ${p.exitcode}`);

  const q = new Process({ target: sleeper });
  await startAndWait(q);
  process.kill(q.pid!, 'SIGHUP');
  await q.join();
  console.log(`a child without a handler, sent SIGHUP: exitcode ${q.exitcode} (-${constants.signals.SIGHUP}: ended by signal ${constants.signals.SIGHUP})`);
}

void main();
