/**
 * Seed 001 section 9 "队列 Queue" and seed 003 "消息队列" (message queues): a Queue shared by
 * processes, first in, first out, with put/get (blocking, with a timeout, or not at all),
 * full/empty/qsize and close.
 *
 *   npx tsx examples/multiprocessing-queue.ts
 *
 * Part one is seed 001's Queue(3): three items fill it (`full()` is true; a fourth put would block),
 * three gets empty it (`empty()` is true; a fourth get would block). Part two is seed 003's API
 * between processes: a child puts messages into a Queue(2) — its put waits while the queue is full —
 * and the main process takes them with a timeout, until a get times out. Python's
 * `put(item, block=False)` is `putNowait(item)` (or a timeout of 0); `get(timeout=1.5)` is
 * `get(1500)`: timeouts are milliseconds.
 */
import { Process, Queue } from 'threadkit/multiprocessing';
import { QueueEmptyError } from 'threadkit/errors';

async function main(): Promise<void> {
  // --- seed 001 §9: Queue(3)
  const que = new Queue<unknown>(3);
  await que.put(1);
  await que.put({ a: 'hello' });
  await que.put([1, 2, 3]);
  console.log(`full: ${que.full()}`); // True: a 4th put would block
  try {
    que.putNowait(4); // the seed's commented-out que.put(4), without blocking
  } catch (error) {
    console.log(`putNowait(4): ${(error as Error).name}`);
  }
  console.log(await que.get());
  console.log(await que.get());
  console.log(await que.get());
  console.log(`empty: ${que.empty()}`); // True: a 4th get would block
  try {
    que.getNowait();
  } catch (error) {
    console.log(`getNowait(): ${(error as Error).name}`);
  }

  // --- seed 003: a message queue between processes
  const q = new Queue<string>(2); // the seed's Queue(maxsize)
  const child = new Process({
    target: (q: Queue<string>) => {
      for (let i = 1; i <= 5; i++) {
        q.putSync(`message ${i}`); // waits while the queue holds 2 messages
        console.log(`child put message ${i}`);
      }
    },
    args: [q],
  });
  child.start();
  for (;;) {
    try {
      const msg = await q.get(1500); // the seed's q.get(timeout=…)
      console.log(`main got ${msg}`);
    } catch (error) {
      if (!(error instanceof QueueEmptyError)) throw error;
      console.log(`main: no message for 1.5 s; qsize ${q.qsize()}, empty ${q.empty()}`);
      break;
    }
  }
  await child.join();
  q.close(); // this process puts and gets no more
  try {
    await q.put('late');
  } catch (error) {
    console.log(`put after close: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

void main();
