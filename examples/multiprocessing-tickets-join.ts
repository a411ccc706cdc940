/**
 * Seed 002 "抢票小程序" (grabbing tickets): 15 processes each look up how many tickets are left in a
 * JSON "database" file, then try to buy one. The seed runs them one after the other — start()
 * then join() — so that no two read the same count and both sell the last ticket: "to keep the
 * data safe, efficiency is sacrificed" (为了保证数据的安全,要牺牲掉效率).
 *
 *   npx tsx examples/multiprocessing-tickets-join.ts
 *
 * The seed waits 1 s and 1.5 s to simulate network I/O; this one 50 ms. The db file lives in a
 * temporary directory and starts with 1 ticket, as in the seed; its path is the task's argument.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Process } from 'threadkit/multiprocessing';

/** search() then get(), as in the seed. */
function task(db: string): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  // search(): look up the count (after simulated network I/O)
  sleepSync(50);
  console.log(`${JSON.parse(fs.readFileSync(db, 'utf8')).count} left`);
  // get(): read, "network I/O", then buy if one is left
  const res = JSON.parse(fs.readFileSync(db, 'utf8')) as { count: number };
  sleepSync(50);
  if (res.count > 0) {
    res.count -= 1;
    fs.writeFileSync(db, JSON.stringify(res));
    console.log(`process ${process.pid} got a ticket`);
  } else {
    console.log('sold out!');
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickets-'));
  const db = path.join(dir, 'db.txt');
  fs.writeFileSync(db, JSON.stringify({ count: 1 }));
  try {
    for (let i = 0; i < 15; i++) {
      const p = new Process({ target: task, args: [db] });
      p.start();
      await p.join(); // one at a time: serial, safe, slow
    }
    console.log(`tickets left in the db: ${JSON.parse(fs.readFileSync(db, 'utf8')).count}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
