/**
 * Seed 001, section 5 "创建子进程" (creating a child), way two — with a thread instead of a process:
 * subclass Thread and override `run()`.
 *
 *   npx tsx examples/threading-thread-subclass.ts
 *
 * `run()` is sent to the new thread by its source text, with the instance's own fields as `this`:
 * it may read `this.greeting` (a plain field) but not call other methods of the class, and it
 * reaches the library through `require`. The seed sleeps 3 s; this one sleeps 300 ms.
 */
import { Thread } from 'threadkit/threading';

class MyThread extends Thread {
  /** An own field: it travels with run() to the new thread. */
  readonly greeting: string;

  constructor(name: string) {
    super({ name }); // the seed's super().__init__(); self.name = name
    this.greeting = 'is running';
  }

  /** Runs in the new thread when start() is called (the seed's run()). */
  override run(): void {
    const { currentThread, sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
    const name = currentThread().name;
    console.log(`${name} ${this.greeting}`);
    sleepSync(300);
    console.log(`${name} is done`);
  }
}

const p1 = new MyThread('thread 1');
const p2 = new MyThread('thread 2');
p1.start(); // starts the thread, which calls p1.run() there
p2.start();
console.log('main');
