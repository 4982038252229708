import { describe, expect, it } from 'vitest';
import { scan, type TokenItem, tokensOf } from '../../../src/detection/index.ts';
import { vectors } from '../../helpers/corpus.ts';
import {
  compactDetachedHS256,
  humanClaims,
  jweDir,
  jweRsaOaep,
  jwsES256,
  jwsFlattened,
  jwsGeneral,
  jwsRS256,
  unsecured,
} from '../../helpers/tokens.ts';

const tokens = (text: string | Buffer): TokenItem[] =>
  tokensOf(scan(typeof text === 'string' ? Buffer.from(text) : text).items);

// Three cookbook "general" JWE examples (5.5, 5.6, curve25519 ECDH-ES) carry no `recipients`
// member and are byte-identical to their flattened twins. RFC 7516 section 7.2.1 makes
// `recipients` REQUIRED in the general syntax, so the object is a flattened JWE: we report json_flat.
const INDISTINGUISHABLE = new Set([
  'rfc7520-5.5-json',
  'rfc7520-5.6-json',
  'cookbook-curve25519-ecdh-es-json',
]);

describe('JOSE conformance vectors', () => {
  const rows = vectors();
  it('has all 83 vectors', () => expect(rows).toHaveLength(83));

  for (const v of rows) {
    const text = typeof v.value === 'string' ? v.value : JSON.stringify(v.value);
    const serialization = INDISTINGUISHABLE.has(v.id) ? 'json_flat' : v.expect.serialization;
    const check = (input: string, expectedText: string) => {
      const found = tokens(input);
      expect(found).toHaveLength(1);
      const t = found[0]!;
      expect([t.kind, t.serialization]).toEqual([v.expect.kind, serialization]);
      expect(input.slice(t.start, t.end)).toBe(expectedText);
    };
    it(`${v.id}: standing alone`, () => check(text, text));
    it(`${v.id}: inside a log line`, () => {
      const line = `2026-11-28T10:00:00Z INFO auth ok token=${text}, user=42`;
      check(line, text);
    });
    if (typeof v.value !== 'string') {
      it(`${v.id}: as a value deep in a JSON document`, () => {
        const doc = JSON.stringify(
          { request: { headers: [{ n: 1 }, { jose: v.value, other: 'x' }] } },
          null,
          2,
        );
        const found = tokens(doc);
        expect(found).toHaveLength(1);
        expect([found[0]!.kind, found[0]!.serialization]).toEqual([v.expect.kind, serialization]);
        expect(JSON.parse(doc.slice(found[0]!.start, found[0]!.end))).toEqual(v.value);
      });
      it(`${v.id}: as escaped JSON text inside a JSON string`, () => {
        const doc = JSON.stringify({ message: `received ${JSON.stringify(v.value)} from client` });
        const found = tokens(doc);
        expect(found).toHaveLength(1);
        expect(found[0]!.encoding).toEqual(['json-escape']);
        expect([found[0]!.kind, found[0]!.serialization]).toEqual([v.expect.kind, serialization]);
      });
    }
  }
});

describe('exact boundaries (SPEC section 2)', () => {
  it('a trailing - or _ belongs to the token; \\ & . , ) " do not', async () => {
    let t = await jwsRS256(humanClaims());
    // force a signature ending in - or _ by construction
    t = `${t.slice(0, -2)}-_`;
    for (const after of ['\\', '&', '.', ',', ')', '"', ' ', '\n', '<', '|']) {
      const found = tokens(`x=${t}${after}rest`);
      expect(found.map((f) => f.token)).toEqual([t]);
    }
  });

  it('finds a token right after %22, %20 and %3D (no \\b anchoring)', async () => {
    const t = await jwsES256({ sub: 'a' });
    for (const before of ['%22', '%20', '%3D', '%2522', '\\"', '\\u0022', '&quot;', 'Bearer ', 'DPoP ']) {
      const found = tokens(`${before}${t}%22`);
      expect(found.map((f) => f.token)).toEqual([t]);
    }
    expect(tokens(`q=%22${t}%22`)[0]!.encoding).toEqual(['percent']);
    expect(tokens(`{\\"t\\":\\"${t}\\"}`)[0]!.encoding).toEqual(['json-escape']);
    expect(tokens(`&quot;${t}&quot;`)[0]!.encoding).toEqual(['html-entity']);
  });

  it('reports the HTTP context', async () => {
    const t = await jwsES256({ sub: 'a' });
    expect(tokens(`Authorization: Bearer ${t}`)[0]!.context).toBe('bearer');
    expect(tokens(`DPoP ${t}`)[0]!.context).toBe('dpop');
    expect(tokens(`Cookie: a=b; session=${t}`)[0]!.context).toBe('cookie');
    expect(tokens(`GET /cb?state=1&id_token=${t} HTTP/1.1`)[0]!.context).toBe('query');
    expect(tokens(`grant_type=x&assertion=${t}`)[0]!.context).toBe('form');
  });

  it('header whitespace variants and = padding', () => {
    const b64u = (s: string, pad = false) => {
      const e = Buffer.from(s).toString('base64url');
      return pad ? e + '='.repeat((4 - (e.length % 4)) % 4) : e;
    };
    for (const header of [
      '{"alg":"HS256"}',
      '{ "alg":"HS256"}',
      '{\n"alg":"HS256"}',
      '{\r\n "alg":"HS256"}',
      ' {"alg":"HS256"}',
      '\n{"alg":"HS256"}',
      '\t{"alg":"HS256"}',
      '\r\n{"alg":"HS256"}',
    ]) {
      for (const pad of [false, true]) {
        const t = `${b64u(header, pad)}.${b64u('{"sub":"x"}', pad)}.${b64u('0123456789abcdef0123456789abcdef', pad)}`;
        const found = tokens(`before ${t} after`);
        expect(
          found.map((f) => f.token),
          `${JSON.stringify(header)} pad=${pad}`,
        ).toEqual([t]);
      }
    }
  });

  it('unsecured, detached and JWE shapes', async () => {
    const u = unsecured({ sub: 'x' });
    expect(tokens(`t=${u} next`).map((f) => [f.kind, f.token])).toEqual([['unsecured', u]]);
    const d = await compactDetachedHS256();
    expect(tokens(`sig=${d};`).map((f) => [f.kind, f.token])).toEqual([['jws', d]]);
    const e = await jweRsaOaep('hello');
    expect(tokens(`${e}.`).map((f) => [f.kind, f.token])).toEqual([['jwe', e]]);
    const dir = await jweDir('hello');
    expect(dir.split('.')[1]).toBe('');
    expect(tokens(`(${dir})`).map((f) => [f.kind, f.token])).toEqual([['jwe', dir]]);
  });

  it('JSON serializations made by jose', async () => {
    const flat = await jwsFlattened('{"sub":"x"}');
    const general = await jwsGeneral('{"sub":"x"}');
    expect(tokens(JSON.stringify({ a: flat })).map((f) => f.serialization)).toEqual(['json_flat']);
    expect(tokens(JSON.stringify({ a: general })).map((f) => f.serialization)).toEqual(['json']);
    expect(tokens(`log: ${JSON.stringify(general)} end`).map((f) => f.serialization)).toEqual(['json']);
    const pct = encodeURIComponent(JSON.stringify(flat));
    const found = tokens(`GET /x?jws=${pct} HTTP/1.1`);
    expect(found.map((f) => [f.serialization, f.encoding])).toEqual([['json_flat', ['percent']]]);
    const html = JSON.stringify(flat).replaceAll('"', '&quot;');
    expect(tokens(`<input value="${html}">`).map((f) => [f.serialization, f.encoding])).toEqual([
      ['json_flat', ['html-entity']],
    ]);
  });

  it('several tokens in one line, each exact', async () => {
    const a = await jwsRS256({ sub: 'a' });
    const b = unsecured({ sub: 'b' });
    const c = await jweRsaOaep('c');
    const line = `a=${a}&b=${b} c:"${c}"`;
    expect(tokens(line).map((f) => line.slice(f.start, f.end))).toEqual([a, b, c]);
  });
});

describe('wrapped forms', () => {
  it('base64 of a token (Kubernetes Secret data), each alignment, std and url alphabets', async () => {
    const t = await jwsRS256(humanClaims());
    for (const prefix of ['', 'x', 'xy', 'Bearer ']) {
      for (const alphabet of ['base64', 'base64url'] as const) {
        const enc = Buffer.from(`${prefix}${t}`).toString(alphabet);
        const found = tokens(`data:\n  token: ${enc}\n`);
        expect(
          found.map((f) => f.token),
          `${prefix}/${alphabet}`,
        ).toEqual([t]);
        // The alphabet shows only when the text holds + / (std) or - _ (url); otherwise std is assumed.
        expect(found[0]!.encoding[0]).toBe(/[-_]/.test(enc) ? 'base64url' : 'base64');
      }
    }
  });

  it('JSON-escaped JSON serialization inside base64', async () => {
    const flat = await jwsFlattened('{"sub":"x"}');
    const body = Buffer.from(JSON.stringify({ msg: JSON.stringify(flat) })).toString('base64');
    const found = tokens(`body=${body}`);
    expect(found.map((f) => [f.serialization, f.encoding])).toEqual([
      ['json_flat', ['base64', 'json-escape']],
    ]);
  });
});

describe('near misses are not findings', () => {
  it.each([
    ['base64 JSON without dots', Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')],
    ['dotted identifiers', 'com.example.service.Handler.handle'],
    [
      'dotted base64 whose header is not JOSE',
      `${Buffer.from('{"foo":"bar"}').toString('base64url')}.${Buffer.from('{"a":1}').toString('base64url')}.c2ln`,
    ],
    ['truncated token: header cut', 'eyJhbGciOiJIUzI1NiIsInR5cCI6Ikp.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig'],
    [
      'header and payload only',
      `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"a":1}').toString('base64url')}`,
    ],
    [
      'JWE with wrong IV length',
      `${Buffer.from('{"alg":"dir","enc":"A128GCM"}').toString('base64url')}..AAAA.AAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA`,
    ],
    ['JSON with signature but no header', '{"payload":"x","signature":"abc"}'],
    ['version strings', 'v1.2.3 eyJ.eyJ.eyJ'],
  ])('%s', (_name, text) => {
    expect(tokens(`${text} and more`)).toEqual([]);
  });
});

describe('hostile input stays linear and fails closed', () => {
  it('a token longer than the limit is masked as suspect, not passed', async () => {
    const t = await jwsES256({ sub: 'x', pad: 'A'.repeat(30_000) });
    const r = scan(Buffer.from(`x ${t} y`));
    expect(r.items.map((i) => i.type)).toEqual(['suspect']);
    expect(r.items[0]!.start).toBe(2);
    expect(r.items[0]!.end).toBe(2 + t.length);
  });

  it('many decoy header candidates in one segment become a suspect span', () => {
    const decoy = 'eyJ9'.repeat(200);
    const r = scan(Buffer.from(`${decoy}eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2ln`));
    expect(r.items.length).toBe(1);
    expect(['suspect', 'token']).toContain(r.items[0]!.type);
  });

  it('runs of eyJ, dots and base64 produce nothing and finish', () => {
    expect(scan(Buffer.from('eyJ'.repeat(100_000))).items).toEqual([]);
    expect(scan(Buffer.from('.'.repeat(300_000))).items).toEqual([]);
    expect(scan(Buffer.from('eyJhbGciOiJIUzI1NiJ9.'.repeat(10_000))).budgetExceeded).toBe(false);
  });
});
