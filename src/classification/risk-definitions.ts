// The risks this stage knows how to find, and their data from patterns/risks.yaml: default
// severity, reason template, framework references; plus the tunable `settings`.
import type { Severity } from '../model.ts';
import { SEVERITIES } from '../model.ts';
import { compileGlob, type Glob } from './glob.ts';
import type { Checker, Path } from './schema.ts';

/** Each id is implemented in risks.ts; the YAML gives it severity, reason and frameworks. */
export const RISK_IDS = [
  'alg-none',
  'weak-hmac-secret',
  'header-jku',
  'header-x5u',
  'header-jwk',
  'header-x5c',
  'kid-injection',
  'deprecated-alg',
  'unexpected-alg',
  'zip-compression',
  'unknown-crit',
  'unencoded-payload',
  'typ-confusion',
  'missing-aud',
  'missing-exp',
  'lifetime-exceeds-policy',
  'iat-in-future',
  'live-token',
  'expired-token',
  'embedded-secret',
  'privileged-authz',
  'ci-untrusted-context',
  'pii-exposed',
  'internal-host-disclosed',
] as const;
export type RiskId = (typeof RISK_IDS)[number];

/** Who a token speaks for, as far as severity variants go. */
export const VARIANTS = ['workload', 'human'] as const;
export type Variant = (typeof VARIANTS)[number];

/** The placeholders a reason template may use: all are vocabulary or numbers, never token content. */
export const PLACEHOLDERS = [
  'alg',
  'identity',
  'profile',
  'token_type',
  'lifetime',
  'max_lifetime',
  'remaining',
  'age',
  'claims',
  'count',
  'detail',
] as const;

export interface RiskDefinition {
  id: RiskId;
  severity: Severity;
  variants: Partial<Record<Variant, Severity>>;
  reason: string;
  frameworks: readonly string[];
}

export interface KidMarker {
  label: string;
  contains: readonly string[];
  startsWith: readonly string[];
}

export interface RiskSettings {
  /** lifetime-exceeds-policy threshold when the caller gives none. */
  maxLifetimeSeconds: number;
  deprecatedAlgs: readonly string[];
  /** `crit` names this tool understands (RFC 7515 4.1.11). */
  understoodCrit: readonly string[];
  kidMarkers: readonly KidMarker[];
  /** kid values that are legitimately URLs or paths (cloud KMS key ids). */
  kidAllow: readonly Glob[];
  /** Values of authz.* claims that grant broad privilege (case-insensitive globs). */
  privilegedValues: readonly Glob[];
  /** iat further in the future than this is iat-in-future. */
  futureSkewSeconds: number;
}

export const FRAMEWORK_SYNTAX =
  /^(OWASP-NHI-2025:NHI([1-9]|10)|NIST-CSF-2\.0:(GV|ID|PR|DE|RS|RC)\.[A-Z]{2}-\d{2})$/;

const RISK_KEYS = ['severity', 'variants', 'reason', 'frameworks', 'description'] as const;

export function parseRiskDefinition(
  c: Checker,
  id: string,
  value: unknown,
  path: Path,
  base: RiskDefinition | undefined,
): RiskDefinition {
  if (!(RISK_IDS as readonly string[]).includes(id)) {
    throw c.src.error(path, `unknown risk id "${id}" (known: ${RISK_IDS.join(', ')})`);
  }
  const m = c.map(value, path, RISK_KEYS, base ? [] : ['severity', 'reason', 'frameworks']);
  const at = (k: string) => [...path, k];
  if (m['description'] !== undefined) c.string(m['description'], at('description'));
  const def: RiskDefinition = base
    ? { ...base }
    : { id: id as RiskId, severity: 'info', variants: {}, reason: '', frameworks: [] };
  if (m['severity'] !== undefined) def.severity = c.oneOf(m['severity'], at('severity'), SEVERITIES);
  if (m['variants'] !== undefined) {
    const v = c.map(m['variants'], at('variants'), VARIANTS);
    def.variants = {};
    for (const k of VARIANTS) {
      if (v[k] !== undefined) def.variants[k] = c.oneOf(v[k], [...at('variants'), k], SEVERITIES);
    }
  }
  if (m['reason'] !== undefined) {
    const reason = c.string(
      m['reason'],
      at('reason'),
      /^[^\n]{1,300}$/,
      'a one-line reason of at most 300 characters',
    );
    for (const [, name] of reason.matchAll(/\{([^{}]*)\}/g)) {
      if (!(PLACEHOLDERS as readonly string[]).includes(name!)) {
        throw c.src.error(at('reason'), `unknown placeholder {${name}} (known: ${PLACEHOLDERS.join(', ')})`);
      }
    }
    def.reason = reason;
  }
  if (m['frameworks'] !== undefined) {
    def.frameworks = c.stringList(
      m['frameworks'],
      at('frameworks'),
      FRAMEWORK_SYNTAX,
      'a framework reference like OWASP-NHI-2025:NHI2 or NIST-CSF-2.0:PR.DS-01',
    );
  }
  return def;
}

const SETTINGS_KEYS = [
  'max_lifetime_seconds',
  'deprecated_algs',
  'understood_crit',
  'kid_markers',
  'kid_allow',
  'privileged_values',
  'future_skew_seconds',
] as const;

export const DEFAULT_SETTINGS: RiskSettings = {
  maxLifetimeSeconds: 86_400,
  deprecatedAlgs: [],
  understoodCrit: ['b64'],
  kidMarkers: [],
  kidAllow: [],
  privilegedValues: [],
  futureSkewSeconds: 300,
};

/** Settings in a file replace the same settings from files of lower precedence, key by key. */
export function parseSettings(c: Checker, value: unknown, path: Path, base: RiskSettings): RiskSettings {
  const m = c.map(value, path, SETTINGS_KEYS);
  const at = (k: string) => [...path, k];
  const s: RiskSettings = { ...base };
  if (m['max_lifetime_seconds'] !== undefined) {
    s.maxLifetimeSeconds = c.number(m['max_lifetime_seconds'], at('max_lifetime_seconds'), 1);
  }
  if (m['future_skew_seconds'] !== undefined) {
    s.futureSkewSeconds = c.number(m['future_skew_seconds'], at('future_skew_seconds'), 0);
  }
  if (m['deprecated_algs'] !== undefined)
    s.deprecatedAlgs = c.stringList(m['deprecated_algs'], at('deprecated_algs'));
  if (m['understood_crit'] !== undefined)
    s.understoodCrit = c.stringList(m['understood_crit'], at('understood_crit'));
  if (m['kid_allow'] !== undefined)
    s.kidAllow = c.stringList(m['kid_allow'], at('kid_allow')).map((g) => compileGlob(g, true));
  if (m['privileged_values'] !== undefined) {
    s.privilegedValues = c
      .stringList(m['privileged_values'], at('privileged_values'))
      .map((g) => compileGlob(g, true));
  }
  if (m['kid_markers'] !== undefined) {
    s.kidMarkers = c.list(m['kid_markers'], at('kid_markers')).map((item, i) => {
      const p = [...at('kid_markers'), i];
      const k = c.map(item, p, ['label', 'contains', 'starts_with'], ['label']);
      const marker: KidMarker = {
        label: c.string(k['label'], [...p, 'label'], /^[A-Za-z0-9 ,()'-]{1,60}$/, 'a short plain label'),
        contains:
          k['contains'] === undefined
            ? []
            : c.stringList(k['contains'], [...p, 'contains'], /^.{1,64}$/s, 'a literal'),
        startsWith:
          k['starts_with'] === undefined
            ? []
            : c.stringList(k['starts_with'], [...p, 'starts_with'], /^.{1,64}$/s, 'a literal'),
      };
      if (marker.contains.length + marker.startsWith.length === 0) {
        throw c.src.error(p, 'a kid marker needs contains or starts_with');
      }
      return marker;
    });
  }
  return s;
}
