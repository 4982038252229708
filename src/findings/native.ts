// Native format `jwt-redactor/finding@1` (SPEC section 5). Fields are picked one by one in the
// documented order; anything else on the object (a stray raw value, a Detection) is not copied.
import type { AnyFinding, Finding, JsonObject, Risk, SourceRef, TimeStatus } from '../model.ts';
import { isErrorFinding } from './describe.ts';
import { toJsonObject } from './json.ts';

export const NATIVE_SCHEMA = 'jwt-redactor/finding@1';

type Inner = NonNullable<Finding['inner']>;
type TokenParts = Pick<Finding, 'token' | 'header' | 'claims' | 'classification' | 'status'>;

export function sourcePicks(s: SourceRef): Record<string, unknown> {
  return {
    kind: s.kind,
    name: s.name,
    line: s.line,
    pointer: s.pointer,
    topic: s.topic,
    partition: s.partition,
    offset: s.offset,
    member: s.member,
  };
}

function statusPicks(s: TimeStatus): Record<string, unknown> {
  return {
    issued_at: s.issued_at,
    expires_at: s.expires_at,
    expired: s.expired,
    not_before: s.not_before,
    not_yet_valid: s.not_yet_valid,
    lifetime_seconds: s.lifetime_seconds,
    remaining_seconds: s.remaining_seconds,
  };
}

export function riskPicks(r: Risk): Record<string, unknown> {
  return { id: r.id, severity: r.severity, reason: r.reason, frameworks: r.frameworks };
}

/** What describes the token itself: the same block in native, OCSF `resources[].data` and ECS. */
export function tokenPicks(f: TokenParts): Record<string, unknown> {
  const t = f.token;
  const c = f.classification;
  return {
    token: {
      kind: t.kind,
      serialization: t.serialization,
      encoding: t.encoding,
      context: t.context,
      nested: t.nested,
      fingerprint: t.fingerprint,
      length: t.length,
    },
    header: f.header,
    claims: f.claims,
    classification: { identity: c.identity, profile: c.profile, token_type: c.token_type, claims: c.claims },
    status: statusPicks(f.status),
  };
}

export function innerPicks(inner: Inner): Record<string, unknown> {
  return {
    rule: inner.rule,
    severity: inner.severity,
    ...tokenPicks(inner),
    risks: inner.risks.map(riskPicks),
    frameworks: inner.frameworks,
    action: inner.action,
  };
}

/** What follows `source` in a token finding: the token, its risks, the action, the nested token. */
export function findingPicks(f: Finding): Record<string, unknown> {
  return {
    ...tokenPicks(f),
    risks: f.risks.map(riskPicks),
    frameworks: f.frameworks,
    action: f.action,
    inner: f.inner === undefined ? undefined : innerPicks(f.inner),
  };
}

export function toNative(f: AnyFinding): JsonObject {
  const head = {
    schema: NATIVE_SCHEMA,
    id: f.id,
    time: f.time,
    rule: f.rule,
    severity: f.severity,
    source: sourcePicks(f.source),
  };
  if (isErrorFinding(f)) {
    return toJsonObject({ ...head, error: { code: f.error.code, reason: f.error.reason }, action: f.action });
  }
  return toJsonObject({ ...head, ...findingPicks(f) });
}
