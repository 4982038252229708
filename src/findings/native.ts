// Native format `jwt-redactor/finding@1` (SPEC section 5). Fields are picked one by one in the
// documented order; anything else on the object (a stray raw value, a Detection) is not copied.
import type { AnyFinding, Finding, JsonObject, Risk, SourceRef, TimeStatus } from '../model.ts';
import { isErrorFinding } from './describe.ts';
import { isPlainJson, serialize, toJsonObject } from './json.ts';
import { PLAIN, type Sighting, sameParts } from './template.ts';

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

/**
 * What describes the token itself: the same block in native, OCSF `resources[].data` and ECS. The
 * token block (encoding, context) differs per sighting: `s` marks it (template.ts).
 */
export function tokenPicks(f: TokenParts, s: Sighting = PLAIN): Record<string, unknown> {
  return { token: s.value(tokenBlockPicks(f.token)), ...tokenTailPicks(f) };
}

function tokenBlockPicks(t: TokenParts['token']): Record<string, unknown> {
  return {
    kind: t.kind,
    serialization: t.serialization,
    encoding: t.encoding,
    context: t.context,
    nested: t.nested,
    fingerprint: t.fingerprint,
    length: t.length,
  };
}

/** The part of `tokenPicks` after `token`: what comes from the token's analysis, not from where it was seen. */
function tokenTailPicks(f: TokenParts): Record<string, unknown> {
  const c = f.classification;
  return {
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
  return { token: tokenBlockPicks(f.token), ...findingTailPicks(f) };
}

/**
 * The part of a native token finding after `token`: header, claims, classification, status, risks,
 * frameworks, action, inner. All of it comes from the token's analysis (the same objects for every
 * record that carries the token), none from the record: see `createNativeText`.
 */
function findingTailPicks(f: Finding): Record<string, unknown> {
  return {
    ...tokenTailPicks(f),
    risks: f.risks.map(riskPicks),
    frameworks: f.frameworks,
    action: f.action,
    inner: f.inner === undefined ? undefined : innerPicks(f.inner),
  };
}

function headPicks(f: AnyFinding): Record<string, unknown> {
  return {
    schema: NATIVE_SCHEMA,
    id: f.id,
    time: f.time,
    rule: f.rule,
    severity: f.severity,
    source: sourcePicks(f.source),
  };
}

export function toNative(f: AnyFinding): JsonObject {
  const head = headPicks(f);
  if (isErrorFinding(f)) {
    return toJsonObject({ ...head, error: { code: f.error.code, reason: f.error.reason }, action: f.action });
  }
  return toJsonObject({ ...head, ...findingPicks(f) });
}

interface TailEntry {
  readonly parts: readonly unknown[];
  readonly text: string;
}

function tailParts(f: Finding): unknown[] {
  return [f.header, f.claims, f.classification, f.status, f.risks, f.frameworks, f.action, f.inner];
}

/**
 * `serialize(toNative(f))`, byte for byte, for a stream of findings. The text after `token` is
 * kept per token analysis (found by the identity of its objects: header, claims, classification,
 * status, risks, frameworks, inner, and the action) so that a token seen again costs only its
 * head: id, time, source and token block. The parts must not be changed in place once formatted
 * (the engine's analyses are shared by every record with the token and never are).
 *
 * Byte-identical because JSON.stringify writes an object's members one after the other, each
 * from its own value, and `toJson` copies each member at the same depth either way.
 */
export function createNativeText(): (f: AnyFinding) => string {
  const tails = new WeakMap<object, TailEntry>();
  return (f) => {
    if (isErrorFinding(f)) return serialize(toNative(f));
    // The head is a few strings and numbers: written as is, not copied first, when it is plain.
    const head = { ...headPicks(f), token: tokenBlockPicks(f.token) };
    const headText = serialize(isPlainJson(head) ? (head as JsonObject) : toJsonObject(head));
    const key: unknown = f.classification;
    const parts = tailParts(f);
    let entry = typeof key === 'object' && key !== null ? tails.get(key) : undefined;
    if (entry === undefined || !sameParts(entry.parts, parts)) {
      entry = { parts, text: serialize(toJsonObject(findingTailPicks(f))) };
      if (typeof key === 'object' && key !== null) tails.set(key, entry);
    }
    return entry.text === '{}' ? headText : `${headText.slice(0, -1)},${entry.text.slice(1)}`;
  };
}
