// Line-end counting (src/util/lines.ts): countNewlines (WebAssembly SIMD in pieces) against the
// indexOf loop it replaced, in the same process, over 64 MiB cut into blocks of BLOCK bytes (the
// batch scan's block is 256 KiB), on JSONL-like lines (300-1000 bytes), short lines (0-19 bytes),
// no line end at all, and nothing but line ends. Median of 7 timed passes after 3 untimed ones.
// Blocks are Buffers, as the scan's are (PLAIN=1: plain Uint8Arrays, whose indexOf is V8's, not Node's).
// Run: node test/bench/lines.bench.ts   (BLOCK=65536 for other block sizes)
import { loadavg } from 'node:os';
import { countNewlines, countNewlinesIndexOf, wasmCounter } from '../../src/util/lines.ts';

const SIZE = 64 * 1024 * 1024;
const BLOCK = Number(process.env.BLOCK ?? 256 * 1024);

function input(kind: string): Uint8Array {
  const b = Buffer.alloc(SIZE);
  const bytes = process.env.PLAIN === '1' ? new Uint8Array(b.buffer, b.byteOffset, SIZE) : b;
  let s = 1;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
  if (kind === 'all LF') return bytes.fill(0x0a);
  if (kind === 'no LF') return bytes.fill(0x61);
  const [min, spread] = kind === 'JSONL' ? [300, 700] : [0, 20];
  for (let p = 0; p < SIZE; ) {
    const len = min + (next() % spread);
    b.fill(0x61, p, Math.min(SIZE, p + len));
    if (p + len < SIZE) b[p + len] = 0x0a;
    p += len + 1;
  }
  return bytes;
}

function mbPerSecond(buf: Uint8Array, count: (b: Uint8Array) => number): number {
  const pass = () => {
    let n = 0;
    for (let o = 0; o < buf.length; o += BLOCK) n += count(buf.subarray(o, o + BLOCK));
    return n;
  };
  for (let w = 0; w < 3; w++) pass();
  const times: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    pass();
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  times.sort((a, b) => a - b);
  return buf.length / 1e6 / times[3]!;
}

console.log(
  `line-end count, ${BLOCK}-byte blocks of 64 MiB (${process.env.PLAIN === '1' ? 'Uint8Array' : 'Buffer'}; WebAssembly counter: ${wasmCounter() === null ? 'unavailable' : 'in use'}; load ${loadavg()[0]!.toFixed(2)})`,
);
console.log('input      lines/MiB   indexOf MB/s  countNewlines MB/s  ratio');
for (const kind of ['JSONL', 'short', 'no LF', 'all LF']) {
  const buf = input(kind);
  const expected = countNewlinesIndexOf(buf);
  if (countNewlines(buf) !== expected) throw new Error(`count differs on ${kind}`);
  const before = mbPerSecond(buf, countNewlinesIndexOf);
  const after = mbPerSecond(buf, countNewlines);
  console.log(
    `${kind.padEnd(10)} ${String(Math.round(expected / 64)).padStart(9)} ${before.toFixed(0).padStart(14)} ${after.toFixed(0).padStart(19)} ${(after / before).toFixed(2).padStart(6)}x`,
  );
}
