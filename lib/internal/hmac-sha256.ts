/**
 * HMAC-SHA256 of short texts, computed from two one-shot hashes (RFC 2104):
 *
 *     HMAC(K, m) = SHA256((K' ⊕ opad) ‖ SHA256((K' ⊕ ipad) ‖ m))
 *
 * where K' is the key padded with zeros to SHA-256's 64-byte block (a longer key is hashed first).
 * The result is exactly `createHmac('sha256', key).update(m).digest()`: a signature made here
 * checks there, and the other way round.
 *
 * Why not createHmac: every call makes a native HMAC context (on Node 20's OpenSSL 3 that is a
 * provider fetch and a key copy) and a JS object the collector must finalize. A distributed task is
 * signed and checked twice each way, and in the distributed benchmark's worker and executor
 * profiles createHmac took 5–16 µs per call under load, against 2–3 µs alone. `crypto.hash` is
 * one native call with no object; the padded key is XORed once and kept in front of a reusable
 * buffer, into which each message is written. ~1.2–1.6 µs per signature, 2.1–3.4 µs with
 * createHmac, measured side by side while allocating as the executor does.
 *
 * Texts longer than SCRATCH_LIMIT go to createHmac: the buffer would otherwise keep the size of the
 * largest message ever signed, and for them the hashing itself is most of the cost.
 */
import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';

const BLOCK = 64;
const DIGEST = 32;
/** Longest text (in UTF-16 units) signed through the scratch buffer; UTF-8 takes at most 3 bytes per unit. */
const SCRATCH_LIMIT = 16 * 1024;

export class HmacSha256 {
  /** The padded key ⊕ ipad, then room for a message. */
  #inner: Buffer;
  /** The padded key ⊕ opad, then the inner digest. */
  readonly #outer = Buffer.alloc(BLOCK + DIGEST);
  readonly #key: KeyObject;

  constructor(key: string) {
    const bytes = Buffer.from(key, 'utf8');
    const padded = Buffer.alloc(BLOCK);
    (bytes.length > BLOCK ? hash('sha256', bytes, 'buffer') : bytes).copy(padded);
    this.#inner = Buffer.alloc(BLOCK + 1024);
    for (let i = 0; i < BLOCK; i++) {
      this.#inner[i] = padded[i] ^ 0x36;
      this.#outer[i] = padded[i] ^ 0x5c;
    }
    this.#key = createSecretKey(bytes);
  }

  /** The HMAC of `text` (as UTF-8), in base64url. */
  sign(text: string): string {
    if (text.length > SCRATCH_LIMIT) return createHmac('sha256', this.#key).update(text).digest('base64url');
    if (this.#inner.length < BLOCK + 3 * text.length) this.#grow(BLOCK + 3 * text.length);
    const length = this.#inner.write(text, BLOCK, 'utf8');
    // 'binary' (latin1) carries the 32 digest bytes as 32 chars, written back byte for byte: no Buffer made.
    this.#outer.write(hash('sha256', this.#inner.subarray(0, BLOCK + length), 'binary'), BLOCK, 'binary');
    return hash('sha256', this.#outer, 'base64url');
  }

  #grow(size: number): void {
    const inner = Buffer.alloc(size);
    this.#inner.copy(inner, 0, 0, BLOCK);
    this.#inner = inner;
  }
}

/**
 * Whether two signatures are equal, in time that does not depend on where they differ (a forger
 * learns nothing from how long a refusal takes). No buffers: both are short ASCII texts.
 */
export function sameSignature(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return difference === 0;
}
