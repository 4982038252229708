// The shipped policies: they load, and they decide what docs/policy.md says they decide.
import { describe, expect, it } from 'vitest';
import { builtinPolicyNames, loadPolicy } from '../../../src/policy/index.ts';
import { EXPIRED, KNOWN_CATEGORIES, LIVE, token } from './helpers.ts';

const k8sLive = token({
  classification: {
    identity: 'k8s-service-account',
    profile: 'kubernetes',
    token_type: 'access',
    claims: { iss: 'public', sub: 'identifier.subject', aud: 'public', 'kubernetes.io': 'routing.internal' },
  },
  risks: [{ id: 'live-token', severity: 'medium' }],
  status: LIVE,
});
const jwe = token({
  kind: 'jwe',
  readable: false,
  classification: { token_type: 'unknown' },
  status: {},
});
const algNone = token({
  kind: 'unsecured',
  risks: [{ id: 'alg-none', severity: 'critical' }],
  status: LIVE,
});

describe('built-in policies', () => {
  it('ships default, strict and audit-only', () => {
    expect(builtinPolicyNames()).toEqual(['audit-only', 'default', 'strict']);
  });

  it.each(['default', 'strict', 'audit-only'])('%s loads, also with the exact category list', (name) => {
    const p = loadPolicy([name], { categories: KNOWN_CATEGORIES });
    expect(p.name).toBe(name);
    expect(p.files).toHaveLength(1);
    expect(p.files[0]).toMatch(new RegExp(`patterns/policies/${name}\\.yaml$`));
    expect(p.limits.maxTokenLength).toBeGreaterThanOrEqual(16_384);
    expect(p.quarantineContent).not.toBe('raw');
  });

  it('no spec means default', () => {
    expect(loadPolicy([]).name).toBe('default');
  });
});

describe('default', () => {
  const p = loadPolicy(['default']);

  it('sanitizes a live Kubernetes service-account JWS, severity high', () => {
    expect(p.decide(k8sLive)).toEqual({ action: 'sanitize', severity: 'high', rule: 'live' });
  });

  it('sanitizes an expired JWS with low severity unless a risk says more', () => {
    expect(p.decide(token({ status: EXPIRED }))).toEqual({
      action: 'sanitize',
      severity: 'low',
      rule: 'expired',
    });
    const risky = token({ status: EXPIRED, risks: [{ id: 'missing-aud', severity: 'medium' }] });
    expect(p.decide(risky).severity).toBe('medium');
  });

  it('masks a JWE', () => {
    expect(p.decide(jwe)).toEqual({ action: 'mask', severity: 'high', rule: 'encrypted' });
  });

  it('masks alg none as critical', () => {
    expect(p.decide(algNone)).toEqual({ action: 'mask', severity: 'critical', rule: 'alg-none' });
    // a JWS that claims alg none without being the unsecured kind is caught by the risk
    const claimed = token({ risks: [{ id: 'alg-none', severity: 'high' }] });
    expect(p.decide(claimed)).toEqual({ action: 'mask', severity: 'critical', rule: 'alg-none' });
  });

  it('masks tokens signed with a weak HMAC secret and tokens carrying secrets', () => {
    expect(p.decide(token({ risks: [{ id: 'weak-hmac-secret', severity: 'critical' }] })).action).toBe(
      'mask',
    );
    const secret = token({
      classification: { claims: { pwd: 'secret.embedded', sub: 'identifier.subject' } },
    });
    expect(p.decide(secret)).toEqual({ action: 'mask', severity: 'high', rule: 'embedded-secret' });
  });

  it('masks unreadable and nested tokens', () => {
    expect(p.decide(token({ readable: false, status: {} }))).toEqual({
      action: 'mask',
      severity: 'medium',
      rule: 'unreadable',
    });
    expect(p.decide(token({ nested: true })).action).toBe('mask');
  });

  it('hashes refresh tokens and API keys', () => {
    const refresh = token({ classification: { token_type: 'refresh' } });
    expect(p.decide(refresh)).toEqual({ action: 'hash', severity: 'high', rule: 'long-lived-credential' });
  });

  it('treats a token without exp as live', () => {
    expect(p.decide(token({ status: {} })).rule).toBe('live');
  });

  it('rates DPoP proofs low', () => {
    const proof = token({ classification: { token_type: 'dpop-proof' } });
    expect(p.decide(proof)).toEqual({ action: 'sanitize', severity: 'low', rule: 'not-a-bearer-credential' });
  });

  it('takes the highest risk severity over the rule severity', () => {
    const t = token({ status: EXPIRED, risks: [{ id: 'kid-injection', severity: 'critical' }] });
    expect(p.decide(t)).toEqual({ action: 'sanitize', severity: 'critical', rule: 'expired' });
  });

  it('keeps public claims, scopes and roles; hashes identifiers and PII; removes secrets', () => {
    expect(p.claimTreatment('public')).toBe('keep');
    expect(p.claimTreatment('authz.scope')).toBe('keep');
    expect(p.claimTreatment('authz.role')).toBe('keep');
    expect(p.claimTreatment('authz.group')).toBe('hash');
    expect(p.claimTreatment('pii.email')).toBe('hash');
    expect(p.claimTreatment('identifier.subject')).toBe('hash');
    expect(p.claimTreatment('routing.internal')).toBe('hash');
    expect(p.claimTreatment('secret.embedded')).toBe('remove');
  });

  it('hashes unclassified content and categories no key covers (R2)', () => {
    expect(p.claimTreatment(undefined)).toBe('hash');
    expect(p.claimTreatment('unclassified')).toBe('hash');
    expect(p.claimTreatment('vendor.something')).toBe('hash');
  });

  it('has the documented limits', () => {
    expect(p.mode).toBe('redact');
    expect(p.limits).toEqual({
      maxLifetimeSeconds: 86_400,
      maxTokenLength: 16_384,
      maxRecordBytes: 1_048_576,
    });
    expect(p.quarantineContent).toBe('masked');
    expect(p.minFindingSeverity).toBe('info');
    expect(p.riskSeverity('missing-aud', 'medium')).toBe('medium');
  });
});

describe('strict', () => {
  const p = loadPolicy(['strict']);

  it('masks every kind of token', () => {
    expect(p.decide(k8sLive)).toEqual({ action: 'mask', severity: 'high', rule: 'live' });
    expect(p.decide(token({ status: EXPIRED })).action).toBe('mask');
    expect(p.decide(jwe).action).toBe('mask');
    expect(p.decide(algNone)).toEqual({ action: 'mask', severity: 'critical', rule: 'alg-none' });
    expect(p.decide(token({ status: {} }))).toEqual({
      action: 'mask',
      severity: 'critical',
      rule: 'no-expiry',
    });
  });

  it('hashes scopes and roles too', () => {
    expect(p.claimTreatment('authz.scope')).toBe('hash');
    expect(p.claimTreatment('authz.role')).toBe('hash');
    expect(p.claimTreatment('public')).toBe('keep');
    expect(p.claimTreatment('secret.embedded')).toBe('remove');
  });

  it('limits lifetimes to an hour and quarantines metadata only', () => {
    expect(p.limits.maxLifetimeSeconds).toBe(3600);
    expect(p.quarantineContent).toBe('metadata-only');
  });
});

describe('audit-only', () => {
  const p = loadPolicy(['audit-only']);

  it('reports everything, with the severities of default', () => {
    const d = loadPolicy(['default']);
    for (const t of [k8sLive, jwe, algNone, token({ status: EXPIRED }), token({ nested: true })]) {
      const decision = p.decide(t);
      expect(decision.action).toBe('report');
      expect(decision.severity).toBe(d.decide(t).severity);
      expect(decision.rule).toBe(d.decide(t).rule);
    }
    expect(p.mode).toBe('audit');
  });

  it('still hashes sensitive claim values in findings', () => {
    expect(p.claimTreatment('pii.email')).toBe('hash');
    expect(p.claimTreatment('identifier.subject')).toBe('hash');
    expect(p.claimTreatment('secret.embedded')).toBe('remove');
    expect(p.claimTreatment(undefined)).toBe('hash');
  });
});
