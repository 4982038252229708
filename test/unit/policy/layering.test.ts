// User policy files: extends, rule replacement and prepending, overrides, several files in order.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../../src/policy/index.ts';
import { EXPIRED, LIVE, load, policyDir, token } from './helpers.ts';

const github = token({
  classification: { identity: 'github-actions', token_type: 'id', claims: { repository: 'public' } },
  status: LIVE,
});

describe('a user file extending default', () => {
  const dir = policyDir({
    'ours.yaml': `version: 1
name: ours
extends: default
rules:
  - id: live
    description: we mask live tokens
    when: { status: [live, no-expiry] }
    action: mask
    severity: high
`,
  });
  const p = load(dir, 'ours.yaml');
  const d = loadPolicy(['default']);

  it('replaces the rule with the same id, in place', () => {
    expect(p.decide(github)).toEqual({ action: 'mask', severity: 'high', rule: 'live' });
    // rules before it still win
    const jwe = token({ kind: 'jwe', readable: false, status: {} });
    expect(p.decide(jwe)).toEqual(d.decide(jwe));
    // rules after it are untouched
    expect(p.decide(token({ status: EXPIRED }))).toEqual(d.decide(token({ status: EXPIRED })));
  });

  it('keeps everything else of default', () => {
    expect(p.claimTreatment('authz.scope')).toBe('keep');
    expect(p.limits).toEqual(d.limits);
    expect(p.mode).toBe('redact');
  });

  it('names the policy and lists the files, base first', () => {
    expect(p.name).toBe('ours');
    expect(p.files).toEqual([d.files[0], join(dir, 'ours.yaml')]);
  });
});

describe('rules', () => {
  it('puts new rules before the inherited ones, in file order', () => {
    const dir = policyDir({
      'ci.yaml': `version: 1
extends: default
rules:
  - id: ci-tokens
    when: { identity: ["github-*", gitlab-ci] }
    action: mask
    severity: critical
  - id: ci-expired
    when: { status: expired }
    action: hash
`,
    });
    const p = load(dir, 'ci.yaml');
    expect(p.decide(github)).toEqual({ action: 'mask', severity: 'critical', rule: 'ci-tokens' });
    const gitlabExpired = token({ classification: { identity: 'gitlab-ci' }, status: EXPIRED });
    expect(p.decide(gitlabExpired).rule).toBe('ci-tokens');
    expect(p.decide(token({ status: EXPIRED }))).toEqual({
      action: 'hash',
      severity: 'info',
      rule: 'ci-expired',
    });
    // an alg-none token from CI now meets ci-tokens first: the rule's action, the risk's severity
    const forged = token({
      classification: { identity: 'github-actions' },
      risks: [{ id: 'alg-none', severity: 'critical' }],
    });
    expect(p.decide(forged)).toEqual({ action: 'mask', severity: 'critical', rule: 'ci-tokens' });
  });

  it('removes an inherited rule with enabled: false', () => {
    const dir = policyDir({
      'p.yaml': `version: 1
extends: default
rules:
  - id: expired
    enabled: false
`,
    });
    expect(load(dir, 'p.yaml').decide(token({ status: EXPIRED }))).toEqual({
      action: 'sanitize',
      severity: 'medium',
      rule: 'default',
    });
  });

  it('matches on every condition at once, lists meaning any of', () => {
    const dir = policyDir({
      'p.yaml': `version: 1
extends: default
rules:
  - id: picky
    when:
      kind: [jws]
      serialization: [json, json_flat]
      identity: "k8s-*"
      token_type: access
      categories: ["pii.*"]
      risks: [missing-aud, "header-*"]
      risk_severity: medium
      status: live
      nested: false
      readable: true
    action: hash
    severity: low
`,
    });
    const p = load(dir, 'p.yaml');
    const hit = token({
      serialization: 'json_flat',
      classification: { identity: 'k8s-service-account', claims: { email: 'pii.email' } },
      risks: [{ id: 'header-jwk', severity: 'medium' }],
      status: LIVE,
    });
    expect(p.decide(hit)).toEqual({ action: 'hash', severity: 'medium', rule: 'picky' });
    expect(p.decide({ ...hit, serialization: 'compact' }).rule).toBe('live');
    expect(p.decide({ ...hit, risks: [{ id: 'header-jwk', severity: 'low' }] }).rule).toBe('live');
    expect(
      p.decide({ ...hit, classification: { ...hit.classification, claims: { sub: 'identifier.subject' } } })
        .rule,
    ).toBe('live');
    expect(p.decide({ ...hit, classification: { ...hit.classification, identity: 'human' } }).rule).toBe(
      'live',
    );
  });

  it('lets a risk-severity override change both matching and severity', () => {
    const dir = policyDir({
      'p.yaml': `version: 1
extends: default
risks:
  missing-aud: { severity: low }
  header-x5c: { severity: high }
`,
    });
    const p = load(dir, 'p.yaml');
    expect(p.riskSeverity('missing-aud', 'medium')).toBe('low');
    expect(p.riskSeverity('missing-exp', 'medium')).toBe('medium');
    const t = token({ status: EXPIRED, risks: [{ id: 'missing-aud', severity: 'medium' }] });
    expect(p.decide(t).severity).toBe('low');
    const x5c = token({ status: EXPIRED, risks: [{ id: 'header-x5c', severity: 'info' }] });
    expect(p.decide(x5c).severity).toBe('high');
  });
});

describe('claims, limits and settings', () => {
  it('overrides claim treatment key by key; exact beats glob, longer glob beats shorter', () => {
    const dir = policyDir({
      'p.yaml': `version: 1
extends: default
claims:
  pii.email: remove
  identifier.*: keep
  identifier.sub*: hash
  authz.scope: hash
`,
    });
    const p = load(dir, 'p.yaml');
    expect(p.claimTreatment('pii.email')).toBe('remove');
    expect(p.claimTreatment('pii.phone')).toBe('hash');
    expect(p.claimTreatment('identifier.client')).toBe('keep');
    expect(p.claimTreatment('identifier.subject')).toBe('hash');
    expect(p.claimTreatment('authz.scope')).toBe('hash');
    expect(p.claimTreatment('authz.role')).toBe('keep');
  });

  it('never keeps embedded secrets, even under a catch-all keep', () => {
    const dir = policyDir({
      'p.yaml': `version: 1
default: { action: mask }
claims:
  "*": keep
`,
    });
    const p = load(dir, 'p.yaml');
    expect(p.claimTreatment('pii.email')).toBe('keep');
    expect(p.claimTreatment('secret.embedded')).toBe('remove');
    expect(p.claimTreatment(undefined)).toBe('hash');
  });

  it('overrides limits one by one and the quarantine content', () => {
    const dir = policyDir({
      'p.yaml': `version: 1
extends: default
limits:
  max_lifetime_seconds: 3600
quarantine:
  content: metadata-only
min_finding_severity: medium
`,
    });
    const p = load(dir, 'p.yaml');
    expect(p.limits).toEqual({ maxLifetimeSeconds: 3600, maxTokenLength: 16_384, maxRecordBytes: 1_048_576 });
    expect(p.quarantineContent).toBe('metadata-only');
    expect(p.minFindingSeverity).toBe('medium');
  });

  it('a standalone file needs only version and default', () => {
    const dir = policyDir({ 'p.yaml': 'version: 1\ndefault: { action: mask }\n' });
    const p = load(dir, 'p.yaml');
    expect(p.name).toBe('p');
    expect(p.decide(token())).toEqual({ action: 'mask', severity: 'info', rule: 'default' });
    expect(p.limits).toEqual(loadPolicy(['default']).limits);
    expect(p.quarantineContent).toBe('masked');
  });
});

describe('several files', () => {
  it('applies them in order, later overriding earlier', () => {
    const dir = policyDir({
      'a.yaml': `version: 1
limits: { max_lifetime_seconds: 7200 }
claims: { authz.role: hash }
`,
      'b.yaml': `version: 1
limits: { max_lifetime_seconds: 600 }
default: { severity: high }
`,
    });
    const p = load(dir, 'default', 'a.yaml', 'b.yaml');
    expect(p.limits.maxLifetimeSeconds).toBe(600);
    expect(p.claimTreatment('authz.role')).toBe('hash');
    expect(p.claimTreatment('authz.scope')).toBe('keep');
    expect(p.files.map((f) => f.split('/').pop())).toEqual(['default.yaml', 'a.yaml', 'b.yaml']);
    const expiredOnly = load(dir, 'default', 'b.yaml', 'a.yaml');
    expect(expiredOnly.limits.maxLifetimeSeconds).toBe(7200);
  });

  it('applies each file once, after the files it extends', () => {
    const dir = policyDir({
      'team.yaml': 'version: 1\nextends: default\nname: team\n',
      'svc.yaml': 'version: 1\nextends: ./team.yaml\nname: svc\n',
    });
    const p = load(dir, 'default', 'svc.yaml', 'team.yaml');
    expect(p.files.map((f) => f.split('/').pop())).toEqual(['default.yaml', 'team.yaml', 'svc.yaml']);
    expect(p.name).toBe('svc');
  });

  it('resolves extends relative to the extending file', () => {
    const dir = policyDir({
      'teams/payments.yaml': 'version: 1\nextends: ../base/company.yaml\nname: payments\n',
      'base/company.yaml': 'version: 1\nextends: strict\nlimits: { max_lifetime_seconds: 900 }\n',
    });
    const p = load(dir, 'teams/payments.yaml');
    expect(p.files).toEqual([
      loadPolicy(['strict']).files[0],
      join(dir, 'base/company.yaml'),
      join(dir, 'teams/payments.yaml'),
    ]);
    expect(p.limits.maxLifetimeSeconds).toBe(900);
    expect(p.decide(github).action).toBe('mask');
  });

  it('lets an audit-mode file mask some tokens', () => {
    const dir = policyDir({
      'p.yaml': `version: 1
extends: audit-only
rules:
  - id: never-forward-secrets
    when: { categories: ["secret.*"] }
    action: mask
`,
    });
    const p = load(dir, 'p.yaml');
    expect(p.decide(token({ classification: { claims: { pwd: 'secret.embedded' } } })).action).toBe('mask');
    expect(p.decide(github).action).toBe('report');
  });
});
