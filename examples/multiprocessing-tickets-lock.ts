/**
 * Seed 002 section 6 "抢票小程序" (grabbing tickets), run the way a real sale runs: 15 processes at
 * once. Each looks up how many tickets are left in a JSON "database" file (search), then reads the
 * count, waits for the "network", and writes the count less one if a ticket was left (get).
 *
 *   npx tsx examples/multiprocessing-tickets-lock.ts               # get() under a multiprocessing Lock
 *   npx tsx examples/multiprocessing-tickets-lock.ts --no-lock     # the race: one ticket, many buyers
 *   npx tsx examples/multiprocessing-tickets-lock.ts --tickets 3   # more tickets in the db (default 1)
 *
 * Without the Lock, every process reads "1 left" before any of them writes, so each of them sells
 * the same ticket: the db ends at 0, but the ticket was sold many times (the seed avoids this by
 * running the processes one after the other: multiprocessing-tickets-join.ts). With the Lock around
 * get(), one process at a time reads and writes the file: each ticket is sold exactly once, and the
 * others are told it is sold out — only get() waits its turn, search() still runs in parallel.
 *
 * All 15 wait at a multiprocessing Barrier first — the sale opens at one moment for everybody — so
 * that the race is not hidden by the processes' staggered start. Each sale also counts itself in a
 * shared Value, so that the main process can tell how many were made. The seed's network waits are
 * 1 s and 1.5 s; here 50 ms (search) and 200 ms (get). The db lives in a temporary directory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Barrier, Lock, Process, Value } from 'threadkit/multiprocessing';

const BUYERS = 15;

/** search() then get(), as in the seed; get() under `lock` when there is one. */
function task(db: string, lock: Lock | null, saleOpens: Barrier, sold: Value<number>): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  const search = (): void => {
    sleepSync(50); // network I/O
    console.log(`${JSON.parse(fs.readFileSync(db, 'utf8')).count} left`);
  };
  const get = (): void => {
    const res = JSON.parse(fs.readFileSync(db, 'utf8')) as { count: number };
    sleepSync(200); // network I/O, between reading the count and writing it back: the race window
    if (res.count > 0) {
      const ticket = res.count;
      res.count -= 1;
      fs.writeFileSync(db, JSON.stringify(res));
      sold.getLock().withLockSync(() => (sold.value += 1));
      console.log(`process ${process.pid} got ticket #${ticket}`);
    } else {
      console.log('sold out!');
    }
  };
  saleOpens.waitSync();
  search();
  if (lock === null) get();
  else lock.withLockSync(get); // the seed's lock.acquire() … lock.release()
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

async function main(): Promise<void> {
  const useLock = !process.argv.includes('--no-lock');
  const tickets = Number(option('--tickets') ?? 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickets-'));
  const db = path.join(dir, 'db.txt');
  fs.writeFileSync(db, JSON.stringify({ count: tickets }));
  try {
    const lock = useLock ? new Lock() : null;
    const saleOpens = new Barrier(BUYERS);
    const sold = new Value('i', 0);
    const buyers = Array.from({ length: BUYERS }, () => new Process({ target: task, args: [db, lock, saleOpens, sold] }));
    for (const p of buyers) p.start();
    for (const p of buyers) await p.join();
    const left = JSON.parse(fs.readFileSync(db, 'utf8')).count as number;
    console.log(`${useLock ? 'with' : 'without'} the Lock: ${sold.value} sold, ${tickets} in the db at first, ${left} left in the db now`);
    console.log(sold.value === tickets - left ? 'each ticket was sold exactly once' : `oversold: ${sold.value - (tickets - left)} more sales than tickets`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
