/** Number of LF bytes in `buf` (native search, no per-byte loop in JS). */
export function countNewlines(buf: Uint8Array): number {
  let n = 0;
  let i = buf.indexOf(0x0a);
  while (i !== -1) {
    n++;
    i = buf.indexOf(0x0a, i + 1);
  }
  return n;
}
