// Pins the full analysis of representative tokens (finding body, decision, replacements) so that
// performance work on the analyzer provably changes nothing: the snapshot was written by the
// analyzer before that work. Tokens are built at test time (craft: deterministic bytes; jose:
// random signatures, so the token's own fingerprint is checked and then written as <FP>).
import { describe, expect, it } from 'vitest';
import { loadClassificationRules } from '../../../src/classification/index.ts';
import { scan, type TokenItem, tokensOf } from '../../../src/detection/index.ts';
import type { JsonObject } from '../../../src/model.ts';
import { createAnalyzer } from '../../../src/pipeline/analyze.ts';
import { loadPolicy } from '../../../src/policy/index.ts';
import { createFingerprinter } from '../../../src/redaction/index.ts';
import { jweRsaOaep, jwsES256, jwsFlattened, jwsRS256 } from '../../helpers/tokens.ts';
import { craft, NOW, NOW_S } from '../classification/fixtures.ts';

const rules = loadClassificationRules();
const fp = createFingerprinter(Buffer.alloc(32, 0x42), 'k1');
const policies = ['default', 'strict'] as const;

const k8s: JsonObject = {
  aud: ['https://kubernetes.default.svc.cluster.local'],
  exp: NOW_S + 3600,
  iat: NOW_S - 60,
  iss: 'https://kubernetes.default.svc.cluster.local',
  nbf: NOW_S - 60,
  sub: 'system:serviceaccount:payments:api-worker',
  'kubernetes.io': {
    namespace: 'payments',
    pod: { name: 'api-worker-7d9c', uid: '2b9c7e4e-0b7f-4a4f-9d31-2f1c8f0a1b2c' },
    serviceaccount: { name: 'api-worker', uid: '5f8a3c2e-1d4b-4e6f-8a9b-0c1d2e3f4a5b' },
  },
  jti: 'k-1',
};
const human: JsonObject = {
  iss: 'https://login.example.com/',
  sub: 'user-8842',
  aud: 'web-app',
  exp: NOW_S + 900,
  iat: NOW_S,
  email: 'alice.liddell@example.com',
  name: 'Alice Liddell',
  scope: 'openid profile email',
  jti: 'h-1',
};
const gha: JsonObject = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:acme/app:ref:refs/heads/main',
  aud: 'sts.amazonaws.com',
  exp: NOW_S + 600,
  iat: NOW_S,
  repository: 'acme/app',
  run_id: '17',
  event_name: 'pull_request_target',
  ref_protected: 'false',
};

/** Deterministic tokens: every byte follows from the arguments. */
const crafted: Record<string, string> = {
  'k8s bound, RS256': craft({ alg: 'RS256', typ: 'JWT', kid: 'abc' }, k8s),
  'human, RS256': craft({ alg: 'RS256', typ: 'JWT' }, human),
  'github actions, ES256, fork trigger': craft({ alg: 'ES256' }, gha),
  'HS256, strong secret': craft(
    { alg: 'HS256', typ: 'JWT' },
    { sub: 'svc-1', exp: NOW_S + 600, iat: NOW_S },
    'x'.repeat(40),
  ),
  'HS256, weak secret': craft({ alg: 'HS256', typ: 'JWT' }, { sub: 'svc-2', exp: NOW_S + 600 }, 'secret'),
  'HS384, weak secret': craft({ alg: 'HS384' }, { sub: 'svc-3' }, 'password'),
  'HS512, strong secret': craft({ alg: 'HS512' }, { sub: 'svc-4', iat: NOW_S }, 'y'.repeat(90)),
  unsecured: craft({ alg: 'none' }, { sub: 'u-1', iat: NOW_S }),
  'expired, long-lived, privileged': craft(
    { alg: 'RS256' },
    {
      iss: 'https://login.example.com/',
      sub: 'admin-1',
      exp: NOW_S - 10,
      iat: NOW_S - 400 * 86_400,
      scope: 'openid admin:all *',
      roles: ['admin', 'reader'],
      groups: ['ops'],
    },
  ),
  'header tricks': craft(
    {
      alg: 'RS256',
      kid: '../../etc/passwd',
      jku: 'https://evil.example/jwks',
      x5u: 'https://evil.example/x5',
      x5c: ['MIIB', 'MIIC'],
      jwk: { kty: 'RSA', n: 'abc', e: 'AQAB', kid: 'k' },
      crit: ['exp2'],
      custom: 'value',
      obj: { a: 1 },
    },
    { sub: 'x', aud: 'y', exp: NOW_S + 60 },
  ),
  'b64 false': craft({ alg: 'HS256', b64: false, crit: ['b64'] }, 'raw payload'),
  'dpop proof without typ': craft(
    { alg: 'ES256' },
    { htm: 'POST', htu: 'https://api.example.com/x', iat: NOW_S, jti: 'j' },
  ),
  'at+jwt typed id token': craft(
    { alg: 'RS256', typ: 'at+jwt' },
    { iss: 'https://idp.example.com', sub: 'u', aud: 'c', nonce: 'n', exp: NOW_S + 60, iat: NOW_S },
  ),
  'secrets, pii and hosts': craft(
    { alg: 'RS256' },
    {
      iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
      token_use: 'access',
      client_id: 'c1',
      sub: 'a0f5c1a2-3b4c-4d5e-8f90-1a2b3c4d5e6f',
      aws_key: 'AKIAIOSFODNN7EXAMPLE',
      note: 'call +1 415 555 0123 or mail bob@example.org',
      callback: 'http://10.0.3.17:8080/cb',
      backend: 'db.internal.example.corp',
      ips: ['10.1.2.3', '8.8.8.8'],
      ghp: `ghp_${'a'.repeat(36)}`,
      api_secret: 'Zx8!kQ2#pL9$wR4%tY7^uI1&oP3*aS5',
      nested: { deep: { email: 'carol@example.net', list: [1, 'two', { three: 3 }] }, empty: {} },
      inner_jwt: `eyJhbGciOiJIUzI1NiJ9.${'eyJzdWIiOiJ4In0'}.abcdefghijklmnop`,
      exp: NOW_S + 120,
    },
  ),
  'entra app': craft(
    { alg: 'RS256', typ: 'JWT' },
    {
      iss: 'https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/',
      idtyp: 'app',
      appid: 'a',
      roles: ['Directory.ReadWrite.All'],
      exp: NOW_S + 3600,
      iat: NOW_S,
      aud: 'https://graph.microsoft.com',
    },
  ),
  'gcp service account assertion': craft(
    { alg: 'RS256' },
    {
      iss: 'sa@proj.iam.gserviceaccount.com',
      sub: 'sa@proj.iam.gserviceaccount.com',
      aud: 'https://oauth2.googleapis.com/token',
      exp: NOW_S + 3600,
      iat: NOW_S,
    },
  ),
  'supabase service role': craft(
    { alg: 'HS256', typ: 'JWT' },
    { iss: 'supabase', ref: 'abcd', role: 'service_role', iat: NOW_S, exp: NOW_S + 10 * 365 * 86_400 },
    'z'.repeat(32),
  ),
  'keycloak refresh': craft(
    { alg: 'HS512' },
    { iss: 'https://kc.example.com/realms/main', typ: 'Refresh', sub: 'u', exp: NOW_S + 1800 },
    'q'.repeat(64),
  ),
  'spiffe svid': craft(
    { alg: 'ES256', kid: 'k' },
    { sub: 'spiffe://example.org/ns/prod/sa/api', aud: ['x'], exp: NOW_S + 300 },
  ),
  'nested token payload': craft(
    { alg: 'HS256', cty: 'JWT' },
    craft({ alg: 'RS256' }, { sub: 'inner', email: 'in@example.com', exp: NOW_S + 5 }),
    'secret',
  ),
  'not yet valid, future iat': craft(
    { alg: 'ES256' },
    { sub: 's', nbf: NOW_S + 3600, iat: NOW_S + 7200, exp: NOW_S + 9000, aud: 'a' },
  ),
  'string dates and odd values': craft(
    { alg: 'ES256' },
    { sub: 7, exp: `${NOW_S + 60}`, iat: '1e400', aud: [true, null, 3], 'a/b~c': { 'x/y': 'z' } },
  ),
};

function itemsOf(text: string): TokenItem[] {
  const items = tokensOf(scan(Buffer.from(text, 'utf8')).items);
  expect(items.length).toBeGreaterThan(0);
  return items;
}

async function analysed(policyName: string, text: string): Promise<unknown> {
  const policy = loadPolicy([policyName], { categories: [...rules.categories.keys()] });
  const analyzer = createAnalyzer({ policy, rules, fingerprinter: fp, now: () => NOW });
  const out = [];
  for (const item of itemsOf(text)) {
    const a = await analyzer.analyze(item);
    out.push({
      finding: a.finding,
      decision: a.decision,
      replacement: a.replacement(item),
      jsonReplacements: ['plain', 'html'].map((kind) =>
        a.replacement({ ...item, serialization: 'json_flat', quoting: { kind } } as TokenItem),
      ),
    });
  }
  return out;
}

describe('analysis output is pinned', () => {
  for (const policyName of policies) {
    for (const [name, token] of Object.entries(crafted)) {
      it(`${policyName}: ${name}`, async () => {
        expect(await analysed(policyName, `Bearer ${token} x`)).toMatchSnapshot();
      });
    }
  }

  it('tokens with random signatures: everything but the token fingerprint is pinned', async () => {
    const tokens = [
      await jwsRS256(k8s),
      await jwsRS256(human),
      await jwsES256(gha),
      await jweRsaOaep('{"sub":"e-1"}'),
      await jweRsaOaep('{"sub":"e-2"}', { cty: 'JWT', kid: 'enc-1', zip: 'DEF' }),
    ];
    const flattened = JSON.stringify(await jwsFlattened(JSON.stringify(human)));
    const out = [];
    for (const policyName of policies) {
      for (const t of [...tokens, flattened]) {
        let text = JSON.stringify(await analysed(policyName, t));
        for (const item of itemsOf(t)) text = text.replaceAll(fp.fingerprint(item.token), '<FP>');
        out.push(JSON.parse(text));
      }
    }
    expect(out).toMatchSnapshot();
  });
});
