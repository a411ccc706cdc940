/**
 * Seed 001 section 10 "队列 JoinableQueue": producers and consumers. Three producer processes make
 * two items each and put them into a JoinableQueue, then `join()` the queue: they end only once the
 * consumers have taken every item and called `taskDone()` for it. Two consumer processes take items
 * for ever; they are daemons, so they end with the main process, which waits for the producers only.
 *
 *   npx tsx examples/multiprocessing-joinable-queue.ts
 *
 * The seed's random sleeps of 1–3 s are 100–300 ms here, and its colours are left out. As in the
 * seed, 'main' is printed last: after the producers, which ended after every item was eaten.
 */
import { JoinableQueue, Process } from 'threadkit/multiprocessing';

function producer(q: JoinableQueue<string>, name: string, food: string): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  for (let i = 0; i < 2; i++) {
    const res = `${food}${i}`;
    sleepSync(100 + Math.floor(Math.random() * 200)); // the seed's time.sleep(random.randint(1, 3))
    console.log(`${name} made ${res}`);
    q.putSync(res); // into the queue
  }
  q.joinSync(); // until the consumers took every item and marked it done
}

function consumer(q: JoinableQueue<string>, name: string): void {
  const { sleepSync } = require('threadkit/threading') as typeof import('threadkit/threading');
  for (;;) {
    const res = q.getSync(); // out of the queue
    sleepSync(100 + Math.floor(Math.random() * 200));
    console.log(`${name} ate ${res}`);
    q.taskDone(); // tells q.join() that one item was taken and handled
  }
}

async function main(): Promise<void> {
  const que = new JoinableQueue<string>();
  // 3 producers
  const p1 = new Process({ target: producer, args: [que, 'producer 1', 'bun'] });
  const p2 = new Process({ target: producer, args: [que, 'producer 2', 'dumpling'] });
  const p3 = new Process({ target: producer, args: [que, 'producer 3', 'mooncake'] });
  // 2 consumers
  const c1 = new Process({ target: consumer, args: [que, 'consumer 1'] });
  const c2 = new Process({ target: consumer, args: [que, 'consumer 2'] });
  c1.daemon = true; // consumers are daemons: they end with the main process
  c2.daemon = true;
  const producers = [p1, p2, p3];
  for (const p of producers) p.start(); // start producing
  for (const c of [c1, c2]) c.start(); // start consuming
  // The main process waits for the producers, which end once the consumers took everything.
  for (const p of producers) await p.join();
  console.log('main');
}

void main();
