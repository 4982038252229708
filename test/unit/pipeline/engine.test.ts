import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/model.ts';
import { createFingerprinter } from '../../../src/redaction/index.ts';
import { testEngine, text } from '../../helpers/engine.ts';
import { tempDir } from '../../helpers/temp.ts';
import {
  humanClaims,
  jweRsaOaep,
  jwsES256,
  jwsFlattened,
  jwsHS256,
  jwsRS256,
  k8sClaims,
  keys,
  NOW,
  unsecured,
} from '../../helpers/tokens.ts';

const fp = createFingerprinter(Buffer.alloc(32, 0x42), 'k1');
const PLACEHOLDER = /^JWTR~(jws|jwe|unsecured)~(mask|hash)~k1~[A-Za-z0-9_-]{22}(~[A-Za-z0-9_-]{22})?$/;
const tokenFindings = (fs: unknown[]) =>
  fs.filter((f) => (f as Finding).rule !== 'processing-error') as Finding[];

describe('placeholder grammar and actions', () => {
  it('masks a JWE with JWTR~jwe~mask~<keyid>~<fingerprint of the token>', async () => {
    const engine = await testEngine();
    const jwe = await jweRsaOaep('{"sub":"x"}');
    const r = await engine.processText(Buffer.from(`a ${jwe} b`), { kind: 'stdin' });
    expect(text(r.output)).toBe(`a JWTR~jwe~mask~k1~${fp.fingerprint(jwe)} b`);
    const [f] = tokenFindings(r.findings);
    expect(f!.token.fingerprint).toBe(`k1:${fp.fingerprint(jwe)}`);
    expect(f!.action).toBe('mask');
  });

  it('sanitizes a readable JWS: header kept, sensitive claims keyed-hashed, signature replaced', async () => {
    const engine = await testEngine();
    const claims = humanClaims();
    const t = await jwsRS256(claims);
    const r = await engine.processText(Buffer.from(`Bearer ${t}`), { kind: 'stdin' });
    const out = text(r.output).slice('Bearer '.length);
    const [h, p, sig] = out.split('.');
    expect(h).toBe(t.split('.')[0]);
    expect(sig).toBe(`JWTR~sanitized~k1~${fp.fingerprint(t)}`);
    const shown = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
    expect(shown.email).toBe(fp.claimHash('alice.liddell@example.com'));
    expect(shown.name).toBe(fp.claimHash('Alice Liddell'));
    expect(shown.sub).toBe(fp.claimHash('user-8842'));
    expect(shown.exp).toBe(claims.exp);
    expect(shown.iss).toBe(claims.iss);
    const [f] = tokenFindings(r.findings);
    expect(f!.action).toBe('sanitize');
    expect(f!.claims).toEqual(shown);
  });

  it('masks alg:none and weak-HMAC tokens as critical', async () => {
    const engine = await testEngine();
    const none = unsecured({ sub: 'a' });
    const weak = await jwsHS256({ sub: 'a', exp: NOW() + 60 }, 'secret');
    const r = await engine.processText(Buffer.from(`${none} ${weak}`), { kind: 'stdin' });
    const parts = text(r.output).split(' ');
    for (const p of parts) expect(p).toMatch(PLACEHOLDER);
    const fs = tokenFindings(r.findings);
    expect(fs.map((f) => f.severity)).toEqual(['critical', 'critical']);
    expect(fs[0]!.risks.map((x) => x.id)).toContain('alg-none');
    expect(fs[1]!.risks.map((x) => x.id)).toContain('weak-hmac-secret');
  });

  it('strict policy masks everything; audit-only leaves the record byte-identical and still reports', async () => {
    const t = await jwsRS256(k8sClaims());
    const strict = await testEngine(['strict']);
    const rs = await strict.processText(Buffer.from(t), { kind: 'stdin' });
    expect(text(rs.output)).toMatch(PLACEHOLDER);
    const audit = await testEngine(['audit-only']);
    const input = Buffer.from(`x ${t}`);
    const ra = await audit.processText(input, { kind: 'stdin' });
    expect(ra.changed).toBe(false);
    expect(ra.output).toBe(input);
    const [f] = tokenFindings(ra.findings);
    expect(f!.action).toBe('report');
    expect(f!.classification.identity).toBe('k8s-service-account');
    expect(JSON.stringify(f)).not.toContain('system:serviceaccount:payments:api-worker');
  });
});

describe('JSON serializations and wrapped forms are replaced in their own quoting', () => {
  let flat: Record<string, unknown>;
  beforeAll(async () => {
    flat = await jwsFlattened(JSON.stringify(humanClaims()));
  });

  it('as a JSON value: an object stays an object', async () => {
    const engine = await testEngine(['strict']);
    const doc = JSON.stringify({ a: 1, jws: flat, z: [true] });
    const r = await engine.processJson(Buffer.from(doc), { kind: 'file', name: 'x.json' });
    const out = JSON.parse(text(r.output));
    expect(out.a).toBe(1);
    expect(out.z).toEqual([true]);
    expect(Object.keys(out.jws)).toEqual(['jwtr']);
    expect(out.jws.jwtr).toMatch(PLACEHOLDER);
    expect(tokenFindings(r.findings)[0]!.source.pointer).toBe('/jws');
  });

  it('escaped inside a JSON string, percent-encoded, HTML-escaped', async () => {
    const engine = await testEngine(['strict']);
    const inner = JSON.stringify(flat);
    const cases = [
      {
        input: JSON.stringify({ msg: `got ${inner}` }),
        check: (o: string) => JSON.parse(JSON.parse(o).msg.slice(4)).jwtr,
      },
      {
        input: `q=${encodeURIComponent(inner)}&x=1`,
        check: (o: string) => JSON.parse(decodeURIComponent(o.slice(2, o.indexOf('&')))).jwtr,
      },
      {
        input: `<i v="${inner.replaceAll('"', '&quot;')}">`,
        check: (o: string) => JSON.parse(o.slice(6, -2).replaceAll('&quot;', '"')).jwtr,
      },
    ];
    for (const c of cases) {
      const r = await engine.processText(Buffer.from(c.input), { kind: 'stdin' });
      expect(c.check(text(r.output))).toMatch(PLACEHOLDER);
    }
  });

  it('base64-wrapped: the run is re-encoded, still valid base64, holding the placeholder', async () => {
    const engine = await testEngine(['strict']);
    const t = await jwsES256({ sub: 'x', exp: NOW() + 60 });
    const secretData = Buffer.from(t).toString('base64');
    const yaml = `apiVersion: v1\nkind: Secret\ndata:\n  token: ${secretData}\n  other: aGVsbG8=\n`;
    const r = await engine.processText(Buffer.from(yaml), { kind: 'file', name: 's.yaml' });
    const out = text(r.output);
    const m = /token: (\S+)\n {2}other: aGVsbG8=\n$/.exec(out);
    expect(m).not.toBeNull();
    expect(Buffer.from(m![1]!, 'base64').toString('utf8')).toMatch(PLACEHOLDER);
    const [f] = tokenFindings(r.findings);
    expect(f!.token.encoding).toEqual(['base64']);
    expect(f!.source.line).toBe(4);
  });

  it('base64 window inside a longer run keeps the rest of the run decodable at its alignment', async () => {
    const engine = await testEngine(['strict']);
    const t = await jwsES256({ sub: 'x' });
    const before = 'A'.repeat(30_000);
    const after = 'Z'.repeat(30_000);
    const blob = Buffer.from(`${before} ${t} ${after}`).toString('base64');
    const r = await engine.processText(Buffer.from(`b=${blob}`), { kind: 'stdin' });
    const decoded = Buffer.from(text(r.output).slice(2), 'base64').toString('latin1');
    expect(decoded.startsWith(`${before} JWTR~jws~mask~k1~`)).toBe(true);
    expect(decoded.endsWith(` ${after}`)).toBe(true);
    expect(decoded.includes(t)).toBe(false);
  });
});

describe('finding ids', () => {
  it('are the record key (sha256 of the source fields), the token offset and the fingerprint', async () => {
    const engine = await testEngine();
    const t = await jwsES256({ sub: 'x' });
    const source = { kind: 'kafka' as const, topic: 'in', partition: 2, offset: '41' };
    const r = await engine.processRecord(Buffer.from(`{"a":"${t}"}`), source);
    const [f] = tokenFindings(r.findings);
    const record = createHash('sha256')
      .update(JSON.stringify(['kafka', undefined, undefined, 'in', 2, '41', undefined, undefined]))
      .digest('base64url')
      .slice(0, 16);
    const fingerprint = f!.token.fingerprint;
    const short = fingerprint.slice(fingerprint.indexOf(':') + 1, fingerprint.indexOf(':') + 9);
    expect(f!.id).toBe(`${record}-${(6).toString(36)}-${short}`);
  });
});

describe('sources, lines and pointers', () => {
  it('line numbers count from source.line', async () => {
    const engine = await testEngine();
    const t = await jwsES256({ sub: 'x' });
    const r = await engine.processText(Buffer.from(`a\nb\n${t}\nc ${t}\n`), {
      kind: 'file',
      name: 'f.log',
      line: 10,
    });
    expect(tokenFindings(r.findings).map((f) => f.source.line)).toEqual([12, 13]);
  });

  it('line numbers stay exact across long runs of lines between tokens (counted in bulk)', async () => {
    const engine = await testEngine();
    const t = await jwsES256({ sub: 'x' });
    // An empty first line; gaps of 0, 1, 7 and 3,000 lines, short and 300 bytes long; an empty line
    // before a token.
    const filler = (n: number, width: number) => `${'y'.repeat(width)}\n`.repeat(n);
    const text = `\n${t}\n${t} ${t}\n${filler(1, 5)}${t}\n${filler(7, 300)}\n${t}\n${filler(3000, 300)}x ${t}\n`;
    const r = await engine.processText(Buffer.from(text), { kind: 'file', name: 'f.log', line: 5 });
    expect(tokenFindings(r.findings).map((f) => f.source.line)).toEqual([6, 7, 7, 9, 18, 3019]);
  });

  it('JSON pointers escape ~ and /, and never show a token held in a key', async () => {
    const engine = await testEngine();
    const t = await jwsES256({ sub: 'x' });
    const doc = JSON.stringify({ 'a/b': { 'c~d': [0, t] }, [t]: 'v' });
    const r = await engine.processJson(Buffer.from(doc), {
      kind: 'kafka',
      topic: 'logs',
      partition: 2,
      offset: '7',
    });
    const fs = tokenFindings(r.findings);
    expect(fs.map((f) => f.source.pointer)).toEqual(['/a~1b/c~0d/1', '']);
    expect(JSON.stringify(r.findings)).not.toContain(t.split('.')[2]!);
    expect(text(r.output)).not.toContain(t);
    expect(() => JSON.parse(text(r.output))).not.toThrow();
  });

  it('processRecord picks JSON for JSON and text for the rest', async () => {
    const engine = await testEngine();
    const t = await jwsES256({ sub: 'x' });
    const j = await engine.processRecord(Buffer.from(JSON.stringify({ k: t })), { kind: 'kafka' });
    expect(tokenFindings(j.findings)[0]!.source.pointer).toBe('/k');
    const x = await engine.processRecord(Buffer.from(`{"k": ${t}`), { kind: 'kafka' });
    expect(tokenFindings(x.findings)[0]!.source.line).toBe(1);
  });

  it('processRecordNow answers at once without a token, with a promise with one; results as processRecord', async () => {
    const engine = await testEngine();
    const t = await jwsES256({ sub: 'x' });
    const source = { kind: 'kafka' as const, topic: 'in', partition: 0, offset: '1' };
    const clean = Buffer.from('{"msg":"nothing to see here, no token at all"}');
    const now = engine.processRecordNow(clean, source);
    expect(now).not.toBeInstanceOf(Promise);
    expect(now).toEqual({ output: clean, findings: [], changed: false });
    const big = Buffer.from(`${t} ${'x'.repeat(engine.policy.limits.maxRecordBytes)}`);
    const tooLarge = engine.processRecordNow(big, source);
    expect(tooLarge).not.toBeInstanceOf(Promise);
    expect((tooLarge as Awaited<typeof tooLarge>).findings.map((f) => f.rule)).toEqual(['processing-error']);
    const withToken = Buffer.from(JSON.stringify({ k: t }));
    const later = engine.processRecordNow(withToken, source);
    expect(later).toBeInstanceOf(Promise);
    const a = await later;
    const b = await engine.processRecord(withToken, source);
    expect(text(a.output)).toBe(text(b.output));
    expect(a.findings.map((f) => f.id)).toEqual(b.findings.map((f) => f.id));
    expect(tokenFindings(a.findings)[0]!.source.pointer).toBe('/k');
  });
});

describe('fail closed (R6)', () => {
  it('a record above max_record_bytes is masked, never passed', async () => {
    const engine = await testEngine();
    const t = await jwsES256({ sub: 'x' });
    const big = Buffer.from(`${t} ${'x'.repeat(engine.policy.limits.maxRecordBytes)}`);
    const r = await engine.processText(big, { kind: 'kafka' });
    expect('failed' in r).toBe(true);
    expect(text(r.output)).not.toContain(t.split('.')[1]!);
    expect(r.findings[0]!.rule).toBe('processing-error');
  });
});

describe('chunked redaction', () => {
  it('finds tokens across chunk boundaries at every split point, output identical to one-shot', async () => {
    const engine = await testEngine(['strict']);
    const t = await jwsRS256(k8sClaims());
    const input = Buffer.from(`${'x '.repeat(20_000)}${t}\n${'y'.repeat(50_000)} ${t} end\n`);
    const whole = await engine.processText(input, { kind: 'stdin' });
    for (const size of [1, 7, 100, 4096, 65536]) {
      if (size === 1 && input.length > 100_000) continue;
      const c = engine.createChunkRedactor({ kind: 'stdin' });
      const outs: Uint8Array[] = [];
      for (let o = 0; o < input.length; o += size) outs.push(await c.push(input.subarray(o, o + size)));
      outs.push(await c.end());
      expect(text(Buffer.concat(outs))).toBe(text(whole.output));
      expect(c.takeFindings().map((f) => (f as Finding).source.line)).toEqual([1, 2]);
    }
  });
});

describe('chunked redaction of the longest tokens, wrapped twice', () => {
  it('a token near max_token_length in base64 in base64 is found across every chunk split', async () => {
    const engine = await testEngine(['default']);
    // Claims padded so that the compact token is just under the default 16 KiB limit.
    const small = await jwsRS256({ ...k8sClaims(), note: '' });
    const t = await jwsRS256({
      ...k8sClaims(),
      note: 'n'.repeat(Math.floor(((16_384 - 64 - small.length) * 3) / 4)),
    });
    expect(t.length).toBeGreaterThan(16_000);
    expect(t.length).toBeLessThanOrEqual(16_384);
    const twice = Buffer.from(Buffer.from(t).toString('base64')).toString('base64');
    const input = Buffer.from(`${'x '.repeat(30_000)}data: ${twice}\n`);
    const whole = await engine.processText(input, { kind: 'stdin' });
    expect(tokenFindings(whole.findings)).toHaveLength(1);
    const decodedTwice = (s: string) =>
      (s.match(/[A-Za-z0-9+/=]{64,}/g) ?? [])
        .map((run) => Buffer.from(Buffer.from(run, 'base64').toString('latin1'), 'base64').toString('latin1'))
        .join(' ');
    // Sanitized (default policy): the header stays, the claims and the signature do not.
    const [header, claims, signature] = t.split('.') as [string, string, string];
    expect(decodedTwice(text(whole.output))).toContain(`${header}.`);
    expect(decodedTwice(text(whole.output))).not.toContain(claims.slice(0, 40));
    expect(decodedTwice(text(whole.output))).not.toContain(signature.slice(0, 40));
    for (const size of [4096, 16_384, 65_536]) {
      for (const shift of [0, 1, 2, 3]) {
        const c = engine.createChunkRedactor({ kind: 'stdin' });
        const outs: Uint8Array[] = [];
        outs.push(await c.push(input.subarray(0, shift)));
        for (let o = shift; o < input.length; o += size) outs.push(await c.push(input.subarray(o, o + size)));
        outs.push(await c.end());
        expect(text(Buffer.concat(outs))).toBe(text(whole.output));
        expect(tokenFindings(c.takeFindings())).toHaveLength(1);
      }
    }
  });
});

describe('JWE decryption with a user JWK set', () => {
  it('decrypts, then classifies the content; nested JWS inside JWE is judged', async () => {
    const k = await keys();
    const jwk = { ...(await exportJWK(k.rsaOaep.privateKey)), alg: 'RSA-OAEP-256', kid: 'dec-1' };
    const dir = tempDir('jwtr-');
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [jwk] }));
    const engine = await testEngine(['default'], file);
    const inner = await jwsRS256(k8sClaims());
    const nested = await jweRsaOaep(inner, { cty: 'JWT' });
    const r = await engine.processText(Buffer.from(nested), { kind: 'stdin' });
    const [f] = tokenFindings(r.findings);
    expect(f!.token.nested).toBe(true);
    expect(f!.inner?.classification.identity).toBe('k8s-service-account');
    expect(text(r.output)).toMatch(PLACEHOLDER);
    const claims = await jweRsaOaep(JSON.stringify(humanClaims()));
    const r2 = await engine.processText(Buffer.from(claims), { kind: 'stdin' });
    expect(tokenFindings(r2.findings)[0]!.claims.email).toBe(fp.claimHash('alice.liddell@example.com'));
  });
});

describe('defence in depth (R1)', () => {
  it('a token inside a kept claim or a kept header member is hashed in findings and sanitized output', async () => {
    const engine = await testEngine();
    const innerToken = await jwsES256({ sub: 'inner' });
    const t = await jwsRS256(
      { iss: `https://issuer.example.com/${innerToken}`, scope: `read ${innerToken}`, exp: NOW() + 600 },
      { kid: innerToken },
    );
    const r = await engine.processText(Buffer.from(t), { kind: 'stdin' });
    const all = text(r.output) + JSON.stringify(r.findings);
    expect(all).not.toContain(innerToken);
    expect(all).not.toContain(Buffer.from(innerToken).toString('base64url').slice(0, 40));
    const again = await engine.processText(r.output, { kind: 'stdin' });
    expect(again.findings).toEqual([]);
  });
});

describe('processLines (JSONL blocks)', () => {
  it('one text scan; JSON lines get pointers, other lines only lines; output equals processText', async () => {
    const engine = await testEngine();
    const t = await jwsES256({ sub: 'x' });
    const block = Buffer.from(
      `${JSON.stringify({ a: { b: [t] } })}\nplain ${t}\n{"broken": ${t}\n${JSON.stringify({ c: t })}`,
    );
    const r = await engine.processLines(block, { kind: 'file', name: 'x.jsonl', line: 5 });
    expect(tokenFindings(r.findings).map((f) => [f.source.line, f.source.pointer])).toEqual([
      [5, '/a/b/0'],
      [6, undefined],
      [7, undefined],
      [8, '/c'],
    ]);
    const asText = await engine.processText(block, { kind: 'file', name: 'x.jsonl', line: 5 });
    expect(text(r.output)).toBe(text(asText.output));
  });
});
