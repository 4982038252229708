import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayHoldToken, scan } from '../../../src/detection/index.ts';
import { createFingerprinter, holdsToken } from '../../../src/redaction/index.ts';

/** The definition: base64url of the first 128 bits of HMAC-SHA-256(key, data). */
const reference = (key: Uint8Array, data: string | Uint8Array) =>
  createHmac('sha256', key).update(data).digest().subarray(0, 16).toString('base64url');

describe('fingerprints are HMAC-SHA-256 truncated to 128 bits', () => {
  it('equal createHmac for any key, string (also non-BMP and lone surrogates) and bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 200 }),
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.constantFrom('\ud800', 'a\udc00b', '😀'.repeat(50), 'x'.repeat(5000)),
          fc.uint8Array({ maxLength: 9000 }),
        ),
        (key, data) => {
          const fp = createFingerprinter(key, 'k');
          expect(fp.fingerprint(data)).toBe(reference(key, data));
          // twice: the cached claim hash and the reused buffers give the same answer
          expect(fp.claimHash(data)).toBe(`hmac:k:${reference(key, data)}`);
          expect(fp.claimHash(data)).toBe(`hmac:k:${reference(key, data)}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a long input, then a short one: no bytes of the long one are hashed again', () => {
    const key = Buffer.alloc(32, 9);
    const fp = createFingerprinter(key, 'k');
    expect(fp.fingerprint('y'.repeat(10_000))).toBe(reference(key, 'y'.repeat(10_000)));
    expect(fp.fingerprint('short')).toBe(reference(key, 'short'));
    expect(fp.fingerprint('')).toBe(reference(key, ''));
  });
});

describe('holdsToken pre-check', () => {
  it('a text without a scanner needle never scans to an item (so the pre-check is exact)', () => {
    const compact = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl';
    const pieces = [
      compact,
      Buffer.from(compact).toString('base64'),
      Buffer.from(`x${compact}`).toString('base64url'),
      Buffer.from(`xy${compact}`).toString('base64'),
      '{"protected":"eyJhbGciOiJFUzI1NiJ9","payload":"eyJ4IjoxfQ","signature":"c2lnbmF0dXJlc2lnbmF0dXJl"}',
      '%22ciphertext%22',
      '\\"signature\\"',
      'eyJ',
      '.',
      'é',
    ];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 40 })), { maxLength: 6 }),
        fc.nat(),
        fc.nat(),
        (parts, a, b) => {
          const whole = parts.join('');
          const cut = whole.slice(Math.min(a, b) % (whole.length + 1), Math.max(a, b) % (whole.length + 1));
          for (const text of [whole, cut]) {
            if (!mayHoldToken(text)) expect(scan(Buffer.from(text, 'utf8')).items).toEqual([]);
            expect(holdsToken(text)).toBe(
              text.length >= 16 && scan(Buffer.from(text, 'utf8')).items.length > 0,
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
