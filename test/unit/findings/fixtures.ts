// Fixed findings for the exact-output tests and the docs example. Shaped the way the engine builds
// them: sensitive claim values already replaced by `hmac:<keyid>:<fp>`. Written in the key order of
// the native schema, so a fixture is also its own expected native output; deep-frozen, so a
// formatter that writes into its input throws instead of changing what the tests expect.

import { expect } from 'vitest';
import type { FormatOptions } from '../../../src/findings/index.ts';
import type { ErrorFinding, Finding } from '../../../src/model.ts';

/** Pinned product facts, so the expected outputs (and the docs example) do not follow the package version. */
export const OPTS: FormatOptions = {
  version: '0.1.0',
  informationUri: 'https://www.npmjs.com/package/jwt-redactor',
};

export const FINDING: Finding = deepFreeze({
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
    'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'hmac:k1:Zb3vKk0QhPp8z8c2m1QW9A' } },
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

export const ERROR_FINDING: ErrorFinding = deepFreeze({
  schema: 'jwt-redactor/finding@1',
  id: 'e-01JH7Q3N2K',
  time: '2026-01-15T10:20:31.500Z',
  rule: 'processing-error',
  severity: 'medium',
  source: { kind: 'kafka', topic: 'app-logs', partition: 3, offset: '1200' },
  error: { code: 'ERR_RECORD_TOO_LARGE', reason: 'record is 12 MiB, above the 8 MiB limit' },
  action: 'quarantine',
});

/** A JWE (decrypted with a configured key) wrapping a JWS, found in a HAR inside an archive. */
export const NESTED_FINDING: Finding = deepFreeze({
  schema: 'jwt-redactor/finding@1',
  id: 'f-01JH7Q3P0A',
  time: '2026-01-15T10:21:00.000Z',
  rule: 'jwt-exposed',
  severity: 'critical',
  source: {
    kind: 'file',
    name: 'support/case 1234.tgz',
    member: 'export/session.har',
    pointer: '/log/entries/0/request/headers/3/value',
  },
  token: {
    kind: 'jwe',
    serialization: 'compact',
    encoding: ['json-escape'],
    context: 'header',
    nested: true,
    fingerprint: 'k1:jweAAAAAAAAAAAAAAAAAAA',
    length: 1290,
  },
  header: { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: 'enc-1' },
  claims: {},
  classification: { identity: 'unknown', token_type: 'unknown', claims: {} },
  status: {},
  risks: [],
  frameworks: [],
  action: 'mask',
  inner: {
    rule: 'jwt-exposed',
    severity: 'critical',
    token: {
      kind: 'jws',
      serialization: 'compact',
      encoding: [],
      context: 'text',
      nested: false,
      fingerprint: 'k1:jwsAAAAAAAAAAAAAAAAAAA',
      length: 640,
    },
    header: { alg: 'ES256', typ: 'at+jwt' },
    claims: {
      iss: 'https://login.example.com',
      sub: 'hmac:k1:AAAAAAAAAAAAAAAAAAAAAA',
      scope: 'payments:write',
    },
    classification: {
      identity: 'human',
      token_type: 'access',
      claims: { iss: 'routing.issuer', sub: 'identifier.subject', scope: 'authz.scope' },
    },
    status: {},
    risks: [{ id: 'no-expiry', severity: 'critical', reason: 'no exp claim', frameworks: [] }],
    frameworks: [],
    action: 'mask',
  },
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Equal including key order: the JSON text is compared, not just the values. */
export function expectExact(actual: unknown, expected: unknown): void {
  expect(JSON.stringify(actual, null, 2)).toBe(JSON.stringify(expected, null, 2));
}

/**
 * The fields of a fixture named in `keys` (space-separated), in that order: the formats copy parts of
 * the native finding verbatim, so their expected outputs say which parts go where, and take the
 * values from here.
 */
export function pick(finding: object, keys: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys.split(' ')) {
    if (!Object.hasOwn(finding, k)) throw new Error(`fixture has no ${k}`);
    out[k] = (finding as Record<string, unknown>)[k];
  }
  return out;
}
