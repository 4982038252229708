// latin1(buf, s, e): the same string as Buffer#toString('latin1') of that span, for Buffers, their
// subarrays and plain Uint8Arrays (the scanner gets decoded base64 as a plain Uint8Array).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latin1 } from '../../../src/detection/bytes.ts';

describe('latin1', () => {
  it('equals Buffer#toString latin1 of the span', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.nat(),
        fc.nat(),
        fc.nat({ max: 8 }),
        (a, x, y, cut) => {
          const plain = new Uint8Array(a.length + cut);
          plain.set(a, cut);
          const view = plain.subarray(cut); // a view at a byte offset
          const s = a.length === 0 ? 0 : x % (a.length + 1);
          const e = s + (a.length === 0 ? 0 : y % (a.length - s + 1));
          const want = Buffer.from(a).toString('latin1', s, e);
          expect(latin1(view, s, e)).toBe(want);
          expect(latin1(Buffer.from(view), s, e)).toBe(want);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
