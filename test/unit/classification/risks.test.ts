import { describe, expect, it } from 'vitest';
import { assessRisks, RISK_IDS } from '../../../src/classification/index.ts';
import type { DecodedToken, JsonObject, Risk, Severity } from '../../../src/model.ts';
import { analyse, craft, fresh, jwe, NOW, NOW_S, rules, sign, unsecured } from './fixtures.ts';

type Ctx = Partial<Parameters<typeof assessRisks>[1]>;

function risksOf(token: string | DecodedToken, ctx: Ctx = {}): Risk[] {
  return assessRisks(analyse(token, ctx.now ?? NOW), { rules: rules(), now: NOW, ...ctx });
}
const ids = (risks: Risk[]) => risks.map((r) => r.id);
const find = (risks: Risk[], id: string) => risks.find((r) => r.id === id);

/** A well-formed, short-lived, audience-bound token of an unknown service: only live-token fires. */
const CLEAN: JsonObject = fresh({ iss: 'https://issuer.example.com', sub: 'svc-1', aud: 'api', jti: 'j1' });
const GH = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:octo/app:ref:refs/heads/main',
  aud: 'sts.amazonaws.com',
  repository: 'octo/app',
  event_name: 'push',
  ref_protected: 'true',
};
const K8S = fresh({
  iss: 'https://kubernetes.default.svc',
  aud: ['https://kubernetes.default.svc'],
  sub: 'system:serviceaccount:ns:sa',
  'kubernetes.io': { namespace: 'ns', serviceaccount: { name: 'sa', uid: 'u' } },
});

describe('a clean token', () => {
  it('has only the live-token risk', async () => {
    expect(ids(risksOf(await sign(CLEAN, { alg: 'ES256', typ: 'JWT', kid: 'k1' })))).toEqual(['live-token']);
  });

  it('every risk id has a definition with severity, reason and frameworks', () => {
    for (const id of RISK_IDS) {
      const def = rules().risks.get(id)!;
      expect(def.reason).toMatch(/\S/);
      expect(def.frameworks.length).toBeGreaterThan(0);
      for (const f of def.frameworks)
        expect(f).toMatch(/^(OWASP-NHI-2025:NHI\d+|NIST-CSF-2\.0:[A-Z]{2}\.[A-Z]{2}-\d{2})$/);
    }
  });
});

describe('header risks', () => {
  it('alg-none: unsecured tokens and case variants of none', () => {
    const r = risksOf(unsecured(CLEAN));
    expect(find(r, 'alg-none')).toMatchObject({ severity: 'critical' });
    expect(ids(r)).toContain('deprecated-alg');
    expect(ids(risksOf(craft({ alg: 'NoNe' }, CLEAN)))).toContain('alg-none');
    expect(find(risksOf(craft({ alg: 'NoNe' }, CLEAN)), 'alg-none')!.reason).toContain('NoNe');
  });

  it('weak-hmac-secret: HS256/384/512 under listed secrets, not under a random one', async () => {
    for (const [alg, secret] of [
      ['HS256', 'your-256-bit-secret'],
      ['HS384', 'your-384-bit-secret'],
      ['HS512', 'secret'],
      ['HS256', 'super-secret-jwt-token-with-at-least-32-characters-long'],
      ['HS256', ''],
    ] as const) {
      const token =
        alg === 'HS256' && secret === '' ? craft({ alg }, CLEAN, '') : await sign(CLEAN, { alg }, secret);
      expect(find(risksOf(token), 'weak-hmac-secret'), `${alg} ${JSON.stringify(secret)}`).toMatchObject({
        severity: 'critical',
      });
    }
    const random = crypto.getRandomValues(new Uint8Array(32));
    expect(ids(risksOf(await sign(CLEAN, { alg: 'HS256' }, random)))).not.toContain('weak-hmac-secret');
    // the RFC 7515 A.1 example key, listed as base64url bytes
    const rfcKey = Buffer.from(
      'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow',
      'base64url',
    );
    expect(ids(risksOf(await sign(CLEAN, { alg: 'HS256' }, rfcKey)))).toContain('weak-hmac-secret');
  });

  it('weak-hmac-secret is skipped for non-HMAC algs', async () => {
    const token = await sign(CLEAN, { alg: 'ES256' });
    expect(ids(risksOf(token))).not.toContain('weak-hmac-secret');
  });

  it.each([
    ['header-jku', { jku: 'https://keys.example.net/jwks.json' }, 'high'],
    ['header-x5u', { x5u: 'https://keys.example.net/cert.pem' }, 'high'],
    ['header-jwk', { jwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'BBBB' } }, 'high'],
    ['header-x5c', { x5c: ['MIIBszCCAVmgAwIBAgIU'] }, 'medium'],
  ] as const)('%s', async (id, extra, severity) => {
    expect(find(risksOf(await sign(CLEAN, { alg: 'ES256', ...extra })), id)).toMatchObject({ severity });
    expect(ids(risksOf(await sign(CLEAN, { alg: 'ES256' })))).not.toContain(id);
  });

  it.each([
    ['../../../../dev/null', 'a path traversal'],
    ['/dev/null', 'a path traversal'],
    ['/etc/passwd', 'a path traversal'],
    ['/keys/hmac.pem', 'an absolute path'],
    ["x' OR '1'='1", 'SQL metacharacters'],
    ['k1; DROP TABLE keys', 'SQL metacharacters'],
    ['key|whoami', 'shell metacharacters'],
    ['$(curl example.net)', 'shell metacharacters'],
    ['`id`', 'shell metacharacters'],
    ['k\u0000', 'a NUL or control character'],
    ['http://169.254.169.254/latest', 'a URL'],
    ['{{7*7}}', 'a template expression'],
    ['k'.repeat(600), 'an oversized value'],
  ])('kid-injection: %j', (kid, label) => {
    const r = find(risksOf(craft({ alg: 'HS256', kid }, CLEAN)), 'kid-injection');
    expect(r?.severity).toBe('high');
    expect(r?.reason).toContain(label);
  });

  it.each([
    '2024-06-key',
    'a1b2c3d4e5f6',
    'https://myvault.vault.azure.net/keys/signing/0123456789abcdef',
    'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    'projects/p/locations/global/keyRings/r/cryptoKeys/k',
  ])('kid-injection not for %j', (kid) => {
    expect(ids(risksOf(craft({ alg: 'HS256', kid }, CLEAN)))).not.toContain('kid-injection');
  });

  it('kid-injection for a kid that is not a string', () => {
    expect(find(risksOf(craft({ alg: 'HS256', kid: { $ne: 1 } }, CLEAN)), 'kid-injection')?.reason).toContain(
      'not a string',
    );
  });

  it('deprecated-alg: RSA1_5 key management', () => {
    expect(find(risksOf(jwe({ alg: 'RSA1_5', enc: 'A128CBC-HS256' })), 'deprecated-alg')).toMatchObject({
      severity: 'medium',
    });
    expect(ids(risksOf(jwe({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })))).not.toContain('deprecated-alg');
  });

  it('zip-compression: JWE with zip', () => {
    expect(ids(risksOf(jwe({ alg: 'RSA-OAEP-256', enc: 'A256GCM', zip: 'DEF' })))).toEqual([
      'zip-compression',
    ]);
    expect(ids(risksOf(jwe({ alg: 'dir', enc: 'A256GCM' })))).toEqual([]);
  });

  it('unexpected-alg: a GitHub Actions token signed with HS256 (algorithm confusion)', async () => {
    const forged = await sign(fresh(GH), { alg: 'HS256' }, 'whatever-key-9f8e7d');
    const r = find(risksOf(forged), 'unexpected-alg');
    expect(r?.severity).toBe('high');
    expect(r?.reason).toContain('RS256');
    expect(ids(risksOf(await sign(fresh(GH), { alg: 'RS256' })))).not.toContain('unexpected-alg');
  });

  it('unknown-crit: unknown names and malformed crit, not b64', () => {
    expect(
      find(risksOf(craft({ alg: 'HS256', crit: ['exp'], exp: 1 }, CLEAN)), 'unknown-crit')?.reason,
    ).toContain('1 unknown');
    expect(find(risksOf(craft({ alg: 'HS256', crit: [] }, CLEAN)), 'unknown-crit')?.reason).toContain(
      'malformed',
    );
    expect(find(risksOf(craft({ alg: 'HS256', crit: ['x'] }, CLEAN)), 'unknown-crit')?.reason).toContain(
      'malformed',
    );
    expect(
      ids(risksOf(craft({ alg: 'HS256', b64: false, crit: ['b64'] }, JSON.stringify(CLEAN)))),
    ).not.toContain('unknown-crit');
  });

  it('unencoded-payload: b64 false, worse without crit', () => {
    const without = find(
      risksOf(craft({ alg: 'HS256', b64: false }, JSON.stringify(CLEAN))),
      'unencoded-payload',
    );
    expect(without?.reason).toContain('without crit');
    const declared = find(
      risksOf(craft({ alg: 'HS256', b64: false, crit: ['b64'] }, JSON.stringify(CLEAN))),
      'unencoded-payload',
    );
    expect(declared?.reason).toContain('RFC 7797');
    expect(ids(risksOf(craft({ alg: 'HS256', b64: true }, CLEAN)))).not.toContain('unencoded-payload');
  });

  it('typ-confusion: typ and claims disagree, or a typed shape without its typ', async () => {
    const idAsAt = await sign(fresh({ ...CLEAN, nonce: 'n', at_hash: 'h' }), { alg: 'ES256', typ: 'at+jwt' });
    expect(find(risksOf(idAsAt), 'typ-confusion')?.reason).toContain('header typ says access');
    const dpopNoTyp = await sign(
      { jti: 'j', htm: 'GET', htu: 'https://rs.example.com/r', iat: NOW_S },
      { alg: 'ES256' },
    );
    expect(find(risksOf(dpopNoTyp), 'typ-confusion')?.reason).toContain('without its explicit typ');
    const dpop = await sign(
      { jti: 'j', htm: 'GET', htu: 'https://rs.example.com/r', iat: NOW_S },
      { alg: 'ES256', typ: 'dpop+jwt' },
    );
    expect(ids(risksOf(dpop))).not.toContain('typ-confusion');
    const idToken = await sign(fresh({ ...CLEAN, nonce: 'n' }), { alg: 'ES256', typ: 'JWT' });
    expect(ids(risksOf(idToken))).not.toContain('typ-confusion');
  });
});

describe('claim and lifetime risks', () => {
  it('missing-aud, but not for DPoP proofs', async () => {
    const { aud: _, ...noAud } = CLEAN;
    expect(find(risksOf(await sign(noAud)), 'missing-aud')).toMatchObject({ severity: 'medium' });
    const dpop = await sign(
      { jti: 'j', htm: 'GET', htu: 'https://rs.example.com/r', iat: NOW_S },
      { alg: 'ES256', typ: 'dpop+jwt' },
    );
    expect(ids(risksOf(dpop))).not.toContain('missing-aud');
    expect(ids(risksOf(dpop))).not.toContain('missing-exp');
  });

  it('missing-exp: high for a workload, medium for a person', async () => {
    const legacy = await sign(
      {
        iss: 'kubernetes/serviceaccount',
        sub: 'system:serviceaccount:ns:sa',
        'kubernetes.io/serviceaccount/namespace': 'ns',
      },
      { alg: 'RS256' },
    );
    expect(find(risksOf(legacy), 'missing-exp')).toMatchObject({ severity: 'high' });
    expect(find(risksOf(legacy), 'live-token')?.reason).toContain('no expiry');
    const person = await sign({ iss: 'https://op.example.com', sub: 'u', aud: 'c', email: 'p@example.org' });
    expect(find(risksOf(person), 'missing-exp')).toMatchObject({ severity: 'medium' });
    expect(ids(risksOf(await sign(CLEAN)))).not.toContain('missing-exp');
  });

  it('lifetime-exceeds-policy against the caller maximum or the default', async () => {
    const twoDays = await sign({ ...CLEAN, iat: NOW_S - 60, exp: NOW_S + 2 * 86400 });
    const r = find(risksOf(twoDays), 'lifetime-exceeds-policy');
    expect(r?.reason).toBe('valid for 2 days, above the policy maximum of 24 h');
    expect(ids(risksOf(twoDays, { maxLifetimeSeconds: 3 * 86400 }))).not.toContain('lifetime-exceeds-policy');
    expect(ids(risksOf(await sign(CLEAN), { maxLifetimeSeconds: 300 }))).toContain('lifetime-exceeds-policy');
    // remaining validity counts when there is no iat or nbf
    const noStart = await sign({ aud: 'a', exp: NOW_S + 5 * 86400 });
    expect(ids(risksOf(noStart))).toContain('lifetime-exceeds-policy');
    const k8s = await sign({ ...K8S, exp: NOW_S + 365 * 86400 }, { alg: 'RS256' });
    expect(find(risksOf(k8s), 'lifetime-exceeds-policy')?.severity).toBe('high');
  });

  it('iat-in-future beyond the skew', async () => {
    expect(ids(risksOf(await sign({ ...CLEAN, iat: NOW_S + 3600 })))).toContain('iat-in-future');
    expect(ids(risksOf(await sign({ ...CLEAN, iat: NOW_S + 60 })))).not.toContain('iat-in-future');
  });

  it('live-token ranks a workload identity above a person, expired-token ranks low', async () => {
    const live = await sign(K8S, { alg: 'RS256' });
    expect(find(risksOf(live), 'live-token')).toMatchObject({ severity: 'high' });
    expect(
      find(risksOf(await sign(fresh({ ...CLEAN, email: 'p@example.org' }))), 'live-token')?.severity,
    ).toBe('medium');
    expect(find(risksOf(await sign(CLEAN)), 'live-token')?.severity).toBe('medium');
    const expired = await sign({ ...K8S, iat: NOW_S - 7200, exp: NOW_S - 3600 }, { alg: 'RS256' });
    const r = risksOf(expired);
    expect(ids(r)).not.toContain('live-token');
    expect(find(r, 'expired-token')).toMatchObject({ severity: 'low' });
    expect(find(r, 'expired-token')?.reason).toContain('60 min ago');
    const expiredPerson = await sign({ ...CLEAN, email: 'p@example.org', exp: NOW_S - 10 });
    expect(find(risksOf(expiredPerson), 'expired-token')?.severity).toBe('info');
    expect(ids(risksOf(await sign(CLEAN)))).not.toContain('expired-token');
  });

  it('live-token and expired-token need readable claims', () => {
    expect(ids(risksOf(jwe({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })))).toEqual([]);
  });

  it('embedded-secret: a secret in a signed (not encrypted) token', async () => {
    const r = find(risksOf(await sign({ ...CLEAN, note: `use ghp_${'x1Y2'.repeat(9)}` })), 'embedded-secret');
    expect(r).toMatchObject({ severity: 'high', reason: expect.stringContaining('1 claim') });
    expect(find(risksOf(await sign({ ...CLEAN, client_secret: 's' })), 'embedded-secret')?.reason).toContain(
      'client_secret',
    );
    expect(ids(risksOf(await sign(CLEAN)))).not.toContain('embedded-secret');
  });

  it('privileged-authz: broad scopes and roles, high for a workload', async () => {
    expect(find(risksOf(await sign({ ...CLEAN, scope: 'openid admin' })), 'privileged-authz')).toMatchObject({
      severity: 'medium',
    });
    expect(find(risksOf(await sign({ ...CLEAN, scp: '*' })), 'privileged-authz')).toBeDefined();
    const k8sAdmin = await sign({ ...K8S, groups: ['system:masters'] }, { alg: 'RS256' });
    expect(find(risksOf(k8sAdmin), 'privileged-authz')).toMatchObject({ severity: 'high' });
    const supa = await sign(
      { iss: 'supabase', role: 'service_role', exp: NOW_S + 100, aud: 'x' },
      { alg: 'HS256' },
      'r4nd0m-7c1e',
    );
    expect(find(risksOf(supa), 'privileged-authz')?.severity).toBe('high');
    expect(ids(risksOf(await sign({ ...CLEAN, scope: 'openid profile read:orders' })))).not.toContain(
      'privileged-authz',
    );
  });

  it('ci-untrusted-context: fork-reachable triggers and unprotected refs', async () => {
    const prt = await sign(fresh({ ...GH, event_name: 'pull_request_target' }), { alg: 'RS256' });
    expect(find(risksOf(prt), 'ci-untrusted-context')?.reason).toContain('outside contributors');
    const unprotected = await sign(fresh({ ...GH, ref_protected: 'false' }), { alg: 'RS256' });
    expect(find(risksOf(unprotected), 'ci-untrusted-context')?.reason).toContain('unprotected');
    expect(ids(risksOf(await sign(fresh(GH), { alg: 'RS256' })))).not.toContain('ci-untrusted-context');
  });

  it('pii-exposed for a signed token, not for a decrypted JWE', async () => {
    const token = await sign({ ...CLEAN, email: 'p@example.org', name: 'P' });
    expect(find(risksOf(token), 'pii-exposed')?.reason).toBe(
      'personal data in email, name, in a token that is signed, not encrypted',
    );
    const decrypted: DecodedToken = {
      ...jwe({ alg: 'RSA-OAEP-256', enc: 'A256GCM' }),
      decrypted: true,
      payload: { type: 'claims', claims: { ...CLEAN, email: 'p@example.org' } },
    };
    expect(ids(risksOf(decrypted))).not.toContain('pii-exposed');
    expect(ids(risksOf(await sign(CLEAN)))).not.toContain('pii-exposed');
  });

  it('internal-host-disclosed', async () => {
    expect(ids(risksOf(await sign({ ...CLEAN, iss: 'https://sso.corp/realms/x' })))).toContain(
      'internal-host-disclosed',
    );
    expect(ids(risksOf(await sign(CLEAN)))).not.toContain('internal-host-disclosed');
  });
});

describe('overrides and order', () => {
  it('applies severity overrides and switches risks off', async () => {
    const token = await sign({ ...CLEAN, email: 'p@example.org' });
    const r = risksOf(token, { riskOverrides: { 'pii-exposed': 'high', 'live-token': 'off' } });
    expect(find(r, 'pii-exposed')?.severity).toBe('high');
    expect(ids(r)).not.toContain('live-token');
  });

  it('sorts by severity, most severe first', async () => {
    const r = risksOf(unsecured({ sub: 'x', email: 'p@example.org' }));
    const order: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
    const ranks = r.map((x) => order.indexOf(x.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(r[0]!.id).toBe('alg-none');
  });
});
