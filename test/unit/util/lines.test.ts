// countNewlines: the exact number of LF bytes, whichever way it is counted (WebAssembly SIMD in
// pieces, or the indexOf loop for short inputs and where WebAssembly cannot run).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countNewlines, countNewlinesIndexOf, wasmCounter } from '../../../src/util/lines.ts';

function naive(buf: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0x0a) n++;
  return n;
}

const wasm = wasmCounter();
const counters = [
  ['countNewlines', countNewlines],
  ['indexOf loop', countNewlinesIndexOf],
  ['WebAssembly counter', (b: Uint8Array) => wasm!(b)],
] as const;

/** Bytes with LF anywhere from never to always. */
const bytes = (maxLength: number) =>
  fc
    .tuple(fc.uint8Array({ minLength: 0, maxLength }), fc.integer({ min: 0, max: 4 }))
    .map(([b, density]) => b.map((x) => (density > 0 && x % 5 < density ? 0x0a : x)));

describe('countNewlines', () => {
  it('runs the WebAssembly counter on this Node (else the fast path is never tested)', () => {
    expect(wasm).not.toBeNull();
  });

  for (const [label, count] of counters) {
    it(`${label}: a subarray at any byte offset, 0 to 100 bytes, has as many LF as a naive loop finds`, () => {
      fc.assert(
        fc.property(bytes(140), fc.nat(), fc.integer({ min: 0, max: 100 }), (all, at, length) => {
          const start = all.length === 0 ? 0 : at % (all.length + 1);
          const view = all.subarray(start, Math.min(all.length, start + length));
          expect(count(view)).toBe(naive(view));
        }),
        { numRuns: 500 },
      );
    });
  }

  it('longer inputs (several pieces, runs of 255 blocks) at any offset, sparse to all LF', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 64 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer(),
        (length, offset, density, seed) => {
          const all = new Uint8Array(offset + length);
          let s = seed | 0;
          for (let i = 0; i < all.length; i++) {
            s = (Math.imul(s, 1103515245) + 12345) | 0;
            all[i] = density === 4 ? 0x0a : (s >>> 16) % 8 < density ? 0x0a : (s >>> 8) & 0xff;
          }
          const view = all.subarray(offset);
          const expected = naive(view);
          expect(countNewlines(view)).toBe(expected);
          expect(wasm!(view)).toBe(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('counts exactly at the boundaries of blocks, runs and pieces', () => {
    for (const length of [
      0, 1, 15, 16, 17, 255, 256, 257, 4079, 4080, 4081, 4096, 65535, 65536, 65537, 131_073,
    ]) {
      const lf = new Uint8Array(length + 3).fill(0x0a).subarray(3);
      expect(countNewlines(lf)).toBe(length);
      expect(wasm!(lf)).toBe(length);
      const none = new Uint8Array(length).fill(0x0b);
      expect(countNewlines(none)).toBe(0);
      if (length > 0) {
        none[length - 1] = 0x0a;
        expect(wasm!(none)).toBe(1);
        expect(countNewlines(none)).toBe(1);
      }
    }
  });
});
