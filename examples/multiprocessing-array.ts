/**
 * Seed 003 "共享内存" (shared memory), Array: `Array(typecode, initial)` opens shared memory for
 * several elements — from a list of values, or, given a number, that many zeros. A child reads it
 * element by element and changes one; the parent sees the change. Strings: the seed's Array('c',
 * b'…') is bytes here, an Array('B') made from a Buffer and read back as text.
 *
 *   npx tsx examples/multiprocessing-array.ts
 *
 * Python's `shm[3] = 1000` and `shm[1]` are `arr.set(3, 1000)` and `arr.get(1)`; `for i in shm` is
 * `for (const i of arr)`; the seed's `obj.value` of a char array (the whole string) is
 * `Buffer.from(arr.toArray()).toString()`.
 */
import { Array as SharedArray, Process } from 'threadkit/multiprocessing';

/** The seed's fun(shm): prints every element, then changes one. */
function fun(shm: SharedArray<number>): void {
  for (const i of shm) console.log(`child sees ${i}`);
  shm.set(3, 1000);
}

/** Capitalises the first letter of shared bytes. */
function capitalise(text: SharedArray<number>): void {
  const first = String.fromCharCode(text.get(0)).toUpperCase();
  text.set(0, first.charCodeAt(0));
}

async function main(): Promise<void> {
  const shm = new SharedArray('i', [1, 2, 3, 4, 5]); // the seed's Array('i', [1, 2, 3, 4, 5])
  console.log(`shm.get(1) is ${shm.get(1)}`); // [1, 2, 3] → obj[1] == 2
  const p = new Process({ target: fun, args: [shm] });
  p.start();
  await p.join();
  console.log(`parent sees ${shm.toArray().join(', ')}`);

  const zeros = new SharedArray('i', 5); // a number: that many elements, all 0
  console.log(`Array('i', 5) holds ${zeros.toArray().join(', ')}`);

  const text = new SharedArray('B', Buffer.from('hello threadkit'));
  const q = new Process({ target: capitalise, args: [text] });
  q.start();
  await q.join();
  console.log(`the bytes now read: ${Buffer.from(text.toArray()).toString()}`);
}

void main();
