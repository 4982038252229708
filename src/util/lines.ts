// Counting line ends (LF bytes). Buffer#indexOf finds each one in a native call of its own: fast for
// long lines, but about one call per line (a 1 GiB JSONL export is ~2 million calls, and a text of
// short lines far more). Where WebAssembly SIMD runs, the bytes are copied into a small module's
// memory in pieces of PIECE bytes and counted there, 16 at a time (i8x16.eq against LF, the lane
// results summed into per-lane byte counters, widened to i32 lanes every 255 blocks of 16); a short
// input keeps the indexOf loop. Elsewhere (no WebAssembly, or no SIMD) the indexOf loop is used.
//
// The module, assembled below at load (no build step), in the text format:
//   (module (memory (export "memory") 1 1)
//     (func (export "count") (param $len i32) (result i32) ...))  ;; LF bytes in memory[0, $len)

import {
  block,
  br,
  br_if,
  end,
  GLOBAL_WASM,
  get,
  I32,
  i32c,
  instantiateWasm,
  loop,
  name,
  section,
  set,
  simd,
  tee,
  uleb,
  V128,
  vec,
} from './wasm.ts';

/** Bytes counted per copy into the module's memory (its one page). */
const PIECE = 1 << 16;
/** Below this many bytes the indexOf loop is used (copy and call cost more than they save). */
const MIN_WASM = 256;

/** Number of LF bytes in `buf`: exact, for any bytes. */
export function countNewlines(buf: Uint8Array): number {
  if (buf.length < MIN_WASM) return countNewlinesIndexOf(buf);
  const counter = wasmCounter();
  return counter === null ? countNewlinesIndexOf(buf) : counter(buf);
}

/** The same count by Buffer#indexOf, one native call per line end (also the fallback). */
export function countNewlinesIndexOf(buf: Uint8Array): number {
  let n = 0;
  let i = buf.indexOf(0x0a);
  while (i !== -1) {
    n++;
    i = buf.indexOf(0x0a, i + 1);
  }
  return n;
}

type Counter = (buf: Uint8Array) => number;

/** The WebAssembly counter, or null where it cannot run (instantiated on first use). */
let counter: Counter | null | undefined;

export function wasmCounter(): Counter | null {
  if (counter === undefined) counter = createCounter();
  return counter;
}

function createCounter(): Counter | null {
  if (GLOBAL_WASM === undefined) return null;
  const exports = instantiateWasm(GLOBAL_WASM, assembleCounter()) as {
    memory: { buffer: ArrayBuffer };
    count: (len: number) => number;
  } | null;
  if (exports === null) return null;
  // The memory never grows, so this view stays valid.
  const mem = new Uint8Array(exports.memory.buffer, 0, PIECE);
  const count = exports.count;
  return (buf) => {
    let n = 0;
    for (let a = 0; a < buf.length; a += PIECE) {
      const piece = buf.subarray(a, Math.min(buf.length, a + PIECE));
      mem.set(piece);
      n += count(piece.length);
    }
    return n;
  };
}

// The assembler's shared helpers are in wasm.ts; these are the instructions only this module uses.
const i32 = { add: [0x6a], and: [0x71], eq: [0x46], ltU: [0x49], geU: [0x4f], load8U: [0x2d, 0, 0] };
const select = [0x1b];
const v128 = { load: simd(0x00, 0, 0), zero: simd(0x0c, ...new Array<number>(16).fill(0)) };
const i8x16 = { splat: simd(0x0f), eq: simd(0x23), sub: simd(0x71) };
const i16x8 = { extaddPairwiseI8x16U: simd(0x7d) };
const i32x4 = {
  extaddPairwiseI16x8U: simd(0x7f),
  add: simd(0xae),
  extractLane: (k: number) => simd(0x1b, k),
};

// Locals: the parameter, then the declared ones (4 x i32, 3 x v128).
const LEN = 0;
const I = 1; // position
const END16 = 2; // $len rounded down to a multiple of 16
const STOP = 3; // end of the current run of at most 255 blocks
const TOTAL = 4;
const ACC = 5; // v128: per lane, LF bytes of the current run (at most 255)
const SUM = 6; // v128: per i32 lane, LF bytes so far
const LF = 7; // v128: ten in every lane
const RUN = 255 * 16;

function body(): number[] {
  // biome-ignore format: indented as an instruction listing
  return [
    ...i32c(0x0a), ...i8x16.splat, ...set(LF),
    ...get(LEN), ...i32c(-16), ...i32.and, ...set(END16),
    ...block, ...loop, // runs of up to 255 blocks of 16 bytes
      ...get(I), ...get(END16), ...i32.geU, ...br_if(1),
      // STOP = min(I + RUN, END16)
      ...get(I), ...i32c(RUN), ...i32.add, ...tee(STOP), ...get(END16),
      ...get(STOP), ...get(END16), ...i32.ltU, ...select, ...set(STOP),
      ...v128.zero, ...set(ACC),
      ...loop, // ACC -= (block == LF): a lane of eq is 0 or -1
        ...get(ACC), ...get(I), ...v128.load, ...get(LF), ...i8x16.eq, ...i8x16.sub, ...set(ACC),
        ...get(I), ...i32c(16), ...i32.add, ...tee(I), ...get(STOP), ...i32.ltU, ...br_if(0),
      ...end,
      ...get(SUM), ...get(ACC), ...i16x8.extaddPairwiseI8x16U, ...i32x4.extaddPairwiseI16x8U,
      ...i32x4.add, ...set(SUM),
      ...br(0),
    ...end, ...end,
    ...get(SUM), ...i32x4.extractLane(0), ...get(SUM), ...i32x4.extractLane(1), ...i32.add,
    ...get(SUM), ...i32x4.extractLane(2), ...i32.add, ...get(SUM), ...i32x4.extractLane(3), ...i32.add,
    ...set(TOTAL),
    ...block, ...loop, // the last $len % 16 bytes, one at a time
      ...get(I), ...get(LEN), ...i32.geU, ...br_if(1),
      ...get(TOTAL), ...get(I), ...i32.load8U, ...i32c(0x0a), ...i32.eq, ...i32.add, ...set(TOTAL),
      ...get(I), ...i32c(1), ...i32.add, ...set(I),
      ...br(0),
    ...end, ...end,
    ...get(TOTAL),
    ...end,
  ];
}

/** The module's bytes. Exported for tests. */
export function assembleCounter(): Uint8Array {
  const locals = vec([
    [4, I32],
    [3, V128],
  ]);
  const func = [...locals, ...body()];
  const pages = PIECE / 65536;
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, 1, I32, 1, I32]])), // type 0: (i32) -> i32
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(5, vec([[0x01, pages, pages]])), // memory: min = max = pages
    ...section(
      7,
      vec([
        [...name('memory'), 0x02, 0],
        [...name('count'), 0x00, 0],
      ]),
    ),
    ...section(10, vec([[...uleb(func.length), ...func]])),
  ]);
}
