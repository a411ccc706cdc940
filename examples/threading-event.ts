/**
 * Seed 001, section 15 "Event": one thread waits for another to report a state. Two threads try
 * to connect to MySQL, each up to 3 times with a timed wait; a third "checks MySQL" and then sets
 * the event.
 *
 *   npx tsx examples/threading-event.ts [--check-ms N]
 *
 * Time is scaled down: a wait lasts 300 ms (seed: 1 s); the check takes a random 300–1200 ms
 * (seed: 1–4 s), or N ms with --check-ms. A check shorter than three waits connects; a longer one
 * makes both connectors give up.
 */
import { Event, Thread } from 'threadkit/threading';

const WAIT_MS = 300;

function connMysql(event: Event, waitMs: number, colour: boolean): void {
  const { currentThread } = require('threadkit/threading') as typeof import('threadkit/threading');
  const name = currentThread().name;
  let count = 1;
  while (!event.isSet()) {
    if (count > 3) {
      console.log(colour ? `\x1b[31m[${name}] connection failed\x1b[0m` : `[${name}] connection failed`);
      return; // the seed's exit(0) ends only this thread
    }
    console.log(`<${name}> attempt ${count} to connect`);
    event.waitSync(waitMs);
    count++;
  }
  console.log(`<${name}> connected`);
}

function checkMysql(event: Event, checkMs: number, colour: boolean): void {
  const { currentThread, sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  const name = currentThread().name;
  console.log(colour ? `\x1b[45m[${name}] checking mysql\x1b[0m` : `[${name}] checking mysql`);
  sleepSync(checkMs);
  event.set();
}

const flag = process.argv.indexOf('--check-ms');
const checkMs = flag > 0 ? Number(process.argv[flag + 1]) : WAIT_MS * (1 + Math.floor(Math.random() * 4));
const colour = Boolean(process.stdout.isTTY);

const event = new Event();
const conn1 = new Thread({ target: connMysql, args: [event, WAIT_MS, colour] });
const conn2 = new Thread({ target: connMysql, args: [event, WAIT_MS, colour] });
const check = new Thread({ target: checkMysql, args: [event, checkMs, colour] });
conn1.start();
conn2.start();
check.start();
