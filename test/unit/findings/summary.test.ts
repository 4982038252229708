import { describe, expect, it } from 'vitest';
import { createSummaryAccumulator, renderSummary, summarize } from '../../../src/findings/index.ts';
import type { Finding } from '../../../src/model.ts';
import { ERROR_FINDING, FINDING, NESTED_FINDING } from './fixtures.ts';

const SECOND_SIGHTING: Finding = {
  ...FINDING,
  id: 'f-2',
  severity: 'medium',
  source: { kind: 'stdin', line: 3 },
};
const EXPIRED: Finding = {
  ...FINDING,
  id: 'f-3',
  rule: 'alg-none',
  severity: 'critical',
  token: { ...FINDING.token, kind: 'unsecured', fingerprint: 'k1:expiredAAAAAAAAAAAAAA' },
  classification: { identity: 'human', token_type: 'id', claims: {} },
  status: { expires_at: '2025-01-01T00:00:00.000Z', expired: true },
};
const CI_TOKEN: Finding = {
  ...FINDING,
  id: 'f-4',
  severity: 'info',
  token: { ...FINDING.token, fingerprint: 'k1:ciAAAAAAAAAAAAAAAAAAAA' },
  classification: { identity: 'github-actions', token_type: 'access', claims: {} },
  status: {},
};
const ALL = [FINDING, SECOND_SIGHTING, EXPIRED, NESTED_FINDING, ERROR_FINDING, CI_TOKEN];

describe('summarize', () => {
  it('counts by severity, rule and identity, and lists live tokens first', () => {
    expect(summarize(ALL)).toEqual({
      findings: 6,
      errors: 1,
      highest: 'critical',
      bySeverity: { critical: 2, high: 1, medium: 2, low: 0, info: 1 },
      byRule: [
        { key: 'jwt-exposed', count: 4 },
        { key: 'alg-none', count: 1 },
        { key: 'processing-error', count: 1 },
      ],
      byIdentity: [
        { key: 'k8s-service-account', count: 2 },
        { key: 'github-actions', count: 1 },
        { key: 'human', count: 1 },
        { key: 'unknown', count: 1 },
      ],
      liveTokens: 4,
      tokens: [
        {
          fingerprint: 'k1:jweAAAAAAAAAAAAAAAAAAA',
          kind: 'jwe',
          identity: 'unknown',
          token_type: 'unknown',
          severity: 'critical',
          live: true,
          expires_at: undefined,
          sightings: 1,
        },
        {
          fingerprint: 'k1:jwsAAAAAAAAAAAAAAAAAAA',
          kind: 'jws',
          identity: 'human',
          token_type: 'access',
          severity: 'critical',
          live: true,
          expires_at: undefined,
          sightings: 1,
        },
        {
          fingerprint: 'k1:3q2-7wAAAAAAAAAAAAAAAA',
          kind: 'jws',
          identity: 'k8s-service-account',
          token_type: 'access',
          severity: 'high',
          live: true,
          expires_at: '2027-01-15T08:39:59.000Z',
          sightings: 2,
        },
        {
          fingerprint: 'k1:ciAAAAAAAAAAAAAAAAAAAA',
          kind: 'jws',
          identity: 'github-actions',
          token_type: 'access',
          severity: 'info',
          live: true,
          expires_at: undefined,
          sightings: 1,
        },
        {
          fingerprint: 'k1:expiredAAAAAAAAAAAAAA',
          kind: 'unsecured',
          identity: 'human',
          token_type: 'id',
          severity: 'critical',
          live: false,
          expires_at: '2025-01-01T00:00:00.000Z',
          sightings: 1,
        },
      ],
    });
  });

  it('orders live tokens of one severity by latest expiry, tokens without expiry first', () => {
    const at = (fp: string, expires_at?: string): Finding => ({
      ...FINDING,
      token: { ...FINDING.token, fingerprint: fp },
      status: expires_at === undefined ? {} : { expires_at, expired: false },
    });
    const s = summarize([at('a', '2030-01-01T00:00:00Z'), at('b'), at('c', '2031-01-01T00:00:00Z')]);
    expect(s.tokens.map((t) => t.fingerprint)).toEqual(['b', 'c', 'a']);
  });

  it('marks a token expired once any sighting saw it expired', () => {
    const later: Finding = {
      ...FINDING,
      status: { ...FINDING.status, expired: true, remaining_seconds: -5 },
    };
    const s = summarize([FINDING, later]);
    expect(s.tokens).toMatchObject([{ live: false, sightings: 2 }]);
    expect(s.liveTokens).toBe(0);
  });

  it('gives the same result fed one finding at a time', () => {
    const acc = createSummaryAccumulator();
    for (const f of ALL) acc.add(f);
    expect(acc.result()).toEqual(summarize(ALL));
    // result() is a snapshot: later findings do not change what was returned.
    const before = acc.result();
    acc.add(CI_TOKEN);
    expect(before.tokens.find((t) => t.fingerprint === CI_TOKEN.token.fingerprint)?.sightings).toBe(1);
  });

  it('summarizes nothing', () => {
    expect(summarize([])).toEqual({
      findings: 0,
      errors: 0,
      bySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
      byRule: [],
      byIdentity: [],
      liveTokens: 0,
      tokens: [],
    });
  });
});

describe('renderSummary', () => {
  it('renders counts and live tokens for stderr', () => {
    expect(renderSummary(summarize(ALL))).toBe(
      [
        'jwt-redactor: 6 findings, 1 processing error, 5 distinct tokens (4 live), highest severity critical',
        '  by severity: critical 2, high 1, medium 2, low 0, info 1',
        '  by rule: jwt-exposed 4, alg-none 1, processing-error 1',
        '  by identity: k8s-service-account 2, github-actions 1, human 1, unknown 1',
        '  live tokens:',
        '    critical  unknown  jwe unknown  no known expiry  k1:jweAAAAAAAAAAAAAAAAAAA',
        '    critical  human  jws access  no known expiry  k1:jwsAAAAAAAAAAAAAAAAAAA',
        '    high      k8s-service-account  jws access  expires 2027-01-15T08:39:59.000Z  k1:3q2-7wAAAAAAAAAAAAAAAA  (2 sightings)',
        '    info      github-actions  jws access  no known expiry  k1:ciAAAAAAAAAAAAAAAAAAAA',
        '',
      ].join('\n'),
    );
  });

  it('caps the token list and says how many more there are', () => {
    const text = renderSummary(summarize(ALL), { maxTokens: 1 });
    expect(text).toContain('  live tokens:\n    critical  unknown');
    expect(text).toContain('\n    ... and 3 more\n');
  });

  it('renders an empty run as one line', () => {
    expect(renderSummary(summarize([]))).toBe('jwt-redactor: 0 findings, 0 distinct tokens (0 live)\n');
  });

  it('does not pass terminal escapes or bidi overrides from names through', () => {
    const hostile: Finding = {
      ...FINDING,
      rule: 'x\u001b[2Jy',
      classification: { ...FINDING.classification, identity: 'evil\u202etxt.exe\r' },
    };
    const text = renderSummary(summarize([hostile]));
    expect(text).not.toMatch(/[\u001b\u202e\r]/);
    expect(text).toContain('x?[2Jy 1');
    expect(text).toContain('evil?txt.exe?');
  });
});
