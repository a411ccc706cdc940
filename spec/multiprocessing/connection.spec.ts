/**
 * threadkit/multiprocessing's Pipe and Connection: scenarios ported from CPython's
 * `_test_multiprocessing.py` (_TestConnection: test_connection, test_duplex_false,
 * test_spawn_close), message boundaries, a 64 MiB message, end of file when the other end is
 * closed or its process killed, broken pipes, and Connections passed to threads and through queues.
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import { Connection, Pipe, Process, Queue } from 'threadkit/multiprocessing';
import { EOFError, RuntimeError } from 'threadkit/errors';
import { shutdownIdleThreads } from '../../lib/internal/thread/warm-pool';
import { spawn, stopAll } from '../fixtures/shm-threads';
import { WATCH_MS } from '../../lib/internal/arena/watch';
import { collected } from '../helpers/gc';

const WAIT = 60_000;
const owned: Process[] = [];

function start<A extends unknown[]>(target: (...args: A) => unknown, args: A, daemon = true): Process {
  const p = new Process({ target: target as (...args: unknown[]) => unknown, args, daemon });
  p.start();
  owned.push(p);
  return p;
}

afterEach(async () => {
  await stopAll();
  for (const p of owned.splice(0)) {
    if (p.isAlive()) p.kill();
    await p.join();
  }
});

afterAll(shutdownIdleThreads);

/** CPython's _echo: sends back every message until the sentinel, then closes its end. */
function echo(conn: Connection): void {
  for (;;) {
    const msg = conn.recvSync();
    if (msg === 'SENTINEL') break;
    conn.send(msg);
  }
  conn.close();
}

async function elapsed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

describe('_TestConnection', () => {
  test('test_connection: messages go to an echoing child and back; poll waits; 16 MiB; EOFError once every copy of the other end is closed', async () => {
    const [conn, childConn] = Pipe();
    const p = start(echo, [childConn]);
    const seq = [1, 2.25, null];
    expect(conn.send(seq)).toBeUndefined();
    expect(await conn.recv()).toEqual(seq);
    const msg = 'hello world';
    conn.send(msg);
    expect(conn.recvSync()).toBe(msg);
    expect(await conn.poll()).toBe(false);
    expect(conn.pollSync(0)).toBe(false);
    const took = await elapsed(async () => expect(await conn.poll(100)).toBe(false));
    expect(took).toBeGreaterThanOrEqual(90);
    expect(took).toBeLessThan(10_000);
    conn.send(null);
    expect(await conn.poll(WAIT)).toBe(true);
    expect(await conn.recv()).toBeNull();
    const reallyBig = Buffer.alloc(16 << 20, 'X');
    conn.send(reallyBig);
    const back = (await conn.recv()) as Buffer;
    expect(back.length).toBe(16 << 20);
    expect(back.equals(reallyBig)).toBe(true);
    conn.send('SENTINEL');
    childConn.close(); // this process's copy; the child closes its own when it ends
    expect(conn.readable).toBe(true);
    expect(conn.writable).toBe(true);
    await expect(conn.recv()).rejects.toThrow(EOFError);
    expect(() => conn.recvSync()).toThrow(EOFError);
    expect(await p.join(WAIT)).toBe(true);
    expect(p.exitcode).toBe(0);
  }, WAIT);

  test('test_duplex_false: a one-way pipe receives on its first end, sends on its second, and refuses the other direction', async () => {
    const [reader, writer] = Pipe(false);
    expect(writer.send(1)).toBeUndefined();
    expect(reader.recvSync()).toBe(1);
    expect([reader.readable, reader.writable, writer.readable, writer.writable]).toEqual([true, false, false, true]);
    expect(() => reader.send(2)).toThrow(RuntimeError);
    expect(() => reader.send(2)).toThrow('connection is read-only');
    expect(() => writer.recvSync()).toThrow('connection is write-only');
    await expect(writer.recv()).rejects.toThrow(RuntimeError);
    await expect(writer.poll()).rejects.toThrow(RuntimeError);
  });

  test('test_spawn_close: the parent may close its copy of the child\'s end right after start()', async () => {
    const [conn, childConn] = Pipe();
    const p = start(echo, [childConn]);
    childConn.close(); // this might complete before the child revived its own copy
    conn.send('hello');
    expect(await conn.recv()).toBe('hello');
    conn.send('SENTINEL');
    await expect(conn.recv()).rejects.toThrow(EOFError); // the child closed its end: the last one
    conn.close();
    expect(await p.join(WAIT)).toBe(true);
  }, WAIT);
});

describe('messages', () => {
  test('message boundaries are kept, whatever the sizes, in order, both ways', async () => {
    const [a, b] = Pipe();
    const sizes = [0, 1, 7, 8, 100, 70_000, 3, 200_000, 0, 5];
    for (const n of sizes) a.send('x'.repeat(n));
    b.send('and back');
    for (const n of sizes) expect(((await b.recv()) as string).length).toBe(n);
    expect(await b.poll()).toBe(false);
    expect(a.recvSync()).toBe('and back');
  });

  test('a 64 MiB message goes through a Pipe to a child process and its checksum comes back', async () => {
    const [conn, childConn] = Pipe();
    start((conn: Connection) => {
      const item = conn.recvSync() as Uint8Array;
      let sum = 0;
      for (let i = 0; i < item.length; i += 4096) sum += item[i];
      conn.send([item.length, sum, item[item.length - 1]]);
    }, [childConn]);
    const big = new Uint8Array(64 << 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
    big[big.length - 1] = 5;
    let expected = 0;
    for (let i = 0; i < big.length; i += 4096) expected += big[i];
    conn.send(big);
    expect(await conn.recv()).toEqual([64 << 20, expected, 5]);
  }, 180_000);

  test('a value that cannot be sent is a TypeError, and the pipe works on', () => {
    const [a, b] = Pipe();
    expect(() => a.send({ f() {} })).toThrow(TypeError);
    a.send('fine');
    expect(b.recvSync()).toBe('fine');
  });
});

describe('end of file and broken pipes', () => {
  test('after the other end (its only copy) is closed, what it sent is still received, then EOFError; poll says true', async () => {
    const [a, b] = Pipe();
    b.send(1);
    b.send(2);
    b.close();
    expect(await a.poll()).toBe(true);
    expect(await a.recv()).toBe(1);
    expect(a.recvSync()).toBe(2);
    expect(await a.poll(WAIT)).toBe(true); // recv would not wait: it throws at once
    await expect(a.recv()).rejects.toThrow(EOFError);
    expect(() => a.recvSync()).toThrow('the other end of the connection is closed and nothing is left to read');
  });

  test('a reader waiting when the other end is closed is woken with EOFError at once', async () => {
    const [a, b] = Pipe();
    const waiting = a.recv();
    await new Promise((resolve) => setTimeout(resolve, 20));
    b.close();
    await expect(waiting).rejects.toThrow(EOFError);
  });

  test('a reader waiting while the process holding the other end is SIGKILLed gets EOFError within about a second', async () => {
    const [conn, childConn] = Pipe();
    const p = start((conn: Connection) => {
      conn.send('ready');
      conn.recvSync(); // blocks for ever
    }, [childConn]);
    childConn.close();
    // Until the child revived its end, the handle on its way holds it open for this process (as a
    // descriptor duplicated for a child that never took it): wait for the child to say it has it.
    expect(await conn.recv()).toBe('ready');
    const waiting = conn.recv();
    p.kill();
    expect(await p.join(WAIT)).toBe(true);
    const started = performance.now();
    await expect(waiting).rejects.toThrow(EOFError);
    expect(performance.now() - started).toBeLessThan(WATCH_MS * 5);
  }, WAIT);

  test('an end that is dropped without close() is closed when it is collected: the reader gets EOFError', async () => {
    const [a, ref] = ((): [Connection, WeakRef<Connection>] => {
      const [a, b] = Pipe();
      b.send('last words');
      return [a, new WeakRef(b)];
    })();
    expect(await collected(ref)).toBe(true);
    expect(await a.recv()).toBe('last words');
    await expect(a.recv()).rejects.toThrow(EOFError);
  });

  test('sending when the other end is closed everywhere is a broken pipe (RuntimeError, code EPIPE)', () => {
    const [a, b] = Pipe();
    b.close();
    let error: unknown;
    try {
      a.send('into the void');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as { code?: string }).code).toBe('EPIPE');
  });

  test('a closed Connection refuses send, recv and poll (RuntimeError "handle is closed"); closing twice is fine', async () => {
    const [a] = Pipe();
    expect(a.closed).toBe(false);
    a.close();
    a.close();
    expect(a.closed).toBe(true);
    expect(() => a.send(1)).toThrow('handle is closed');
    expect(() => a.recvSync()).toThrow(RuntimeError);
    await expect(a.recv()).rejects.toThrow('handle is closed');
    await expect(a.poll()).rejects.toThrow(RuntimeError);
    expect(inspect(a)).toBe('<Connection end=0 readable writable closed>');
  });
});

describe('passing Connections', () => {
  test('an end used by a thread of this process', async () => {
    const [a, b] = Pipe();
    const thread = spawn((b: Connection) => {
      b.send((b.recvSync() as number) + 1);
    }, b);
    a.send(41);
    expect(await a.recv()).toBe(42);
    await thread;
  }, WAIT);

  test('an end sent inside a queue item works in the process that takes it', async () => {
    const [a, b] = Pipe();
    const q = new Queue<{ conn: Connection }>();
    start((q: Queue<{ conn: Connection }>) => {
      const { conn } = q.getSync();
      conn.send('hello through the queue');
      conn.close();
    }, [q]);
    q.putSync({ conn: b });
    b.close();
    expect(await a.recv()).toBe('hello through the queue');
    await expect(a.recv()).rejects.toThrow(EOFError);
  }, WAIT);

  test('Connections are made by Pipe(); Pipe takes a boolean', () => {
    expect(() => new Connection()).toThrow(TypeError);
    expect(() => Pipe('yes' as unknown as boolean)).toThrow(/Expected `duplex` to be a boolean, got string "yes"/);
    const [a, b] = Pipe(false);
    expect(inspect(a)).toBe('<Connection end=0 readable>');
    expect(inspect(b)).toBe('<Connection end=1 writable>');
  });
});
