// Source of the WebAssembly prefilter used by teddy.ts, as a small assembler: each helper emits
// the bytes of one instruction named as in the text format (get = local.get, ...), so the
// function body below reads as a .wat listing; comments name its blocks and branch targets. `npm run build:wasm` writes the module's bytes to
// teddy-wasm.ts; test/unit/detection/teddy.test.ts checks that the committed bytes are what this
// file assembles, so the two cannot drift.
//
// (module
//   (memory (export "memory") PAGES PAGES)
//   (func (export "find") (param $i i32) (param $end i32) (param $nlit i32) (result i32) ...))
//
// Memory layout (offsets fixed here, filled by teddy.ts):
//   TABLES   6 x 16 bytes: low/high nibble tables for window bytes 0, 1, 2 (lo0 hi0 lo1 hi1 lo2 hi2);
//            bit b of table[n] is set when a literal of bucket b has that nibble at that byte
//   SCRATCH  16 bytes: the candidate vector of the current block
//   BUCKETS  one byte per literal: its bucket bit
//   LITS     16 bytes per literal: its bytes as a little-endian i64 (zero padded), then a byte mask
//   FIRST    8 bytes: per bucket, the first of its literals (literals are stored sorted by bucket)
//   LAST     8 bytes: per bucket, one past the last of its literals
//   ORIG     one byte per stored literal: its index in the caller's list
//   INPUT    the copied bytes (PIECE + overlap), followed by at least PAD zero bytes
//   OUTPUT   one i32 per hit: (position << 6) | literal index, in position order

import {
  block,
  br,
  br_if,
  end,
  get,
  I32,
  I64,
  i32c,
  loop,
  name,
  section,
  set,
  simd,
  uleb,
  V128,
  VOID,
  vec,
} from '../util/wasm.ts';

export const TABLES = 0;
export const SCRATCH = 96;
export const BUCKETS = 112;
export const MAX_LITERALS = 64;
export const LITS = BUCKETS + MAX_LITERALS;
export const FIRST = LITS + 16 * MAX_LITERALS;
export const LAST = FIRST + 8;
export const ORIG = LAST + 8;
export const MAX_LITERAL_LENGTH = 8;
export const PIECE = 1 << 16;
export const PAD = 64;
export const INPUT = 2048;
export const OUTPUT = INPUT + PIECE + PAD;
const BYTES = OUTPUT + PIECE * 4;
export const PAGES = Math.ceil(BYTES / 65536);

// Locals: parameters first, then declared locals, in this order.
const L = {
  i: 0,
  end: 1,
  nlit: 2,
  out: 3,
  bits: 4,
  pos: 5,
  mb: 6,
  j: 7,
  w: 8, // i64
  lo0: 9, // v128 from here
  hi0: 10,
  lo1: 11,
  hi1: 12,
  lo2: 13,
  hi2: 14,
  nib: 15,
  m: 16,
  lo: 17, // low nibbles of the current block
  hi: 18, // high nibbles of the current block
  r0: 19, // window byte 0 matches of the current block
  r1: 20, // window byte 1 matches of the current block
  p0: 21, // r0 of the previous block
  p1: 22, // r1 of the previous block
} as const;

// Instructions.
const i32 = {
  add: [0x6a],
  sub: [0x6b],
  and: [0x71],
  or: [0x72],
  xor: [0x73],
  shl: [0x74],
  shr_u: [0x76],
  ctz: [0x68],
  clz: [0x67],
  eqz: [0x45],
  ne: [0x47],
  ge_u: [0x4f],
  load8_u: (offset: number) => [0x2d, 0, ...uleb(offset)],
  store: (offset: number) => [0x36, 2, ...uleb(offset)],
};
const i64 = {
  and: [0x83],
  eq: [0x51],
  load: (offset: number) => [0x29, 0, ...uleb(offset)],
};
const v128 = {
  load: (offset: number) => simd(0x00, 0, ...uleb(offset)),
  store: (offset: number) => simd(0x0b, 0, ...uleb(offset)),
  and: simd(0x4e),
};
const i8x16 = {
  splat: simd(0x0f),
  swizzle: simd(0x0e),
  /** Same as swizzle for lane indexes 0 to 15 (the only ones used here), without its range fix-up. */
  relaxed_swizzle: simd(0x100),
  eq: simd(0x23),
  bitmask: simd(0x64),
  shr_u: simd(0x6d),
};
const if_ = [0x04, VOID];

/** Buckets whose window byte matches each byte of the block: (lo[n_lo] & hi[n_hi]) per lane. */
function lookup(lo: number, hi: number, swizzle: number[]): number[] {
  // (v128.and (swizzle $lo_k $lo) (swizzle $hi_k $hi))
  return [...get(lo), ...get(L.lo), ...swizzle, ...get(hi), ...get(L.hi), ...swizzle, ...v128.and];
}

/** The 16 lanes of concat(a, b) starting at lane `from` (x86: palignr). */
function concatFrom(from: number): number[] {
  return simd(0x0d, ...Array.from({ length: 16 }, (_, k) => from + k));
}

function body(swizzle: number[]): number[] {
  const locals = vec([
    [5, I32], // out bits pos mb j
    [1, I64], // w
    [14, V128], // lo0 hi0 lo1 hi1 lo2 hi2 nib m lo hi r0 r1 p0 p1
  ]);
  const code = [
    // load the six nibble tables and the 0x0f splat into locals
    ...[L.lo0, L.hi0, L.lo1, L.hi1, L.lo2, L.hi2].flatMap((l, k) => [
      ...i32c(0),
      ...v128.load(TABLES + 16 * k),
      ...set(l),
    ]),
    ...i32c(15),
    ...i8x16.splat,
    ...set(L.nib),
    ...i32c(OUTPUT),
    ...set(L.out),
    ...block, // $done
    ...loop, // $blocks: one iteration per 16 positions
    ...get(L.i),
    ...get(L.end),
    ...i32c(2),
    ...i32.add,
    ...i32.ge_u,
    ...br_if(1), // i >= end + 2 (the last window starting before end ends there): br $done
    // Lane j of this block is position q = i + j, taken as the window's LAST byte: a window
    // starts at p = q - 2. Its byte 0 matched in r0 two lanes back and byte 1 in r1 one lane
    // back, reaching into the previous block (p0, p1; zero before the first block).
    ...get(L.i),
    ...v128.load(INPUT),
    ...set(L.m),
    ...get(L.m),
    ...get(L.nib),
    ...v128.and,
    ...set(L.lo),
    ...get(L.m),
    ...i32c(4),
    ...i8x16.shr_u,
    ...set(L.hi),
    ...lookup(L.lo0, L.hi0, swizzle),
    ...set(L.r0),
    ...lookup(L.lo1, L.hi1, swizzle),
    ...set(L.r1),
    // m = r2 & (p1:r1 shifted by one lane) & (p0:r0 shifted by two)
    ...lookup(L.lo2, L.hi2, swizzle),
    ...get(L.p1),
    ...get(L.r1),
    ...concatFrom(15),
    ...v128.and,
    ...get(L.p0),
    ...get(L.r0),
    ...concatFrom(14),
    ...v128.and,
    ...set(L.m),
    ...get(L.r0),
    ...set(L.p0),
    ...get(L.r1),
    ...set(L.p1),
    // bits = bitmask(m == 0) ^ 0xffff: one bit per candidate position
    ...get(L.m),
    ...i32c(0),
    ...i8x16.splat,
    ...i8x16.eq,
    ...i8x16.bitmask,
    ...i32c(0xffff),
    ...i32.xor,
    ...set(L.bits),
    ...get(L.bits),
    ...if_,
    ...i32c(0),
    ...get(L.m),
    ...v128.store(SCRATCH),
    ...loop, // $lanes: each candidate position, lowest first
    // pos = i + ctz(bits) - 2; positions at or past end belong to no one: stop
    ...get(L.i),
    ...get(L.bits),
    ...i32.ctz,
    ...i32.add,
    ...i32c(2),
    ...i32.sub,
    ...set(L.pos),
    ...get(L.pos),
    ...get(L.end),
    ...i32.ge_u,
    ...br_if(3), // br $done (lanes, if, blocks, done)
    ...get(L.bits),
    ...i32.ctz,
    ...i32.load8_u(SCRATCH),
    ...set(L.mb),
    ...get(L.pos),
    ...i64.load(INPUT),
    ...set(L.w),
    // j = FIRST[ctz(mb)], nlit = LAST[31 - clz(mb)]: the stored literals of the candidate's
    // lowest to highest bucket, not all of them (mb is not zero in a candidate lane)
    ...get(L.mb),
    ...i32.ctz,
    ...i32.load8_u(FIRST),
    ...set(L.j),
    ...i32c(31),
    ...get(L.mb),
    ...i32.clz,
    ...i32.sub,
    ...i32.load8_u(LAST),
    ...set(L.nlit),
    ...block, // $litdone
    ...loop, // $lits: exact check of each literal of the candidate's buckets
    ...get(L.j),
    ...get(L.nlit),
    ...i32.ge_u,
    ...br_if(1), // br $litdone
    // (mb & bucket[j]) != 0 && (w & mask[j]) == bytes[j]
    ...get(L.mb),
    ...get(L.j),
    ...i32.load8_u(BUCKETS),
    ...i32.and,
    ...i32c(0),
    ...i32.ne,
    ...get(L.w),
    ...get(L.j),
    ...i32c(4),
    ...i32.shl,
    ...i64.load(LITS + 8),
    ...i64.and,
    ...get(L.j),
    ...i32c(4),
    ...i32.shl,
    ...i64.load(LITS),
    ...i64.eq,
    ...i32.and,
    ...if_,
    // store (pos << 6) | ORIG[j] at out; out += 4; one literal per position at most
    ...get(L.out),
    ...get(L.pos),
    ...i32c(6),
    ...i32.shl,
    ...get(L.j),
    ...i32.load8_u(ORIG),
    ...i32.or,
    ...i32.store(0),
    ...get(L.out),
    ...i32c(4),
    ...i32.add,
    ...set(L.out),
    ...br(2), // br $litdone (if, lits, litdone)
    ...end, // if
    ...get(L.j),
    ...i32c(1),
    ...i32.add,
    ...set(L.j),
    ...br(0), // br $lits
    ...end, // loop $lits
    ...end, // block $litdone
    // bits &= bits - 1; again while bits != 0
    ...get(L.bits),
    ...get(L.bits),
    ...i32c(1),
    ...i32.sub,
    ...i32.and,
    ...set(L.bits),
    ...get(L.bits),
    ...br_if(0), // br $lanes
    ...end, // loop $lanes
    ...end, // if
    ...get(L.i),
    ...i32c(16),
    ...i32.add,
    ...set(L.i),
    ...br(0), // br $blocks
    ...end, // loop $blocks
    ...end, // block $done
    // hits written: (out - OUTPUT) >> 2
    ...get(L.out),
    ...i32c(OUTPUT),
    ...i32.sub,
    ...i32c(2),
    ...i32.shr_u,
    ...end, // func
  ];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

/**
 * The module's bytes. `relaxed` looks the tables up with i8x16.relaxed_swizzle (one x86 pshufb;
 * exact here since every index is a nibble), else with i8x16.swizzle, for engines without relaxed SIMD.
 */
export function assembleTeddy(relaxed: boolean): Uint8Array {
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])]])), // type 0: (i32 i32 i32) -> i32
    ...section(3, vec([uleb(0)])), // func 0: type 0
    ...section(5, vec([[0x01, ...uleb(PAGES), ...uleb(PAGES)]])), // memory 0: PAGES, fixed
    ...section(
      7,
      vec([
        [...name('memory'), 0x02, 0x00],
        [...name('find'), 0x00, 0x00],
      ]),
    ),
    ...section(10, vec([body(relaxed ? i8x16.relaxed_swizzle : i8x16.swizzle)])),
  ];
  return Uint8Array.from(bytes);
}

/** The text of teddy-wasm.ts: what `npm run build:wasm` writes. */
export function teddyWasmModuleText(): string {
  const constant = (name: string, bytes: Uint8Array) => {
    const b64 = Buffer.from(bytes).toString('base64');
    const lines: string[] = [];
    for (let i = 0; i < b64.length; i += 96) lines.push(`  '${b64.slice(i, i + 96)}'`);
    return `export const ${name} =\n${lines.join(' +\n')};\n`;
  };
  return [
    '// Generated by `npm run build:wasm` from teddy-asm.ts: do not edit.',
    '// With i8x16.relaxed_swizzle:',
    constant('TEDDY_WASM_RELAXED', assembleTeddy(true)),
    '// With i8x16.swizzle:',
    constant('TEDDY_WASM_PLAIN', assembleTeddy(false)),
  ].join('\n');
}
