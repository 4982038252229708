// Linear time without timing: the scanner counts the bytes it decodes and parses around hits.
// For hostile families of inputs, that work grows in proportion to the input (never more than
// the budget of 64 units a byte), so doubling the input at most doubles the work.
import { describe, expect, it } from 'vitest';
import { scan } from '../../../src/detection/index.ts';

const header = Buffer.from('{"alg":"HS256"}').toString('base64url');
// the scanner's 27 base64-in-base64 needles, back to back
const B64B64_NEEDLES =
  '1oaVIyaGlSMkbWhpUj9Za2RqWWtkamb1lrZGS2FHSkR0pIWTYUdKSFU1cxR2XMUdjMTVzFHYbHRSbkUm5OYWsdFJuTVWnpXbVVp6V2lVaeldVZsWGVbFhlRzVmxYZUWM2h1UaVjNodYzaHVTWZDRiaVmQ0YmV1ZkNG';
const FAMILIES: Record<string, (n: number) => string> = {
  'runs of eyJ': (n) => 'eyJ'.repeat(n / 3),
  'runs of dots': (n) => '.'.repeat(n),
  'base64 without dots': (n) =>
    Buffer.alloc((n * 3) / 4, 0x5a)
      .toString('base64')
      .slice(0, n),
  'headers and dots': (n) => `${header}.`.repeat(n / (header.length + 1)),
  'decoy header starts then a header': (n) => `${'eyJ9'.repeat(n / 8)}${header}.e30.c2ln`,
  'signature keys without objects': (n) => '"signature"'.repeat(n / 11),
  'nested braces before signature keys': (n) => `${'{'.repeat(n / 2)}${'"signature":"x",'.repeat(n / 32)}`,
  'escaped signature keys': (n) => '{\\"signature\\":\\"x\\",'.repeat(n / 22),
  'base64 of headers': (n) => Buffer.from(`${header}.`.repeat(n / 24)).toString('base64'),
  'alg needles everywhere': (n) => 'JhbGciImFsZyiYWxnI.'.repeat(n / 19),
  // base64 in base64 (two layers are unwrapped): each outer hit decodes a window 4/3 wider
  'base64 of base64 of headers': (n) =>
    Buffer.from(Buffer.from(`${header}.`.repeat(n / 32)).toString('base64'))
      .toString('base64')
      .slice(0, n),
  'base64-in-base64 needles, short runs': (n) =>
    `${B64B64_NEEDLES.match(/.{1,30}/g)!.join('.')}.`.repeat(n / (B64B64_NEEDLES.length + 6)),
};

describe('scan work is linear in the input', () => {
  for (const [name, make] of Object.entries(FAMILIES)) {
    it(name, () => {
      const small = Buffer.from(make(64_000));
      const large = Buffer.from(make(256_000));
      const a = scan(small);
      const b = scan(large);
      expect(a.budgetExceeded).toBe(false);
      expect(b.budgetExceeded).toBe(false);
      expect(b.work).toBeLessThanOrEqual(64 * large.length);
      // 4x the input: at most 4x the work, plus slack for the fixed-size windows at the edges
      expect(b.work).toBeLessThanOrEqual(4 * a.work + 4 * 65_536);
    });
  }
});

describe('needles back to back in one long base64 run', () => {
  // Every hit decodes a window and finds nothing, so such a run costs a window per needle: the
  // budget stops it and the record fails closed (R6). Depth 1 needles did so before depth 2.
  const L1 = 'R2NpYkdjaKaGJHY2W1Gc1pRnNaeUZzWnVlXeG5JV3huSWVd4bk';
  for (const [name, unit] of [
    ['base64 needles', L1],
    ['base64-in-base64 needles', B64B64_NEEDLES],
  ] as const) {
    it(`${name}: work stops at the budget (plus one window), the scan fails closed`, () => {
      for (const n of [64_000, 256_000]) {
        const buf = Buffer.from(unit.repeat(Math.floor(n / unit.length)));
        const r = scan(buf);
        expect(r.budgetExceeded).toBe(true);
        expect(r.work).toBeGreaterThan(64 * buf.length);
        expect(r.work).toBeLessThanOrEqual(64 * buf.length + 65_536 + 65_536);
      }
    });
  }
});
