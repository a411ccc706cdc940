/**
 * Seed 003 "共享内存" (shared memory), Value: `Value(typecode, initial)` opens a piece of memory that
 * several processes see; `.value` reads it and writing `.value` overwrites it for everybody.
 *
 *   npx tsx examples/multiprocessing-value.ts
 *
 * Part 1 is the classic example of that lesson: one account, a process that deposits and a process
 * that spends, at the same time. `money.value += 100` is a read and then a write — two processes
 * doing it at once can lose one of the updates — so each update holds the Value's own lock
 * (`getLock()`), as the seed's table warns ("需要注意进行互斥操作": mind the mutual exclusion). The
 * amounts are fixed (the classic one draws random amounts) so that the balance can be checked.
 * Part 2: a float ('d') that a child overwrites. The seed's 'c' (a char) has no Value typecode
 * here: bytes live in an Array('B') (multiprocessing-array.ts).
 */
import { Process, Value } from 'threadkit/multiprocessing';

/** Deposits `amount` `times` times (the classic's man(money)). */
function deposit(money: Value<number>, times: number, amount: number): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  for (let i = 0; i < times; i++) {
    sleepSync(5);
    money.getLock().withLockSync(() => (money.value += amount));
  }
}

/** Spends `amount` `times` times (the classic's girl(money)). */
function spend(money: Value<number>, times: number, amount: number): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  for (let i = 0; i < times; i++) {
    sleepSync(4);
    money.getLock().withLockSync(() => (money.value -= amount));
  }
}

async function main(): Promise<void> {
  // 1. One int shared by three processes.
  const money = new Value('i', 2000); // the seed's Value('i', 2000)
  const depositor = new Process({ target: deposit, args: [money, 20, 100] });
  const spender = new Process({ target: spend, args: [money, 20, 50] });
  depositor.start();
  spender.start();
  await depositor.join();
  await spender.join();
  console.log(`balance at the end of the month: ${money.value}`); // 2000 + 20 × 100 − 20 × 50

  // 2. A float: a write overwrites what was there, for every process.
  const temperature = new Value('d', 36.6);
  const child = new Process({ target: (t: Value<number>) => { t.value = 38.25; }, args: [temperature] });
  child.start();
  await child.join();
  console.log(`the child overwrote 36.6 with ${temperature.value}`);
}

void main();
