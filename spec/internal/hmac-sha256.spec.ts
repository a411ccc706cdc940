/** HmacSha256 is HMAC-SHA256 exactly (createHmac is the reference), for every key and text length. */
import { describe, expect, test } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { HmacSha256, sameSignature } from '../../lib/internal/hmac-sha256';

const reference = (key: string, text: string): string => createHmac('sha256', key).update(text).digest('base64url');

describe('HmacSha256', () => {
  const keys = ['', 'k', 'benchmark-secret', 'x'.repeat(64), 'y'.repeat(65), 'ü'.repeat(40), '🔑'.repeat(100)];
  const texts = ['', 'a', 'threadkit-task-v1\nq\nid-1\ntarget\ncall', 'é€𝄞', 'lone \ud800 surrogate', 'z'.repeat(1000), 'w'.repeat(5000), 'ü'.repeat(16 * 1024), 'v'.repeat(16 * 1024 + 1)];

  test.each(keys)('matches createHmac for key %j, short and long texts, UTF-8 and lone surrogates', (key) => {
    const hmac = new HmacSha256(key);
    for (const text of texts) expect(hmac.sign(text)).toBe(reference(key, text));
  });

  test('a short text after a long one is signed over its own bytes only (no leftovers of the buffer)', () => {
    const hmac = new HmacSha256('secret');
    expect(hmac.sign('q'.repeat(3000))).toBe(reference('secret', 'q'.repeat(3000)));
    expect(hmac.sign('short')).toBe(reference('secret', 'short'));
  });

  test('different keys or texts give different signatures', () => {
    expect(new HmacSha256('a').sign('t')).not.toBe(new HmacSha256('b').sign('t'));
    expect(new HmacSha256('a').sign('t')).not.toBe(new HmacSha256('a').sign('u'));
  });
});

describe('sameSignature', () => {
  test('true only for the same text', () => {
    const sig = new HmacSha256('k').sign('x');
    expect(sameSignature(sig, `${sig}`)).toBe(true);
    expect(sameSignature(sig, sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A'))).toBe(false);
    expect(sameSignature(sig, sig.slice(1))).toBe(false);
    expect(sameSignature(sig, undefined)).toBe(false);
    expect(sameSignature(sig, 42)).toBe(false);
    expect(sameSignature('', '')).toBe(true);
  });
});
