// The scanner's base64 needles must be what base64 makes of `"alg"`'s base64 at every alignment.
import { describe, expect, it } from 'vitest';
import { scan, tokensOf } from '../../../src/detection/index.ts';

const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Characters of base64(x) fully determined by `needle` when it sits at byte alignment a. */
function determined(needle: string, a: number): string {
  const b: (number | null)[] = [...Array<null>(a).fill(null), ...[...needle].map((c) => c.charCodeAt(0))];
  while (b.length % 3) b.push(null);
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const x = b[i] ?? null;
    const y = b[i + 1] ?? null;
    const z = b[i + 2] ?? null;
    const c = [
      x === null ? null : x >> 2,
      x === null || y === null ? null : ((x & 3) << 4) | (y >> 4),
      y === null || z === null ? null : ((y & 15) << 2) | (z >> 6),
      z === null ? null : z & 63,
    ];
    for (const v of c) s += v === null ? '?' : A[v];
  }
  return s.replace(/^\?+|\?+$/g, '');
}

describe('needles', () => {
  it('the nine base64 needles are substrings of the determined encodings', () => {
    const cores = ['JhbGci', 'ImFsZy', 'iYWxnI'].flatMap((n) => [0, 1, 2].map((a) => determined(n, a)));
    expect(cores).toEqual([
      'SmhiR2Np',
      'poYkdja',
      'KaGJHY2',
      'SW1Gc1p5',
      'ltRnNae',
      'JbUZzWn',
      'aVlXeG5J',
      'lZV3huS',
      'pWVd4bk',
    ]);
  });

  it('the 27 base64-in-base64 needles are substrings of what base64 makes of the nine, at each alignment', () => {
    const level1 = ['JhbGci', 'ImFsZy', 'iYWxnI'].flatMap((n) => [0, 1, 2].map((a) => determined(n, a)));
    const level2 = level1.flatMap((n) => [0, 1, 2].map((a) => determined(n, a)));
    // the scanner's b64b64 needles (src/detection/scanner.ts), in this order
    const needles = [
      '1oaVIy',
      'aGlSMk',
      'bWhpUj',
      '9Za2Rq',
      'WWtkam',
      'b1lrZG',
      'S2FHSk',
      'R0pIWT',
      'YUdKSF',
      'U1cxR2',
      'XMUdjM',
      'TVzFHY',
      'bHRSbk',
      'Um5OYW',
      'sdFJuT',
      'VWnpXb',
      'VVp6V2',
      'lVaeld',
      'VZsWGV',
      'bFhlRz',
      'VmxYZU',
      'WM2h1U',
      'aVjNod',
      'YzaHVT',
      'WZDRia',
      'VmQ0Ym',
      'V1ZkNG',
    ];
    expect(level2).toHaveLength(27);
    for (const [k, n] of needles.entries()) {
      expect(level2[k]).toContain(n);
      // alphanumeric: the same text in the standard and the URL alphabet
      expect(n).toMatch(/^[A-Za-z0-9]{6}$/);
    }
  });

  it('the base64-in-base64 needles cover "alg" at every alignment of both layers', () => {
    for (const pad of ['', ' ', '  ']) {
      const header = Buffer.from(`{${pad}"alg":"HS256"}`).toString('base64url');
      const t = `${header}.${Buffer.from('{"a":1}').toString('base64url')}.c2lnbmF0dXJlX2J5dGVzXzAxMjM0NTY3`;
      for (let shift = 0; shift < 3; shift++)
        for (let outer = 0; outer < 3; outer++) {
          const inner = Buffer.from(`${'#'.repeat(shift)}${t}`).toString('base64');
          const wrapped = Buffer.from(`${'#'.repeat(outer)}${inner}`).toString('base64');
          const found = tokensOf(scan(Buffer.from(`v: ${wrapped}`)).items);
          expect(found.map((i) => [i.token, i.encoding])).toEqual([[t, ['base64', 'base64']]]);
        }
    }
  });

  it('the three alg needles cover "alg" at each alignment of a header', () => {
    for (const pad of ['', ' ', '  ']) {
      const header = Buffer.from(`{${pad}"alg":"HS256"}`).toString('base64url');
      const t = `${header}.${Buffer.from('{"a":1}').toString('base64url')}.c2lnbmF0dXJlX2J5dGVzXzAxMjM0NTY3`;
      expect(tokensOf(scan(Buffer.from(`x ${t} y`)).items).map((i) => i.token)).toEqual([t]);
      for (let shift = 0; shift < 3; shift++) {
        const wrapped = Buffer.from(`${'#'.repeat(shift)}${t}`).toString('base64');
        expect(tokensOf(scan(Buffer.from(`v: ${wrapped}`)).items).map((i) => i.token)).toEqual([t]);
      }
    }
  });
});
