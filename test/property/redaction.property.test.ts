// The redaction contract (SPEC section 3) over thousands of random inputs:
// R1 no replayable token or its parts leave, R2 no sensitive claim value in clear,
// R4 bytes outside redacted spans are unchanged and a line stays a line,
// R5 a re-scan of the output finds nothing and changes nothing, R7 no collateral.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnyFinding } from '../../src/model.ts';
import type { FullEngine } from '../../src/pipeline/index.ts';
import { testEngine, text } from '../helpers/engine.ts';
import {
  humanClaims,
  jweRsaOaep,
  jwsFlattened,
  jwsGeneral,
  jwsHS256,
  jwsRS256,
  k8sClaims,
  NOW,
  unsecured,
} from '../helpers/tokens.ts';

const SENSITIVE = [
  'alice.liddell@example.com',
  'Alice Liddell',
  'user-8842',
  'system:serviceaccount:payments:api-worker',
  '5f8a3c2e-1d4b-4e6f-8a9b-0c1d2e3f4a5b',
];

interface Planted {
  /** The token as it sits in text (compact) or its JSON text. */
  text: string;
  /** Pieces that must never appear in any output: the whole token, signatures, ciphertexts. */
  secrets: string[];
  json: boolean;
}

let engine: FullEngine;
let pool: Planted[];

function compactSecrets(t: string): string[] {
  const parts = t.split('.');
  // every part of 16+ characters after the header is secret material (signature, key, iv, ciphertext, tag) or a payload
  return [t, ...parts.slice(1).filter((p) => p.length >= 16)];
}

function jsonSecrets(o: Record<string, unknown>): string[] {
  const out: string[] = [JSON.stringify(o)];
  const visit = (v: unknown, key: string) => {
    if (
      typeof v === 'string' &&
      ['signature', 'ciphertext', 'tag', 'encrypted_key', 'payload', 'iv'].includes(key) &&
      v.length >= 16
    )
      out.push(v);
    else if (Array.isArray(v)) for (const x of v) visit(x, key);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  visit(o, '');
  return out;
}

beforeAll(async () => {
  engine = await testEngine();
  const now = NOW();
  const compact = [
    await jwsRS256(k8sClaims(now)),
    await jwsRS256(humanClaims(now)),
    await jwsRS256({ ...humanClaims(now), exp: now - 3600 }),
    await jwsHS256({ sub: 'user-8842', exp: now + 600 }, 'secret'),
    await jwsHS256({ sub: 'user-8842', email: 'alice.liddell@example.com' }),
    unsecured({ sub: 'user-8842', name: 'Alice Liddell' }),
    await jweRsaOaep(JSON.stringify(humanClaims(now))),
    await jwsRS256({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:acme/app:ref:refs/heads/main',
      aud: 'sts.amazonaws.com',
      exp: now + 600,
      actor: 'Alice Liddell',
    }),
  ];
  const json = [
    await jwsFlattened(JSON.stringify(humanClaims(now))),
    await jwsGeneral(JSON.stringify(k8sClaims(now))),
  ];
  pool = [
    ...compact.map((t) => ({ text: t, secrets: compactSecrets(t), json: false })),
    ...json.map((o) => ({ text: JSON.stringify(o), secrets: jsonSecrets(o), json: true })),
  ];
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Each base64 run of 16+ characters of `s`, decoded (either alphabet). */
const decodedRuns = (s: string) =>
  [...s.matchAll(/[A-Za-z0-9+/_-]{16,}={0,2}/g)].map((m) =>
    Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1'),
  );

/** Ways a token sits in a line; `wrap` returns the planted text. */
const WRAPPERS: { name: string; json: boolean; wrap(t: string): string }[] = [
  { name: 'raw', json: true, wrap: (t) => t },
  { name: 'bearer', json: false, wrap: (t) => `Authorization: Bearer ${t}` },
  { name: 'cookie', json: false, wrap: (t) => `Cookie: a=1; session=${t}` },
  { name: 'query', json: false, wrap: (t) => `/cb?state=x&id_token=${t}&y=1` },
  { name: 'percent', json: true, wrap: (t) => `q=${encodeURIComponent(`"${t}"`)}` },
  {
    name: 'json-escaped',
    json: true,
    wrap: (t) => JSON.stringify(JSON.stringify({ v: t.startsWith('{') ? JSON.parse(t) : t })),
  },
  { name: 'html', json: true, wrap: (t) => `value="${`"${t}"`.replaceAll('"', '&quot;')}"` },
  { name: 'base64', json: true, wrap: (t) => `data: ${Buffer.from(`token ${t}`).toString('base64')}` },
  {
    name: 'base64-in-base64',
    json: true,
    wrap: (t) => `data: ${b64(`k: ${b64(`token ${t}`)}`)}`,
  },
  {
    name: 'dockerconfigjson',
    json: false,
    wrap: (t) =>
      `.dockerconfigjson: ${b64(JSON.stringify({ auths: { 'r.azurecr.io': { auth: b64(`00000000-0000-0000-0000-000000000000:${t}`) } } }))}`,
  },
];

// Filler never holds token material: no base64 alphabet runs that could meet a needle.
const filler = fc.string({
  unit: fc.constantFrom(
    ' ',
    'a',
    'b',
    'z',
    '1',
    '=',
    ':',
    ';',
    ',',
    '(',
    ')',
    '[',
    ']',
    '<',
    '>',
    '!',
    '?',
    '*',
    '|',
    '/',
    '\t',
    'é',
    '→',
  ),
  maxLength: 40,
});

const plant = fc.record({ token: fc.nat(), wrapper: fc.nat(), before: filler });

function allFindingsText(findings: AnyFinding[]): string {
  return JSON.stringify(findings);
}

function assertNoLeak(out: string, findings: AnyFinding[], planted: Planted[]) {
  const f = allFindingsText(findings);
  for (const p of planted) {
    for (const s of p.secrets) {
      expect(out.includes(s)).toBe(false);
      expect(f.includes(s)).toBe(false);
      expect(out.includes(Buffer.from(s).toString('base64'))).toBe(false);
      // nor one or two base64 layers down
      const one = decodedRuns(out);
      for (const l of [...one, ...one.flatMap(decodedRuns)]) expect(l.includes(s)).toBe(false);
    }
  }
  for (const v of SENSITIVE) {
    expect(out.includes(v)).toBe(false);
    expect(f.includes(v)).toBe(false);
  }
}

describe('redaction contract on random lines with planted tokens', () => {
  it('R1 R2 R4 R5 hold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(plant, { minLength: 1, maxLength: 4 }), filler, async (plants, tail) => {
        const planted: Planted[] = [];
        let line = '';
        const fillers: string[] = [];
        for (const p of plants) {
          const candidates = WRAPPERS.filter((w) => w.json || !pool[p.token % pool.length]!.json);
          const w = candidates[p.wrapper % candidates.length]!;
          const tok = pool[p.token % pool.length]!;
          planted.push(tok);
          fillers.push(p.before);
          line += `${p.before} ${w.wrap(tok.text)} `;
        }
        line += tail;
        const input = Buffer.from(line);
        const r = await engine.processText(input, { kind: 'stdin', name: 't' });
        const out = text(r.output);
        // R1, R2
        assertNoLeak(out, r.findings, planted);
        // R4: a line stays one line and every filler piece survives, in order
        expect(out.includes('\n')).toBe(false);
        let pos = 0;
        for (const f of [...fillers, tail]) {
          const at = out.indexOf(f, pos);
          expect(at).toBeGreaterThanOrEqual(pos);
          pos = at + f.length;
        }
        expect(r.findings.filter((x) => x.rule !== 'processing-error').length).toBeGreaterThanOrEqual(
          plants.length,
        );
        // R5: idempotent, no exposure reported
        const again = await engine.processText(r.output, { kind: 'stdin', name: 't' });
        expect(again.findings).toEqual([]);
        expect(again.changed).toBe(false);
      }),
      { numRuns: 1500 },
    );
  });

  it('R7: a line without tokens comes out byte-identical', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), async (s, bytes) => {
        for (const input of [Buffer.from(s), Buffer.from(bytes)]) {
          const r = await engine.processText(input, { kind: 'stdin' });
          expect(r.changed).toBe(false);
          expect(Buffer.compare(Buffer.from(r.output), input)).toBe(0);
          expect(r.findings).toEqual([]);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('redaction contract on random JSON documents', () => {
  const shape = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(shape);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('jwtr' in o || 'signature' in o || 'signatures' in o) return 'TOKEN';
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, shape(x)]));
    }
    return typeof v === 'string' &&
      (v.includes('JWTR~') || v.includes('"signature') || v.split('.').length >= 3)
      ? 'TOKEN'
      : v;
  };

  it('stays valid JSON of the same shape; R1 R2 R5; untouched values unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ maxDepth: 4 }),
        fc.array(
          fc.record({ path: fc.array(fc.nat(), { maxLength: 4 }), token: fc.nat(), asObject: fc.boolean() }),
          { maxLength: 4 },
        ),
        fc.boolean(),
        async (base, plants, pretty) => {
          const planted: Planted[] = [];
          const root: Record<string, unknown> = { base, plants: [] };
          for (const p of plants) {
            const tok = pool[p.token % pool.length]!;
            planted.push(tok);
            (root.plants as unknown[]).push({
              at: p.path,
              value: tok.json && p.asObject ? JSON.parse(tok.text) : tok.text,
            });
          }
          const doc = JSON.stringify(root, null, pretty ? 2 : undefined);
          const r = await engine.processJson(Buffer.from(doc), {
            kind: 'kafka',
            topic: 't',
            partition: 0,
            offset: '1',
          });
          const out = text(r.output);
          const parsed = JSON.parse(out) as Record<string, unknown>;
          const original = JSON.parse(doc) as Record<string, unknown>;
          expect(shape(parsed)).toEqual(shape(original));
          expect(parsed.base).toEqual(original.base);
          // R4: the document up to the first token is byte-identical
          expect(out.slice(0, out.indexOf('"plants"'))).toBe(doc.slice(0, doc.indexOf('"plants"')));
          assertNoLeak(out, r.findings, planted);
          for (const f of r.findings)
            if (f.rule !== 'processing-error') expect(f.source.pointer).toMatch(/^\/plants\/\d+\/value/);
          const again = await engine.processJson(r.output, { kind: 'kafka' });
          expect(again.findings).toEqual([]);
          expect(again.changed).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
