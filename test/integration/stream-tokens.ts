// Token fixtures for the stream tests, made at test time with jose (test/helpers/tokens.ts): every
// shape SPEC section 2 lists, in the places logs carry them. `secrets` are the strings no output
// may contain (R1): whole tokens, signatures, JWE parts and wrapped forms.
import { CompactSign } from 'jose';
import * as tokens from '../helpers/tokens.ts';

export interface TokenSet {
  k8s: string;
  github: string;
  human: string;
  es256: string;
  none: string;
  jwe: string;
  jweDir: string;
  weakHmac: string;
  detached: string;
  nested: string;
  flattened: Record<string, unknown>;
  general: Record<string, unknown>;
  /** Strings that must never appear in any output. */
  secrets: string[];
}

export function githubClaims(now = tokens.NOW()): Record<string, unknown> {
  return {
    iss: 'https://token.actions.githubusercontent.com',
    sub: 'repo:acme/payments:ref:refs/heads/main',
    aud: 'sts.amazonaws.com',
    repository: 'acme/payments',
    repository_owner: 'acme',
    ref: 'refs/heads/main',
    workflow: 'deploy',
    job_workflow_ref: 'acme/payments/.github/workflows/deploy.yml@refs/heads/main',
    runner_environment: 'github-hosted',
    event_name: 'push',
    iat: now - 10,
    nbf: now - 10,
    exp: now + 300,
  };
}

function secretsOf(token: string): string[] {
  const parts = token.split('.');
  const out = [token, Buffer.from(token).toString('base64')];
  // Signature (JWS) or encrypted key, iv, ciphertext, tag (JWE): every long part after the header.
  for (const p of parts.slice(parts.length === 5 ? 1 : 2)) if (p.length >= 16) out.push(p);
  return out;
}

export async function makeTokens(): Promise<TokenSet> {
  const k8s = await tokens.jwsRS256(tokens.k8sClaims(), { kid: 'k8s-signing-key' });
  const github = await tokens.jwsRS256(githubClaims(), { kid: 'github-actions' });
  const human = await tokens.jwsRS256({
    ...tokens.humanClaims(),
    nonce: 'n-0S6_WzA2Mj',
    auth_time: tokens.NOW() - 30,
  });
  const es256 = await tokens.jwsES256({
    iss: 'https://spiffe.example.org',
    sub: 'spiffe://example.org/ns/prod/sa/api',
    aud: 'api',
    exp: tokens.NOW() + 600,
  });
  const none = tokens.unsecured({ sub: 'admin', role: 'superuser', exp: tokens.NOW() + 3600 });
  const jwe = await tokens.jweRsaOaep(JSON.stringify({ sub: 'user-1', email: 'bob@example.com' }));
  const jweDirToken = await tokens.jweDir('opaque secret payload');
  const weakHmac = await tokens.jwsHS256(
    { sub: 'svc-reporting', exp: tokens.NOW() + 3600, iss: 'internal' },
    'secret',
  );
  const detached = await tokens.compactDetachedHS256();
  const k = await tokens.keys();
  const nested = await new CompactSign(new TextEncoder().encode(human))
    .setProtectedHeader({ alg: 'ES256', cty: 'JWT' })
    .sign(k.es256.privateKey);
  const flattened = await tokens.jwsFlattened(JSON.stringify({ sub: 'flat', exp: tokens.NOW() + 60 }));
  const general = await tokens.jwsGeneral(JSON.stringify({ sub: 'general', exp: tokens.NOW() + 60 }));
  const compact = [k8s, github, human, es256, none, jwe, jweDirToken, weakHmac, detached, nested];
  const secrets = compact.flatMap(secretsOf);
  for (const j of [flattened, general]) {
    secrets.push(JSON.stringify(j));
    const sigs = [
      j['signature'],
      ...((j['signatures'] as { signature: string }[] | undefined) ?? []).map((s) => s.signature),
    ];
    for (const s of sigs) if (typeof s === 'string') secrets.push(s);
  }
  return {
    k8s,
    github,
    human,
    es256,
    none,
    jwe,
    jweDir: jweDirToken,
    weakHmac,
    detached,
    nested,
    flattened,
    general,
    secrets: [...new Set(secrets)],
  };
}

export interface Sample {
  /** What the sample holds (for messages). */
  label: string;
  value: Buffer | string | null;
  /** Whether the value holds a token. */
  token: boolean;
  key?: string;
  headers?: Record<string, string>;
}

/** Record values of every shape, with tokens and without. */
export function samples(t: TokenSet, i: number): Sample[] {
  const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString();
  return [
    {
      label: 'k8s in json',
      token: true,
      value: JSON.stringify({ ts, level: 'info', msg: 'mounted token', token: t.k8s }),
    },
    {
      label: 'github bearer',
      token: true,
      value: JSON.stringify({ ts, req: { headers: { authorization: `Bearer ${t.github}` } } }),
    },
    {
      label: 'human id_token query',
      token: true,
      value: `${ts} GET /callback?code=abc&id_token=${t.human}&state=xyz HTTP/1.1 200`,
    },
    { label: 'es256 cookie', token: true, value: `${ts} cookie: session=${t.es256}; theme=dark` },
    { label: 'alg none', token: true, value: JSON.stringify({ ts, user: 'mallory', jwt: t.none }) },
    { label: 'jwe', token: true, value: `${ts} upstream token=${t.jwe} refreshed` },
    { label: 'jwe dir', token: true, value: JSON.stringify({ ts, data: { enc: t.jweDir } }) },
    { label: 'weak hmac', token: true, value: `${ts} Authorization: Bearer ${t.weakHmac}` },
    { label: 'detached', token: true, value: JSON.stringify({ ts, 'x-jws-signature': t.detached }) },
    { label: 'nested', token: true, value: `${ts} assertion=${t.nested}` },
    {
      label: 'base64 wrapped',
      token: true,
      value: JSON.stringify({ kind: 'Secret', data: { token: Buffer.from(t.k8s).toString('base64') } }),
    },
    {
      label: 'json-escaped',
      token: true,
      value: JSON.stringify({ ts, body: JSON.stringify({ access_token: t.github, expires_in: 300 }) }),
    },
    { label: 'flattened json jws', token: true, value: JSON.stringify({ ts, envelope: t.flattened }) },
    { label: 'general json jws', token: true, value: JSON.stringify({ ts, envelope: t.general }) },
    { label: 'dpop', token: true, value: `${ts} DPoP: ${t.es256}` },
    { label: 'plain text', token: false, value: `${ts} worker ${i} finished job ${i * 7} in 12ms` },
    {
      label: 'json without token',
      token: false,
      value: JSON.stringify({ ts, level: 'debug', msg: `tick ${i}`, n: i }),
    },
    {
      label: 'near miss',
      token: false,
      value: `${ts} eyJ is how base64 JSON starts; abc.def.ghi is not a token`,
    },
    { label: 'binary', token: false, value: Buffer.from([0x00, 0xff, 0xfe, 0x10, i % 256, 0x80, 0x81]) },
    { label: 'empty', token: false, value: '' },
    { label: 'tombstone', token: false, value: null },
    {
      label: 'token in header',
      token: false,
      value: `${ts} see header`,
      headers: { authorization: `Bearer ${t.k8s}`, 'trace-id': `t-${i}` },
    },
  ];
}

/** Bytes above the size limit the crash/rebalance/restart tests run with (--max-record-bytes). */
export const SMALL_LIMIT = 3_000;

/** Small fetches and SMALL_LIMIT: thousands of short transactions, every 97th mixed input quarantined. */
export const SMALL_BATCH_ARGS: readonly string[] = [
  '--max-bytes-per-partition',
  '4096',
  '--max-record-bytes',
  String(SMALL_LIMIT),
];

export interface MixedInput {
  key: string;
  value: Buffer | string | null;
  partition: number;
  headers: Record<string, string>;
}

/**
 * `n` records over `partitions` partitions with unique token-free keys `<prefix>-<i>`: every sample
 * shape in turn, and every 97th record too large for SMALL_LIMIT (it must go to quarantine).
 */
export function mixedInputs(t: TokenSet, n: number, partitions: number, prefix: string): MixedInput[] {
  const out: MixedInput[] = [];
  for (let i = 0; i < n; i++) {
    const all = samples(t, i);
    const s = all[i % all.length]!;
    const value = i % 97 === 96 ? `${'x'.repeat(SMALL_LIMIT)} Bearer ${t.github}` : s.value;
    out.push({
      key: `${prefix}-${i}`,
      value,
      partition: i % partitions,
      headers: { 'x-seq': String(i), ...(s.headers ?? {}) },
    });
  }
  return out;
}
