import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWeakSecrets, WeakSecretChecker } from '../../../src/classification/weak-secrets.ts';
import { ConfigError } from '../../../src/util/errors.ts';
import { craft, decode, fresh, rules, sign } from './fixtures.ts';

function signing(token: string) {
  const d = decode(token);
  return d.signing!;
}

describe('weak-secrets.txt', () => {
  it('ships at least 300 distinct secrets, including the empty one', () => {
    expect(rules().weakSecrets.size).toBeGreaterThanOrEqual(300);
    const s = signing(craft({ alg: 'HS256' }, { sub: 'x' }, ''));
    expect(rules().weakSecrets.check('HS256', s.input, s.signature)).toBe(true);
  });

  it('parses literal lines, JSON strings, base64 bytes, and skips comments', () => {
    const got = parseWeakSecrets(
      '# c\n\nplain text \r\n""\n"#hash"\n" sp "\nbase64:AAEC\nbase64:-_8\n',
      'w.txt',
    );
    expect(got.map((b) => Buffer.from(b).toString('hex'))).toEqual([
      Buffer.from('plain text ').toString('hex'),
      '',
      Buffer.from('#hash').toString('hex'),
      Buffer.from(' sp ').toString('hex'),
      '000102',
      'fbff',
    ]);
  });

  it('names file and line of a bad entry', () => {
    expect(() => parseWeakSecrets('ok\n"unterminated\n', 'w.txt')).toThrow(ConfigError);
    expect(() => parseWeakSecrets('ok\n"unterminated\n', 'w.txt')).toThrow(/^w\.txt:2, field secret: /);
    expect(() => parseWeakSecrets('base64:not base64!\n', 'w.txt')).toThrow(/w\.txt:1/);
  });
});

describe('WeakSecretChecker', () => {
  const secrets = ['alpha', 'bravo', 'x'.repeat(200)].map((s) => Buffer.from(s));
  const checker = new WeakSecretChecker(secrets, { cacheSize: 2, maxInputBytes: 4096 });

  it('matches createHmac for every alg, including secrets longer than the hash block', async () => {
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      for (const secret of ['alpha', 'x'.repeat(200)]) {
        const s = signing(await sign(fresh({ sub: alg }), { alg }, secret));
        expect(checker.check(alg, s.input, s.signature), `${alg} ${secret.length}`).toBe(true);
      }
      const s = signing(await sign(fresh({ sub: alg }), { alg }, randomBytes(64)));
      expect(checker.check(alg, s.input, s.signature)).toBe(false);
    }
  });

  it('does not check a signature of the wrong length or an oversized input', () => {
    const input = Buffer.from('a.b');
    expect(checker.check('HS256', input, new Uint8Array(31))).toBeUndefined();
    expect(checker.check('HS512', input, new Uint8Array(32))).toBeUndefined();
    const big = Buffer.alloc(5000, 97);
    expect(checker.check('HS256', big, createHmac('sha256', 'alpha').update(big).digest())).toBeUndefined();
  });

  it('keeps a bounded cache of verdicts', () => {
    const c = new WeakSecretChecker(secrets, { cacheSize: 2 });
    for (let i = 0; i < 5; i++) {
      const input = Buffer.from(`h.p${i}`);
      c.check('HS256', input, createHmac('sha256', 'bravo').update(input).digest());
    }
    expect(c.cached).toBe(2);
    const input = Buffer.from('h.p4');
    expect(c.check('HS256', input, createHmac('sha256', 'bravo').update(input).digest())).toBe(true);
    expect(c.check('HS256', input, createHmac('sha256', 'charlie').update(input).digest())).toBe(false);
  });

  it('measures the check of one HS256 token against the shipped list', async () => {
    const file = new URL('../../../patterns/weak-secrets.txt', import.meta.url);
    const list = parseWeakSecrets(readFileSync(file, 'utf8'), 'weak-secrets.txt');
    const shipped = new WeakSecretChecker(list, { cacheSize: 100_000 });
    // Realistic access tokens (~500 bytes of signing input), each under a random (unlisted)
    // secret: the worst case, every secret is tried.
    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        sign(accessClaims(i), { alg: 'HS256', typ: 'JWT' }, randomBytes(32)).then(signing),
      ),
    );
    for (const t of tokens.slice(0, 20)) shipped.check('HS256', t.input, t.signature); // warm up
    let start = process.hrtime.bigint();
    for (const t of tokens.slice(20)) expect(shipped.check('HS256', t.input, t.signature)).toBe(false);
    const missUs = Number(process.hrtime.bigint() - start) / 1000 / (tokens.length - 20);

    const rounds = 20_000;
    start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) {
      const t = tokens[i % tokens.length]!;
      shipped.check('HS256', t.input, t.signature);
    }
    const hitUs = Number(process.hrtime.bigint() - start) / 1000 / rounds;

    // The straightforward loop, for comparison: one createHmac per secret.
    const sample = tokens[0]!;
    start = process.hrtime.bigint();
    for (let i = 0; i < 20; i++)
      for (const secret of list) createHmac('sha256', secret).update(sample.input).digest();
    const naiveUs = Number(process.hrtime.bigint() - start) / 1000 / 20;

    console.log(
      `weak-secret check, ${shipped.size} secrets, ${sample.input.length}-byte signing input: ` +
        `${missUs.toFixed(0)} us per new token (createHmac loop: ${naiveUs.toFixed(0)} us), ` +
        `${hitUs.toFixed(2)} us per cached token`,
    );
    expect(missUs).toBeLessThan(naiveUs * 1.2); // margin for a noisy machine; typically 2-3x faster
    expect(hitUs).toBeLessThan(50);
  });
});

function accessClaims(i: number) {
  return fresh({
    iss: 'https://auth.example.com/realms/acme',
    sub: `f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0${String(i).padStart(2, '0')}`,
    aud: ['billing-api', 'orders-api'],
    azp: 'web-frontend',
    scope: 'openid profile email orders:read orders:write',
    sid: `aaaaaaaa-1111-4222-8333-bbbbbbbbbb${String(i).padStart(2, '0')}`,
    email: `user${i}@example.com`,
    name: 'Test User',
    realm_access: { roles: ['default-roles-acme', 'offline_access'] },
  });
}
