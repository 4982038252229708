import { describe, expect, it } from 'vitest';
import { serialize, toNative } from '../../../src/findings/index.ts';
import type { Finding } from '../../../src/model.ts';
import { ERROR_FINDING, FINDING, NESTED_FINDING } from './fixtures.ts';

/** Equal including key order: the JSON text is compared, not just the values. */
function expectExact(actual: unknown, expected: unknown): void {
  expect(JSON.stringify(actual, null, 2)).toBe(JSON.stringify(expected, null, 2));
}

describe('toNative', () => {
  it('writes a token finding as jwt-redactor/finding@1, fields in schema order', () => {
    expectExact(toNative(FINDING), {
      schema: 'jwt-redactor/finding@1',
      id: 'f-01JH7Q3M8Z',
      time: '2026-01-15T10:20:30.000Z',
      rule: 'jwt-exposed',
      severity: 'high',
      source: { kind: 'file', name: 'logs/app.log', line: 42 },
      token: {
        kind: 'jws',
        serialization: 'compact',
        encoding: [],
        context: 'bearer',
        nested: false,
        fingerprint: 'k1:3q2-7wAAAAAAAAAAAAAAAA',
        length: 812,
      },
      header: { alg: 'RS256', kid: 'sa-key-1', typ: 'JWT' },
      claims: {
        iss: 'https://kubernetes.default.svc.cluster.local',
        sub: 'hmac:k1:q1Xy0bB0c4K2ZJm9Yh1bVg',
        aud: ['https://kubernetes.default.svc'],
        exp: 1799999999,
        iat: 1768472430,
        'kubernetes.io': {
          namespace: 'payments',
          serviceaccount: { name: 'hmac:k1:Zb3vKk0QhPp8z8c2m1QW9A' },
        },
      },
      classification: {
        identity: 'k8s-service-account',
        profile: 'kubernetes',
        token_type: 'access',
        claims: {
          iss: 'routing.issuer',
          sub: 'identifier.subject',
          aud: 'routing.audience',
          '/kubernetes.io/namespace': 'routing.namespace',
          '/kubernetes.io/serviceaccount/name': 'identifier.workload',
        },
      },
      status: {
        issued_at: '2026-01-15T10:20:30.000Z',
        expires_at: '2027-01-15T08:39:59.000Z',
        expired: false,
        lifetime_seconds: 31527569,
        remaining_seconds: 31527569,
      },
      risks: [
        {
          id: 'long-lived',
          severity: 'high',
          reason: 'lifetime 364 days, above the 24 h limit',
          frameworks: ['OWASP-NHI:NHI7:2025'],
        },
      ],
      frameworks: ['OWASP-NHI:NHI2:2025', 'NIST-CSF-2.0:PR.AA-01'],
      action: 'sanitize',
    });
  });

  it('writes a processing error', () => {
    expectExact(toNative(ERROR_FINDING), {
      schema: 'jwt-redactor/finding@1',
      id: 'e-01JH7Q3N2K',
      time: '2026-01-15T10:20:31.500Z',
      rule: 'processing-error',
      severity: 'medium',
      source: { kind: 'kafka', topic: 'app-logs', partition: 3, offset: '1200' },
      error: { code: 'ERR_RECORD_TOO_LARGE', reason: 'record is 12 MiB, above the 8 MiB limit' },
      action: 'quarantine',
    });
  });

  it('keeps the nested token under inner, in the same order', () => {
    const inner = toNative(NESTED_FINDING).inner as Record<string, unknown>;
    expect(Object.keys(inner)).toEqual([
      'rule',
      'severity',
      'token',
      'header',
      'claims',
      'classification',
      'status',
      'risks',
      'frameworks',
      'action',
    ]);
    expect(inner.token).toEqual(NESTED_FINDING.inner?.token);
  });

  it('puts keys in schema order whatever order the engine built them in', () => {
    const scrambled = {
      action: FINDING.action,
      frameworks: FINDING.frameworks,
      risks: FINDING.risks,
      status: FINDING.status,
      classification: FINDING.classification,
      claims: FINDING.claims,
      header: FINDING.header,
      token: { ...FINDING.token },
      source: { line: 42, name: 'logs/app.log', kind: 'file' },
      severity: FINDING.severity,
      rule: FINDING.rule,
      time: FINDING.time,
      id: FINDING.id,
      schema: FINDING.schema,
    } as Finding;
    expect(serialize(toNative(scrambled))).toBe(serialize(toNative(FINDING)));
  });

  it('copies only the fields of the schema, never extra properties on the object', () => {
    const polluted = {
      ...FINDING,
      raw: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
      detection: { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' },
      token: { ...FINDING.token, value: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' },
      source: { ...FINDING.source, record: 'Authorization: Bearer eyJ...' },
    } as Finding;
    expect(serialize(toNative(polluted))).toBe(serialize(toNative(FINDING)));
  });

  it('keeps a claim named __proto__ as a claim', () => {
    const claims = JSON.parse('{"__proto__":{"admin":true},"sub":"hmac:k1:x"}') as Finding['claims'];
    const out = toNative({ ...FINDING, claims });
    const text = serialize(out);
    expect(text).toContain('"claims":{"__proto__":{"admin":true},"sub":"hmac:k1:x"}');
    expect(Object.getPrototypeOf(out.claims)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('turns what JSON cannot hold into JSON, and drops bytes and class instances', () => {
    const header = {
      alg: 'HS256',
      n: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      z: -0,
      big: 10n,
      gone: undefined,
      sig: new Uint8Array([1, 2, 3]),
      when: new Date(0),
      list: [1, undefined, () => 1],
    } as unknown as Finding['header'];
    expect(toNative({ ...FINDING, header }).header).toEqual({
      alg: 'HS256',
      n: null,
      inf: null,
      z: 0,
      big: '10',
      list: [1, null, null],
    });
  });

  it('cuts claims nested deeper than the limit instead of recursing without end', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const text = serialize(toNative({ ...FINDING, claims: deep as Finding['claims'] }));
    expect(text).toContain('"[nested too deep]"');
    expect(text).not.toContain('leaf');
  });
});
