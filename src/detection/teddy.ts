// A multi-literal prefilter in WebAssembly SIMD ("Teddy", after Hyperscan's): one pass over the
// bytes finds every occurrence of up to 64 short literals, where Buffer#indexOf needs one pass per
// literal.
//
// Design. Each literal is put in one of 8 buckets (bit b of a byte stands for bucket b). For each of
// the first three bytes of a literal (its "window") there are two 16-byte tables, indexed by the low
// and the high nibble of a byte: table[n] has bit b set when some literal of bucket b has nibble n
// there. For a block of 16 bytes, i8x16.swizzle looks the six tables up with the block's nibbles,
// giving per byte the buckets whose window byte 0, 1 or 2 it can be (r0, r1, r2). Taking each byte as
// the last of a window, r2 AND r1 one lane back AND r0 two lanes back (i8x16.shuffle of the previous
// and current block's results, x86 palignr) leaves the buckets whose window may start two bytes
// earlier: one load and two nibble splits per 16 bytes. A bucket with one literal matches its window exactly; a bucket with two
// can also match the cross products of their nibbles, so the literals sharing a bucket are chosen to
// share window bytes. Every candidate position is then checked exactly, still in WebAssembly, against
// each literal of its buckets (a masked 8-byte compare), and only true hits come out, in position
// order, as (position << 6) | literal index.
//
// The input is copied into the module's memory in pieces of PIECE bytes plus the overlap a literal
// can reach past the piece, followed by zero bytes (no literal holds a zero byte, so nothing matches
// across the end and the 16-byte loads past the end read zeros). Memory has a fixed size: no piece
// holds more hits than positions, since no literal is a prefix of another (checked here), so at most
// one literal starts at a position. Work is linear: each position is looked at once, each candidate
// against at most 64 literals.
//
// The module is assembled by teddy-asm.ts (`npm run build:wasm` writes its bytes to teddy-wasm.ts).
// Where WebAssembly or its SIMD is unavailable, createTeddy returns null and callers use indexOf.

import { GLOBAL_WASM, instantiateWasm, type WasmApi } from '../util/wasm.ts';
import {
  BUCKETS,
  FIRST,
  INPUT,
  LAST,
  LITS,
  MAX_LITERAL_LENGTH,
  MAX_LITERALS,
  ORIG,
  OUTPUT,
  PAD,
  PIECE,
  SCRATCH,
  TABLES,
} from './teddy-asm.ts';
import { TEDDY_WASM_PLAIN, TEDDY_WASM_RELAXED } from './teddy-wasm.ts';

/** What find answers when nothing is found: shared and frozen (never written to). */
const NO_HITS: Hits = Object.freeze({
  pos: Object.freeze([]) as unknown as number[],
  lit: Object.freeze([]) as unknown as number[],
});

export interface Hits {
  /** Start offsets in the searched buffer, ascending. */
  pos: number[];
  /** Index of the literal found at pos[k]. */
  lit: number[];
}

export interface Teddy {
  /** Every occurrence lying wholly inside buf[s, e), in position order. */
  find(buf: Uint8Array, s: number, e: number): Hits;
}

type Find = (i: number, end: number, nlit: number) => number;

/** The memory's reserved head (tables, buckets, scratch, literals) must stay below INPUT. */
const HEAD_END = ORIG + MAX_LITERALS;

/**
 * A finder for `literals` (3 to 8 non-zero bytes each, Latin-1, none a prefix of another), literal k
 * in bucket buckets[k] (0 to 7). Null where WebAssembly SIMD cannot run.
 */
export function createTeddy(
  literals: readonly string[],
  buckets: readonly number[],
  wasm: WasmApi | null = GLOBAL_WASM ?? null,
  variants: readonly string[] = [TEDDY_WASM_RELAXED, TEDDY_WASM_PLAIN],
): Teddy | null {
  checkLiterals(literals, buckets);
  const instance = instantiate(wasm, variants);
  if (instance === null) return null;
  const { memory, find } = instance;
  const mem = new Uint8Array(memory.buffer);
  mem.fill(0, 0, HEAD_END);
  // Stored sorted by bucket, so a candidate is checked against its buckets' literals only.
  const order = literals.map((_, k) => k).sort((a, b) => buckets[a]! - buckets[b]! || a - b);
  for (let k = 0; k < order.length; k++) {
    const b = buckets[order[k]!]!;
    if (k === 0 || buckets[order[k - 1]!]! !== b) mem[FIRST + b] = k;
    mem[LAST + b] = k + 1;
    mem[ORIG + k] = order[k]!;
  }
  for (let k = 0; k < literals.length; k++) {
    const text = literals[order[k]!]!;
    const bit = 1 << buckets[order[k]!]!;
    for (let w = 0; w < 3; w++) {
      const c = text.charCodeAt(w);
      const lo = TABLES + 32 * w + (c & 15);
      const hi = TABLES + 32 * w + 16 + (c >> 4);
      mem[lo] = mem[lo]! | bit;
      mem[hi] = mem[hi]! | bit;
    }
    mem[BUCKETS + k] = bit;
    for (let b = 0; b < text.length; b++) {
      mem[LITS + 16 * k + b] = text.charCodeAt(b);
      mem[LITS + 16 * k + 8 + b] = 0xff;
    }
  }
  const out = new Int32Array(memory.buffer, OUTPUT, PIECE);
  const overlap = Math.max(...literals.map((l) => l.length)) - 1;
  const nlit = literals.length;
  return {
    find(buf, s, e) {
      let hits: Hits | undefined;
      for (let a = s; a < e; a += PIECE) {
        const positions = Math.min(PIECE, e - a);
        const copied = Math.min(e, a + positions + overlap) - a;
        // A whole buffer (a record) is copied as is: no subarray view to make.
        mem.set(a === 0 && copied === buf.length ? buf : buf.subarray(a, a + copied), INPUT);
        mem.fill(0, INPUT + copied, INPUT + copied + PAD);
        const n = find(0, positions, nlit);
        if (n > 0) hits ??= { pos: [], lit: [] };
        for (let h = 0; h < n; h++) {
          const v = out[h]!;
          hits!.pos.push(a + (v >>> 6));
          hits!.lit.push(v & 63);
        }
      }
      // No hit (most records): one shared, frozen answer, nothing allocated.
      return hits ?? NO_HITS;
    },
  };
}

function checkLiterals(literals: readonly string[], buckets: readonly number[]): void {
  if (literals.length > MAX_LITERALS || buckets.length !== literals.length)
    throw new Error(`teddy: at most ${MAX_LITERALS} literals, one bucket each`);
  if (HEAD_END > INPUT || SCRATCH + 16 > LITS) throw new Error('teddy: memory layout overlaps');
  for (const [k, l] of literals.entries()) {
    if (l.length < 3 || l.length > MAX_LITERAL_LENGTH || !/^[\x01-\xff]+$/.test(l))
      throw new Error('teddy: literals are 3 to 8 non-zero Latin-1 bytes');
    const b = buckets[k]!;
    if (!Number.isInteger(b) || b < 0 || b > 7) throw new Error('teddy: buckets are 0 to 7');
    for (const [j, o] of literals.entries()) {
      if (j !== k && o.startsWith(l)) throw new Error('teddy: a literal is a prefix of another');
    }
  }
}

type Instance = { memory: { buffer: ArrayBuffer }; find: Find };

/** The relaxed-SIMD module where it validates, else the plain-SIMD one, else null. */
function instantiate(wasm: WasmApi | null, variants: readonly string[]): Instance | null {
  if (wasm === null) return null;
  for (const b64 of variants) {
    const instance = instantiateOne(wasm, b64);
    if (instance !== null) return instance;
  }
  return null;
}

function instantiateOne(wasm: WasmApi, b64: string): Instance | null {
  const exports = instantiateWasm(wasm, Buffer.from(b64, 'base64')) as Instance | null;
  return exports === null ? null : { memory: exports.memory, find: exports.find };
}
