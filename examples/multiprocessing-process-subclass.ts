/**
 * Seed 001 section 5 way two, seed 002 "第二种开启子进程的方式", seed 003 "创建自定义进程类" and
 * seed 004 way two: subclass Process and override run().
 *
 *   npx tsx examples/multiprocessing-process-subclass.ts
 *
 * `run()` is sent to the child by its source text, with the instance's own fields as `this`: it may
 * read `this.greeting` (a plain field) but not call other methods of the class, and it reaches the
 * library through `require`. Setting `this.name` in the constructor names the process, as in the
 * seeds (`self.name = name`). The seed sleeps 3 s; this one sleeps 300 ms.
 */
import { Process } from 'threadkit/multiprocessing';

class MyProcess extends Process {
  /** An own field: it travels with run() to the child. */
  readonly greeting: string;

  constructor(name: string) {
    super(); // the seed's super().__init__()
    this.name = name; // the seed's self.name = name
    this.greeting = 'is running';
  }

  /** Runs in the child when start() is called (the seed's run()). */
  override run(): void {
    const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
    const { currentProcess } = require('threadkit/multiprocessing') as typeof import('threadkit/multiprocessing');
    const name = currentProcess().name;
    console.log(`${name} ${this.greeting}`);
    sleepSync(300);
    console.log(`${name} is done`);
  }
}

const p1 = new MyProcess('child 1');
const p2 = new MyProcess('child 2');
p1.start(); // starts the child process, which calls p1.run() there
p2.start();
console.log('main');
