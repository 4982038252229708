// The scanner with and without the WebAssembly prefilter: same items, spans, budget and work on
// random text built from tokens, their base64, JSON serializations and needle fragments.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { scan } from '../../../src/detection/index.ts';
import { prefilterInUse, usePrefilter } from '../../../src/detection/scanner.ts';
import { jweRsaOaep, jwsFlattened, jwsGeneral, jwsHS256, unsecured } from '../../helpers/tokens.ts';

function both(buf: Buffer, options: Parameters<typeof scan>[1] = {}) {
  usePrefilter(false);
  try {
    const indexOf = scan(buf, options);
    usePrefilter(true);
    return { indexOf, teddy: scan(buf, options) };
  } finally {
    usePrefilter(true);
  }
}

let pieces: string[];

beforeAll(async () => {
  const hs = await jwsHS256({ sub: 'u-1', iat: 1 });
  const none = unsecured({ sub: 'u-2' });
  const jwe = await jweRsaOaep('{"sub":"e"}');
  const flat = JSON.stringify(await jwsFlattened('{"sub":"f"}'));
  const general = JSON.stringify(await jwsGeneral('{"sub":"g"}'));
  pieces = [
    hs,
    none,
    jwe,
    flat,
    general,
    JSON.stringify(flat), // escaped JSON serialization
    encodeURIComponent(hs),
    Buffer.from(hs).toString('base64'),
    Buffer.from(` ${hs}`).toString('base64'),
    Buffer.from(`  ${jwe}`).toString('base64url'),
    Buffer.from(Buffer.from(hs).toString('base64')).toString('base64'),
    hs.slice(0, 30),
    hs.slice(5),
    'Bearer ',
    'token=',
    '"signature":',
    '"ciphertext":"',
    'eyJ',
    'bGci',
    'ImFsZy',
    'YWxnI',
    'gnature',
    'hertext',
    'R2Np',
    'UZzWn',
    'WVd4bk',
    'KaGJHY2',
    '.',
    '..',
    '"',
    '%',
    '&',
    '=',
    ' ',
    '\n',
    'abcXYZ09+/-_',
  ];
});

describe('scanner prefilter', () => {
  it('is in use on this Node (WebAssembly SIMD available)', () => {
    expect(prefilterInUse()).toBe(true);
  });

  it('usePrefilter(false) switches to the indexOf path and back', () => {
    usePrefilter(false);
    expect(prefilterInUse()).toBe(false);
    usePrefilter(true);
    expect(prefilterInUse()).toBe(true);
  });

  it('same result with and without it on random concatenations of tokens and fragments', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 3 }),
        (picks, depth) => {
          const buf = Buffer.from(picks.map((p) => pieces[p % pieces.length]!).join(''));
          const { indexOf, teddy } = both(buf, { maxBase64Depth: depth });
          expect(teddy).toEqual(indexOf);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('same result, including where the budget runs out', () => {
    const buf = Buffer.from(`${'eyJhbGciOiJIUzI1NiJ9.'.repeat(20000)} ${pieces[0]} ${pieces[3]}`);
    for (const workPerByte of [0, 1, 4, 64]) {
      const { indexOf, teddy } = both(buf, { workPerByte });
      expect(teddy).toEqual(indexOf);
    }
    expect(both(buf, { workPerByte: 0 }).teddy.budgetExceeded).toBe(true);
  });

  it('a needle running from a gap into a compact token is no hit of the gap (same work)', () => {
    // "signatur" + a token starting with its "e": `gnature` straddles the token's start.
    const token = pieces[0]!;
    expect(token.startsWith('e')).toBe(true);
    const buf = Buffer.from(`{"x": "signatur${token}", "signature": 1}`);
    const { indexOf, teddy } = both(buf);
    expect(teddy).toEqual(indexOf);
    expect(teddy.items.map((i) => [i.start, i.end])).toEqual([[15, 15 + token.length]]);
  });

  it('same result across the 64 KiB pieces the prefilter copies', () => {
    const filler = 'x'.repeat(65536 - 10);
    const buf = Buffer.from(`${filler}${pieces[0]} ${filler} ${pieces[3]} ${pieces[7]}`);
    const { indexOf, teddy } = both(buf);
    expect(teddy).toEqual(indexOf);
    expect(teddy.items).toHaveLength(3);
  });
});
