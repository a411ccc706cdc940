/**
 * The item ring (lib/internal/shm/item-ring.ts) on one thread, over a chunk store of plain
 * SharedArrayBuffers that counts what it allocates and frees: order, growth, reuse of free chunks,
 * shrinking, the stack without holes, compaction of PriorityQueue holes, the one-store commit, and
 * the waiting protocol step by step.
 */
import { describe, expect, test } from '@jest/globals';
import {
  CH_SIZE, CHUNK_HEADER_BYTES, FIFO, LIFO, NOT_EMPTY, PRIORITY, Ring, VERSION, c0Offset, ringBytes, ringCount, ringGet,
  ringInit, ringPutLocked, ringTakeLocked, ringTryLock, ringUnlock, ringWakeGetters, type Chunk, type ChunkStore,
  type RecordSource, type RingLayout,
} from '../../../lib/internal/shm/item-ring';
import { LocalBlock } from '../../../lib/internal/shm/block';
import { FOREVER } from '../../../lib/internal/shm/deadline';
import { Pending, finish, readPayload, serialize } from '../../../lib/internal/transport/serializer';
import { chunkViews } from '../../../lib/internal/queue/stores';
import { compareSortKeys, sortKeyOf } from '../../../lib/queue/priority-key';

/** Chunks in a Map; counts allocations; `limit` bytes of chunks at most (then it cannot grow). */
class TestStore implements ChunkStore {
  readonly chunks = new Map<number, Chunk>();
  allocated = 0;
  freed = 0;
  next = 1;

  constructor(readonly c0: Chunk, readonly limit = Infinity) {}

  get canGrow(): boolean {
    return this.limit > 0;
  }

  get liveBytes(): number {
    let n = 0;
    for (const c of this.chunks.values()) n += c.i32[CH_SIZE];
    return n;
  }

  chunk(a: number, b: number): Chunk {
    if (a === 0 && b === 0) return this.c0;
    const c = this.chunks.get(b);
    if (c === undefined) throw new Error(`no chunk ${b}`);
    return c;
  }

  read(a: number, b: number): Chunk {
    return this.chunk(a, b);
  }

  allocate(bytes: number): { a: number; b: number; chunk: Chunk } | undefined {
    const size = Math.ceil(bytes / 8) * 8;
    if (this.liveBytes + size > this.limit) return undefined;
    const chunk = chunkViews(new SharedArrayBuffer(size), 0, size);
    chunk.i32[CH_SIZE] = size;
    const b = this.next++;
    this.chunks.set(b, chunk);
    this.allocated++;
    return { a: 0, b, chunk };
  }

  free(a: number, b: number): void {
    expect(this.chunks.delete(b)).toBe(true);
    this.freed++;
  }

  forget(): void {}

  partSize(bytes: number): number {
    return bytes;
  }
}

function makeRing(order: number, c0Bytes = 256, limit = Infinity, maxsize = 0): { ring: Ring; store: TestStore } {
  const layout: RingLayout = { order, maxsize, flags: 0, vecBase: order === FIFO ? 0 : 4, c0Bytes };
  const buffer = new SharedArrayBuffer(ringBytes(layout));
  const whole = chunkViews(buffer, 0, buffer.byteLength);
  const c0 = chunkViews(buffer, c0Offset(layout), c0Bytes);
  const block = new LocalBlock(whole.i32);
  ringInit(block, c0, layout);
  const store = new TestStore(c0, limit);
  const ring = new Ring(block, store, order === FIFO ? undefined : whole, compareSortKeys);
  return { ring, store };
}

function source(order: number, value: unknown): RecordSource {
  const encoded = serialize(value);
  if (order !== PRIORITY) return encoded;
  const key = sortKeyOf(value);
  return { kind: encoded.kind, length: encoded.length, write: (c, o) => encoded.write(c, o), key: key.key, keyTag: key.tag, keyNumber: key.number };
}

function put(ring: Ring, value: unknown): string {
  expect(ringTryLock(ring)).toBe(true);
  try {
    return ringPutLocked(ring, source(ring.order, value));
  } finally {
    ringUnlock(ring);
  }
}

function take(ring: Ring): unknown {
  expect(ringTryLock(ring)).toBe(true);
  let taken: unknown;
  try {
    taken = ringTakeLocked(ring, (kind, chunk, offset, length) => readPayload(kind, chunk, offset, length));
  } finally {
    ringUnlock(ring);
  }
  return taken instanceof Pending ? finish(taken) : taken;
}

/** A string whose record takes about `bytes` bytes. */
const sized = (bytes: number, tag: number): string => `${tag}:`.padEnd(bytes - 16, 'x');

describe('FIFO', () => {
  test('items come out in the order they went in, across chunk boundaries', () => {
    const { ring, store } = makeRing(FIFO);
    for (let i = 0; i < 100; i++) expect(put(ring, sized(40, i))).toBe('put');
    expect(ringCount(ring)).toBe(100);
    expect(store.allocated).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) expect(take(ring)).toBe(sized(40, i));
    expect(ringCount(ring)).toBe(0);
  });

  test('a ring that cycles (put one, take one, with a backlog) reuses its chunks instead of growing', () => {
    const { ring, store } = makeRing(FIFO);
    let next = 0;
    let expected = 0;
    // A backlog of 8 records of 48 bytes (more than C0 holds), then a long steady stream.
    for (; next < 8; next++) put(ring, sized(48, next));
    // The ring grows while the stream first goes round (a backlog spanning parts of three chunks
    // needs a fourth to write in), then stops growing.
    for (let round = 0; round < 100; round++) {
      put(ring, sized(48, next++));
      expect(take(ring)).toBe(sized(48, expected++));
    }
    const grownTo = store.allocated;
    expect(grownTo).toBeLessThanOrEqual(3);
    for (let round = 0; round < 2000; round++) {
      put(ring, sized(48, next++));
      expect(take(ring)).toBe(sized(48, expected++));
    }
    expect(store.allocated).toBe(grownTo);
    while (expected < next) expect(take(ring)).toBe(sized(48, expected++));
  });

  test('a full ring whose memory cannot grow says no-room and stays usable', () => {
    const { ring } = makeRing(FIFO, 256, 0);
    let n = 0;
    while (put(ring, sized(40, n)) === 'put') n++;
    expect(n).toBeGreaterThan(2);
    expect(put(ring, sized(40, n))).toBe('no-room');
    expect(take(ring)).toBe(sized(40, 0));
    expect(put(ring, 'again')).toBe('put');
  });

  test('maxsize: a put beyond it is refused as full, and the queue is unchanged', () => {
    const { ring } = makeRing(FIFO, 256, Infinity, 2);
    expect(put(ring, 1)).toBe('put');
    expect(put(ring, 2)).toBe('put');
    expect(put(ring, 3)).toBe('full');
    expect(ringCount(ring)).toBe(2);
    expect([take(ring), take(ring)]).toEqual([1, 2]);
  });

  test('an empty ring that grew beyond 1 MiB gives every chunk but its first back', () => {
    const { ring, store } = makeRing(FIFO, 256);
    for (let i = 0; i < 300; i++) put(ring, sized(8000, i));
    expect(store.liveBytes).toBeGreaterThan(1 << 20);
    for (let i = 0; i < 300; i++) expect(take(ring)).toBe(sized(8000, i));
    expect(store.chunks.size).toBe(0);
    expect(store.freed).toBe(store.allocated);
    // And it works as new afterwards.
    put(ring, 'after');
    expect(take(ring)).toBe('after');
  });

  test('the state is committed by one store: what an operation wrote before it is invisible', () => {
    const { ring } = makeRing(FIFO);
    put(ring, 'a');
    put(ring, 'b');
    const i32 = ring.i32;
    const version = Atomics.load(i32, VERSION);
    // A holder killed before its commit leaves garbage in the inactive copy (and in free space).
    const inactive = 16 + ((version + 1) & 1) * 12;
    for (let k = 0; k < 12; k++) i32[inactive + k] = 0x5a5a5a5a;
    expect(ringCount(ring)).toBe(2);
    expect(take(ring)).toBe('a');
    expect(take(ring)).toBe('b');
    expect(ringCount(ring)).toBe(0);
  });
});

describe('LIFO', () => {
  test('the last item put comes out first', () => {
    const { ring } = makeRing(LIFO);
    for (const x of [111, 333, 222]) put(ring, x);
    expect([take(ring), take(ring), take(ring)]).toEqual([222, 333, 111]);
  });

  test('a stack leaves no holes: pushing and popping on top of a deep stack never grows the ring', () => {
    const { ring, store } = makeRing(LIFO);
    for (let i = 0; i < 20; i++) put(ring, sized(40, i));
    const grownTo = store.allocated;
    for (let round = 0; round < 1000; round++) {
      for (let k = 0; k < 5; k++) put(ring, sized(40, 100 + k));
      for (let k = 4; k >= 0; k--) expect(take(ring)).toBe(sized(40, 100 + k));
    }
    expect(store.allocated).toBe(grownTo);
    for (let i = 19; i >= 0; i--) expect(take(ring)).toBe(sized(40, i));
  });
});

describe('PRIORITY', () => {
  test('the lowest item comes out first; equal items in the order they were put', () => {
    const { ring } = makeRing(PRIORITY);
    const items = [[3, 'c'], [1, 'a'], [2, 'b'], [1, 'a2'], [0, { z: 1 }], [1, 'a'], [2, 'a']];
    for (const x of items) put(ring, x);
    const out = items.map(() => take(ring));
    expect(out).toEqual([[0, { z: 1 }], [1, 'a'], [1, 'a'], [1, 'a2'], [2, 'a'], [2, 'b'], [3, 'c']]);
  });

  test('a thousand random numbers come out sorted', () => {
    const { ring } = makeRing(PRIORITY);
    const xs = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1009);
    for (const x of xs) put(ring, x);
    const out = xs.map(() => take(ring) as number);
    expect(out).toEqual([...xs].sort((a, b) => a - b));
  });

  test('holes left by taken items are compacted instead of growing the ring for ever', () => {
    const { ring, store } = makeRing(PRIORITY, 1024);
    // A low-priority item stays at the front while high-priority items stream past it.
    put(ring, [9, sized(40, 0)]);
    for (let round = 0; round < 2000; round++) {
      put(ring, [1, sized(40, round)]);
      put(ring, [2, sized(40, round)]);
      expect(take(ring)).toEqual([1, sized(40, round)]);
      // Item 2 stays for a while (leaves a hole behind item 1's later ones).
      if (round % 3 === 2) for (let k = 0; k < 3; k++) expect((take(ring) as unknown[])[0]).toBe(2);
    }
    expect(store.liveBytes).toBeLessThan(64 * 1024);
  });
});

describe('waiting', () => {
  test('a getter parks on NOT_EMPTY with the value it read; a put changes the word and wakes it', () => {
    const { ring } = makeRing(FIFO);
    const steps = ringGet(ring, (kind, chunk, offset, length) => readPayload(kind, chunk, offset, length), FOREVER);
    const first = steps.next();
    expect(first.done).toBe(false);
    const request = first.value as { index: number; expected: number };
    expect(request.index).toBe(NOT_EMPTY);
    expect(request.expected).toBe(Atomics.load(ring.i32, NOT_EMPTY));
    expect(put(ring, 'wake')).toBe('put');
    expect(Atomics.load(ring.i32, NOT_EMPTY)).not.toBe(request.expected);
    ringWakeGetters(ring); // the word says one waits: a wake is sent
    expect(steps.next('ok')).toEqual({ done: true, value: { value: 'wake' } });
  });

  test('the header of a new chunk records its size; records start after it', () => {
    const { ring, store } = makeRing(FIFO);
    for (let i = 0; i < 20; i++) put(ring, sized(40, i));
    for (const chunk of store.chunks.values()) expect(chunk.i32[CH_SIZE]).toBeGreaterThan(CHUNK_HEADER_BYTES);
  });
});
