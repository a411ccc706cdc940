/**
 * Seed 003 "管道通信 Pipe": a pipe between processes. `Pipe(duplex)` returns its two ends; a duplex
 * pipe (the default) sends both ways, a one-way pipe (`Pipe(false)`) receives on the first end and
 * sends on the second. `recv()` waits while the pipe is empty; `send(data)` sends any
 * structured-cloneable value (Python sends any picklable value).
 *
 *   npx tsx examples/multiprocessing-pipe.ts
 *
 * Part one: a child sends five messages through a duplex pipe and answers the main process's reply.
 * Part two: a one-way pipe, whose first end only reads and whose second only writes; when the child
 * (the only holder of the writing end) is done and has closed it, `recv()` throws EOFError.
 */
import { Connection, Pipe, Process } from 'threadkit/multiprocessing';
import { EOFError } from 'threadkit/errors';

async function main(): Promise<void> {
  // --- duplex: both ends read and write
  const [fd1, fd2] = Pipe(); // the seed's fd1, fd2 = Pipe(duplex=True)
  const child = new Process({
    target: (fd: Connection) => {
      for (let i = 1; i <= 5; i++) fd.send(`message ${i} from the child`);
      console.log(`child got: ${JSON.stringify(fd.recvSync())}`);
    },
    args: [fd2],
  });
  child.start();
  for (let i = 0; i < 5; i++) console.log(`main got: ${await fd1.recv()}`); // waits while empty
  fd1.send({ reply: 'thanks', count: 5 }); // any structured-cloneable value
  await child.join();

  // --- one way: fd1 only reads, fd2 only writes
  const [reader, writer] = Pipe(false);
  const sender = new Process({
    target: (w: Connection) => {
      for (const word of ['hello', 'from', 'a', 'one-way', 'pipe']) w.send(word);
      w.close();
    },
    args: [writer],
  });
  sender.start();
  writer.close(); // this process will not write: the child holds the only open writing end
  console.log(`reader can send: ${reader.writable}, writer can receive: ${writer.readable}`);
  const words: string[] = [];
  for (;;) {
    try {
      words.push((await reader.recv()) as string);
    } catch (error) {
      if (!(error instanceof EOFError)) throw error;
      break; // the writing end is closed and everything it sent was read
    }
  }
  console.log(`main read: ${words.join(' ')}`);
  try {
    reader.send('nope');
  } catch (error) {
    console.log(`the reading end refuses to send: ${(error as Error).message}`);
  }
  await sender.join();
}

void main();
