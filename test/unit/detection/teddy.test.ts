// The WebAssembly multi-literal prefilter (src/detection/teddy.ts): exact hits against a plain
// indexOf reference, at every alignment, at piece and buffer ends, in both module variants; the
// committed bytes are what the assembler makes; without WebAssembly SIMD there is no finder.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PREFILTER_BUCKETS, PREFILTER_LITERALS } from '../../../src/detection/scanner.ts';
import { createTeddy, type Hits, type Teddy } from '../../../src/detection/teddy.ts';
import { PIECE, teddyWasmModuleText } from '../../../src/detection/teddy-asm.ts';
import { TEDDY_WASM_PLAIN, TEDDY_WASM_RELAXED } from '../../../src/detection/teddy-wasm.ts';
import type { WasmApi } from '../../../src/util/wasm.ts';

// The scanner's needles and buckets.
const LITERALS = PREFILTER_LITERALS;
const BUCKETS = PREFILTER_BUCKETS;

const WASM = (globalThis as { WebAssembly?: WasmApi }).WebAssembly!;

const VARIANTS = {
  relaxed: createTeddy(LITERALS, BUCKETS, WASM, [TEDDY_WASM_RELAXED]),
  plain: createTeddy(LITERALS, BUCKETS, WASM, [TEDDY_WASM_PLAIN]),
};

/** Every occurrence of every literal lying wholly in buf[s, e), by position, with Buffer#indexOf. */
function reference(buf: Uint8Array, s: number, e: number, literals = LITERALS): Hits {
  const view = Buffer.from(buf.buffer, buf.byteOffset + s, e - s);
  const found: [number, number][] = [];
  literals.forEach((l, k) => {
    for (let i = view.indexOf(l, 0, 'latin1'); i !== -1; i = view.indexOf(l, i + 1, 'latin1'))
      found.push([s + i, k]);
  });
  found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { pos: found.map((f) => f[0]), lit: found.map((f) => f[1]) };
}

describe('committed WebAssembly', () => {
  it('teddy-wasm.ts is exactly what `npm run build:wasm` writes from teddy-asm.ts', () => {
    const committed = readFileSync(new URL('../../../src/detection/teddy-wasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(teddyWasmModuleText());
  });

  it('both variants validate on this Node and differ only in the swizzle', () => {
    const relaxed = Buffer.from(TEDDY_WASM_RELAXED, 'base64');
    const plain = Buffer.from(TEDDY_WASM_PLAIN, 'base64');
    expect(WASM.validate(relaxed)).toBe(true);
    expect(WASM.validate(plain)).toBe(true);
    expect(relaxed.equals(plain)).toBe(false);
    expect(VARIANTS.relaxed).not.toBeNull();
    expect(VARIANTS.plain).not.toBeNull();
  });
});

for (const [variant, teddy] of Object.entries(VARIANTS) as [string, Teddy][]) {
  describe(`teddy (${variant} swizzle)`, () => {
    it('finds each literal at every alignment of a 16-byte block, in a buffer of spaces', () => {
      LITERALS.forEach((l, k) => {
        for (let at = 0; at < 48; at++) {
          const buf = Buffer.alloc(64, ' ');
          buf.write(l, at, 'latin1');
          expect(teddy.find(buf, 0, buf.length)).toEqual({ pos: [at], lit: [k] });
        }
      });
    });

    it('finds a literal ending on the last byte, and not one cut by the end of the range', () => {
      LITERALS.forEach((l, k) => {
        for (const size of [l.length, 16, 17, 31, 32, 33, 100]) {
          const buf = Buffer.alloc(size, '.');
          buf.write(l, size - l.length, 'latin1');
          expect(teddy.find(buf, 0, size)).toEqual({ pos: [size - l.length], lit: [k] });
          expect(teddy.find(buf, 0, size - 1)).toEqual({ pos: [], lit: [] });
          expect(teddy.find(buf, size - l.length + 1, size)).toEqual({ pos: [], lit: [] });
        }
      });
    });

    it('buffers shorter than 16 bytes, and empty ranges', () => {
      for (let size = 0; size < 16; size++) {
        const buf = Buffer.alloc(size, 'x');
        if (size >= 4) buf.write('bGci', size - 4, 'latin1');
        expect(teddy.find(buf, 0, size)).toEqual(
          size >= 4 ? { pos: [size - 4], lit: [0] } : { pos: [], lit: [] },
        );
        expect(teddy.find(buf, size, size)).toEqual({ pos: [], lit: [] });
      }
      const short = Buffer.from('WVd4bk');
      expect(teddy.find(short, 0, 6)).toEqual({ pos: [0], lit: [13] });
      expect(teddy.find(short.subarray(0, 5), 0, 5)).toEqual({ pos: [], lit: [] });
    });

    it('literals across piece boundaries (the input is copied in pieces of PIECE bytes)', () => {
      const size = 2 * PIECE + 40;
      for (const [k, l] of LITERALS.entries()) {
        const buf = Buffer.alloc(size, 'a');
        const starts: number[] = [];
        for (const edge of [PIECE, 2 * PIECE])
          for (const d of [-l.length - 1, -l.length, -l.length + 1, -1, 0, 1]) {
            const at = edge + d;
            if (starts.length === 0 || at >= starts[starts.length - 1]! + l.length) {
              buf.write(l, at, 'latin1');
              starts.push(at);
            }
          }
        buf.write(l, size - l.length, 'latin1');
        starts.push(size - l.length);
        expect(teddy.find(buf, 0, size)).toEqual({ pos: starts, lit: starts.map(() => k) });
        expect(teddy.find(buf, 7, size - 3)).toEqual(reference(buf, 7, size - 3));
      }
    });

    it('a hit on every position is all reported (output capacity is one hit per position)', () => {
      // "RnNae" and "R2Np" do not overlap themselves; "aaaa" style literals do: use a custom set
      const t = createTeddy(['aaa', 'bbbb'], [0, 1], WASM, [
        variant === 'relaxed' ? TEDDY_WASM_RELAXED : TEDDY_WASM_PLAIN,
      ])!;
      const buf = Buffer.alloc(PIECE + 100, 'a');
      expect(t.find(buf, 0, buf.length)).toEqual(reference(buf, 0, buf.length, ['aaa', 'bbbb']));
      expect(t.find(buf, 0, buf.length).pos).toHaveLength(buf.length - 2);
    });

    it('no false negatives or positives on random input with planted literals (indexOf reference)', () => {
      // Bytes from the literals' own characters make near-misses frequent; some bytes above 0x7f.
      const alphabet = [...new Set(LITERALS.join(''))]
        .map((c) => c.charCodeAt(0))
        .concat([0x20, 0x2e, 0xc3, 0xff]);
      const arb = fc
        .record({
          size: fc.integer({ min: 0, max: 3000 }),
          bytes: fc.array(fc.constantFrom(...alphabet), { maxLength: 3000 }),
          plants: fc.array(fc.tuple(fc.nat(), fc.nat({ max: LITERALS.length - 1 })), { maxLength: 40 }),
          cut: fc.tuple(fc.nat(), fc.nat()),
        })
        .map(({ size, bytes, plants, cut }) => {
          const buf = Buffer.alloc(size);
          for (let i = 0; i < size; i++) buf[i] = bytes.length > 0 ? bytes[i % bytes.length]! : 0x20;
          for (const [at, k] of plants) if (size > 0) buf.write(LITERALS[k]!, at % size, 'latin1');
          const s = size === 0 ? 0 : cut[0] % (size + 1);
          const e = s + (size - s === 0 ? 0 : cut[1] % (size - s + 1));
          return { buf, s, e };
        });
      fc.assert(
        fc.property(arb, ({ buf, s, e }) => {
          expect(teddy.find(buf, s, e)).toEqual(reference(buf, s, e));
          expect(teddy.find(buf, 0, buf.length)).toEqual(reference(buf, 0, buf.length));
        }),
        { numRuns: 1500 },
      );
    });

    it('random literal sets, any buckets (stored sorted by bucket, hits name the caller index)', () => {
      const bytes = variant === 'relaxed' ? TEDDY_WASM_RELAXED : TEDDY_WASM_PLAIN;
      const arb = fc
        .record({
          lits: fc.uniqueArray(fc.stringMatching(/^[abcXYZ]{3,8}$/), { minLength: 1, maxLength: 64 }),
          buckets: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 64, maxLength: 64 }),
          text: fc.array(fc.constantFrom(...'abcXYZ .'.split('').map((c) => c.charCodeAt(0))), {
            maxLength: 600,
          }),
        })
        .map(({ lits, buckets, text }) => {
          const literals = lits.filter((l) => !lits.some((o) => o !== l && o.startsWith(l)));
          return { literals, buckets: buckets.slice(0, literals.length), buf: Buffer.from(text) };
        });
      fc.assert(
        fc.property(arb, ({ literals, buckets, buf }) => {
          const t = createTeddy(literals, buckets, WASM, [bytes])!;
          expect(t.find(buf, 0, buf.length)).toEqual(reference(buf, 0, buf.length, literals));
        }),
        { numRuns: 300 },
      );
    });

    it('a subarray with a byte offset is read from its own start', () => {
      const big = Buffer.from('xxbGciyyImFsZyzz');
      const sub = big.subarray(2, 14);
      expect(teddy.find(sub, 0, sub.length)).toEqual({ pos: [0, 6], lit: [0, 1] });
    });
  });
}

describe('without WebAssembly SIMD', () => {
  it('no WebAssembly: no finder', () => {
    expect(createTeddy(LITERALS, BUCKETS, null)).toBeNull();
  });

  it('a WebAssembly that validates neither module: no finder', () => {
    const noSimd: WasmApi = { validate: () => false, Module: WASM.Module, Instance: WASM.Instance };
    expect(createTeddy(LITERALS, BUCKETS, noSimd)).toBeNull();
  });

  it('a WebAssembly that throws on compiling: no finder', () => {
    const broken: WasmApi = {
      validate: () => true,
      Module: class {
        constructor() {
          throw new Error('CompileError');
        }
      },
      Instance: WASM.Instance,
    };
    expect(createTeddy(LITERALS, BUCKETS, broken)).toBeNull();
  });

  it('without relaxed SIMD, the plain module is used', () => {
    const relaxed = Buffer.from(TEDDY_WASM_RELAXED, 'base64');
    const noRelaxed: WasmApi = {
      validate: (b) => !Buffer.from(b).equals(relaxed) && WASM.validate(b),
      Module: WASM.Module,
      Instance: WASM.Instance,
    };
    const t = createTeddy(LITERALS, BUCKETS, noRelaxed);
    expect(t).not.toBeNull();
    const buf = Buffer.from('a W1Gc1p b hertext c');
    expect(t!.find(buf, 0, buf.length)).toEqual({ pos: [2, 11], lit: [8, 4] });
  });
});

describe('literal set checks', () => {
  it('rejects literals the module cannot search exactly', () => {
    expect(() => createTeddy(['ab'], [0])).toThrow(/3 to 8/);
    expect(() => createTeddy(['abcdefghi'], [0])).toThrow(/3 to 8/);
    expect(() => createTeddy(['ab\0c'], [0])).toThrow(/non-zero/);
    expect(() => createTeddy(['abc', 'abcd'], [0, 1])).toThrow(/prefix/);
    expect(() => createTeddy(['abc'], [8])).toThrow(/buckets/);
    expect(() => createTeddy(['abc', 'bcd'], [0])).toThrow(/one bucket each/);
    expect(() =>
      createTeddy(
        Array.from({ length: 65 }, (_, i) => `ab${String.fromCharCode(65 + i)}`),
        Array(65).fill(0),
      ),
    ).toThrow(/at most 64/);
    // 64 is allowed: the literal index takes six bits of each hit
    expect(
      createTeddy(
        Array.from({ length: 64 }, (_, i) => `ab${String.fromCharCode(65 + i)}`),
        Array(64).fill(0),
      ),
    ).not.toBeNull();
  });
});
