// Base64 in base64 (MAX_BASE64_DEPTH = 2): a token two base64 layers down is found, with both
// layers in its encoding list and the outer run as its span, and redacted through both layers;
// a third layer is not unwrapped (the documented bound) and breaks nothing around it.
import { beforeAll, describe, expect, it } from 'vitest';
import { scan, tokensOf } from '../../../src/detection/index.ts';
import { prefilterInUse, usePrefilter } from '../../../src/detection/scanner.ts';
import { testEngine, text } from '../../helpers/engine.ts';
import { jwsES256, jwsRS256, k8sClaims, NOW } from '../../helpers/tokens.ts';

type Alphabet = 'std' | 'url';

function enc(s: string, alphabet: Alphabet, padded: boolean): string {
  const b = Buffer.from(s, 'latin1');
  const t = alphabet === 'std' ? b.toString('base64') : b.toString('base64url');
  const bare = t.replace(/=+$/, '');
  return padded ? bare + '='.repeat((4 - (bare.length % 4)) % 4) : bare;
}

/** The scanner's rule: text holding '-' or '_' is base64url, anything else standard base64. */
const layerOf = (s: string) => (/[-_]/.test(s) ? 'base64url' : 'base64');

const UUID = '00000000-0000-0000-0000-000000000000';

let jwt: string;
let es: string;
beforeAll(async () => {
  jwt = await jwsRS256(k8sClaims());
  es = await jwsES256({ sub: 'registry', exp: NOW() + 600 });
});

/** Every base64 run of 16+ characters in `s`, decoded (both alphabets), as latin1. */
function decodeRuns(s: string): string[] {
  return [...s.matchAll(/[A-Za-z0-9+/_-]{16,}={0,2}/g)].map((m) =>
    Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1'),
  );
}

/** The text, each base64 run of it decoded, and each run of those decoded: all three layers. */
function layers(s: string): string[] {
  const one = decodeRuns(s);
  return [s, ...one, ...one.flatMap(decodeRuns)];
}

describe.each([true, false])('base64 in base64 (prefilter %s)', (wasm) => {
  beforeAll(() => {
    usePrefilter(wasm);
    return () => usePrefilter(true);
  });

  it('uses the path it names', () => {
    expect(prefilterInUse()).toBe(wasm);
  });

  it('b64(b64(jwt)): std and url, padded and unpadded, every alignment of both layers in a longer line', () => {
    for (const outerAlphabet of ['std', 'url'] as const)
      for (const innerAlphabet of ['std', 'url'] as const)
        for (const padded of [true, false])
          for (let shift = 0; shift < 3; shift++)
            for (let innerShift = 0; innerShift < 3; innerShift++)
              for (const lead of ['', 'a', 'ab', 'abc']) {
                const innerText = `${'#'.repeat(innerShift)}${jwt}`;
                const inner = enc(innerText, innerAlphabet, padded);
                const outer = enc(`${': '.slice(0, shift)}${inner}`, outerAlphabet, padded);
                const prefix = `${lead} secret=`;
                const line = `${prefix}${outer} rest of the line`;
                const r = scan(Buffer.from(line));
                expect(r.budgetExceeded).toBe(false);
                const found = tokensOf(r.items).map((t) => ({
                  kind: t.kind,
                  encoding: t.encoding,
                  start: t.start,
                  end: t.end,
                  token: t.token,
                }));
                expect(found).toEqual([
                  {
                    kind: 'jws',
                    encoding: [layerOf(outer), layerOf(inner)],
                    start: prefix.length,
                    end: prefix.length + outer.length,
                    token: jwt,
                  },
                ]);
              }
  });

  it('a kubernetes.io/dockerconfigjson Secret whose auth is base64 of user:JWT (ACR shape)', () => {
    const auth = Buffer.from(`${UUID}:${es}`).toString('base64');
    const config = JSON.stringify({ auths: { 'example.azurecr.io': { auth } } });
    const data = Buffer.from(config).toString('base64');
    const head =
      'apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: ';
    const yaml = `${head}${data}\n`;
    const found = tokensOf(scan(Buffer.from(yaml)).items);
    expect(found.map((t) => [t.kind, t.encoding, t.start, t.end, t.token])).toEqual([
      ['jws', ['base64', 'base64'], head.length, head.length + data.length, es],
    ]);
  });

  it('the same Secret with the password beside auth: both found, at depth 1 and depth 2', () => {
    const auth = Buffer.from(`${UUID}:${es}`).toString('base64');
    const config = JSON.stringify({
      auths: { 'example.azurecr.io': { username: UUID, password: es, auth } },
    });
    const data = Buffer.from(config).toString('base64');
    const found = tokensOf(scan(Buffer.from(`  .dockerconfigjson: ${data}`)).items);
    expect(found.map((t) => [t.encoding, t.context, t.token])).toEqual([
      [['base64'], 'json', es],
      [['base64', 'base64'], 'text', es],
    ]);
  });

  it('a third layer is not unwrapped (the bound), and the tokens around it are still found', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const three = b64(b64(b64(jwt)));
    for (const maxBase64Depth of [2, 3, 5]) {
      const r = scan(Buffer.from(`a ${three} b`), { maxBase64Depth });
      // Nothing found and the budget kept. Not `work: 0`: the thrice-encoded text is random base64,
      // and a needle turns up in it by chance (16 of 3,000 random tokens, each with work 2214), which
      // failed CI once.
      expect(r.items).toEqual([]);
      expect(r.budgetExceeded).toBe(false);
    }
    const line = `x ${b64(b64(es))} ${three} ${es} ${b64(es)}`;
    const found = tokensOf(scan(Buffer.from(line)).items);
    expect(found.map((t) => [t.encoding, t.start, t.token])).toEqual([
      [['base64', 'base64'], 2, es],
      [[], line.indexOf(` ${es} `) + 1, es],
      [['base64'], line.lastIndexOf(' ') + 1, es],
    ]);
  });

  it('a token deep inside a long outer run: windows cut at any alignment of the inner run', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    for (let extra = 0; extra < 4; extra++) {
      const inner = b64(`${'A'.repeat(40_000 + extra)} ${jwt} ${'Z'.repeat(40_000)}`);
      const outer = b64(`k: ${inner}`);
      const found = tokensOf(scan(Buffer.from(`x ${outer}`)).items);
      expect(found.map((t) => [t.encoding, t.token])).toEqual([[['base64', 'base64'], jwt]]);
      // the window is a part of the run, aligned to its quanta
      expect((found[0]!.start - 2) % 4).toBe(0);
      expect(found[0]!.end - found[0]!.start).toBeLessThan(outer.length);
    }
  });

  it('maxBase64Depth 1 keeps the old behaviour: base64 in base64 is not looked into', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(tokensOf(scan(Buffer.from(`a ${b64(b64(jwt))} b`), { maxBase64Depth: 1 }).items)).toEqual([]);
    expect(
      tokensOf(scan(Buffer.from(`a ${b64(jwt)} b`), { maxBase64Depth: 1 }).items).map((t) => t.token),
    ).toEqual([jwt]);
  });
});

describe('redaction through two layers', () => {
  it('the engine output holds the token in no layer, and both layers still decode', async () => {
    const engine = await testEngine(['strict']);
    const lines: string[] = [];
    for (const alphabet of ['std', 'url'] as const)
      for (const padded of [true, false])
        for (let shift = 0; shift < 3; shift++)
          lines.push(
            `v${shift}: ${enc(`${': '.slice(0, shift)}${enc(jwt, alphabet, padded)}`, alphabet, padded)}`,
          );
    const auth = Buffer.from(`${UUID}:${es}`).toString('base64');
    lines.push(
      `  .dockerconfigjson: ${Buffer.from(JSON.stringify({ auths: { 'r.azurecr.io': { auth } } })).toString('base64')}`,
    );
    const long = Buffer.from(`${'A'.repeat(40_001)} ${jwt} ${'Z'.repeat(40_000)}`).toString('base64');
    lines.push(`x: ${Buffer.from(`k: ${long}`).toString('base64')}`);
    for (const line of lines) {
      const input = Buffer.from(`${line}\n`);
      const r = await engine.processText(input, { kind: 'stdin' });
      const out = text(r.output);
      expect(out).not.toBe(input.toString());
      const all = layers(out);
      for (const t of [jwt, es]) {
        for (const l of all) expect(l.includes(t)).toBe(false);
        for (const l of all) expect(l.includes(t.slice(0, 40))).toBe(false);
      }
      // the placeholder is there, two layers down
      expect(all.some((l) => /JWTR~jws~(mask|hash)~k1~/.test(l))).toBe(true);
      expect(r.findings.filter((f) => (f as { rule?: string }).rule !== 'processing-error')).toHaveLength(1);
    }
  });
});
