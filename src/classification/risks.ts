// Risks of one token: header tricks, weak crypto, lifetime, liveness, what its claims expose.
// A reason is rendered from the risk's template with vocabulary only (alg names from the JOSE
// registries, identity kinds and profile ids from the rules, claim names that rules name, and
// numbers this code computed); a claim value, a secret or token material never enters one.
import type {
  ClaimCategory,
  Classification,
  DecodedToken,
  JoseHeader,
  JsonObject,
  JsonValue,
  Risk,
  Severity,
  TimeStatus,
} from '../model.ts';
import { SEVERITIES } from '../model.ts';
import type { CompiledClaimRules } from './claim-rules.ts';
import { normalizeMediaType } from './identity-profiles.ts';
import { isObject, member, parsePointer, valueAt } from './json-pointer.ts';
import type { RiskDefinition, RiskId, RiskSettings, Variant } from './risk-definitions.ts';
import { numericDate } from './time-status.ts';
import { isHmacAlg, type WeakSecretChecker } from './weak-secrets.ts';

/** What assessRisks needs from the loaded rules. */
export interface RiskRules {
  readonly risks: ReadonlyMap<RiskId, RiskDefinition>;
  readonly settings: RiskSettings;
  readonly claims: CompiledClaimRules;
  readonly weakSecrets: WeakSecretChecker;
  readonly profiles: ReadonlyMap<string, { workload: boolean; algs?: readonly string[] }>;
}

export interface RiskInput {
  decoded: DecodedToken;
  classification: Classification;
  status: TimeStatus;
}

export interface RiskContext<R extends RiskRules = RiskRules> {
  rules: R;
  now: Date;
  /** lifetime-exceeds-policy threshold; defaults to the rules' settings. */
  maxLifetimeSeconds?: number;
  /** Per risk id: another severity, or `off` to drop the risk (from the active policy). */
  riskOverrides?: Readonly<Record<string, Severity | 'off'>>;
}

/** JOSE algorithm names (RFC 7518, 8037, 8812, 9864 and ML-DSA): the only alg text a reason shows. */
const KNOWN_ALGS = new Set([
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'ES256K',
  'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519', 'Ed448', 'ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87',
  'RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512', 'A128KW', 'A192KW',
  'A256KW', 'dir', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW',
  'A128GCMKW', 'A192GCMKW', 'A256GCMKW', 'PBES2-HS256+A128KW', 'PBES2-HS384+A192KW',
  'PBES2-HS512+A256KW',
]); // biome-ignore format: a table

function showAlg(alg: unknown): string {
  if (typeof alg !== 'string') return 'a missing or non-string alg';
  if (KNOWN_ALGS.has(alg)) return alg;
  if (alg.toLowerCase() === 'none') return /^none$/i.test(alg) ? alg : 'none';
  return 'an unregistered alg';
}

/** "3 days", "5 h", "42 s": durations as a reason shows them. */
export function showDuration(seconds: number): string {
  const s = Math.abs(seconds);
  if (!Number.isFinite(s)) return 'forever';
  if (s >= 365 * 86_400 * 1000) return 'over 1000 years';
  if (s >= 2 * 365 * 86_400) return `${Math.floor(s / (365 * 86_400))} years`;
  if (s >= 2 * 86_400) return `${Math.floor(s / 86_400)} days`;
  if (s >= 2 * 3600) return `${Math.floor(s / 3600)} h`;
  if (s >= 120) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s)} s`;
}

const TYP_TYPES: Readonly<Record<string, string>> = {
  'at+jwt': 'access',
  'dpop+jwt': 'dpop-proof',
  'secevent+jwt': 'security-event',
  'logout+jwt': 'logout',
};
const BACKCHANNEL_LOGOUT = 'http://schemas.openid.net/event/backchannel-logout';
const CI_IDENTITIES = new Set(['github-actions', 'gitlab-ci']);
/** Triggers that let code from a fork or an outside contributor run with the repository's identity. */
const FORK_REACHABLE_EVENTS = new Set(['pull_request_target', 'workflow_run', 'issue_comment']);

/** The token type the claims alone suggest, when they are those of a specially typed token. */
function claimsShape(claims: JsonObject): string | undefined {
  if (member(claims, 'htm') !== undefined && member(claims, 'htu') !== undefined) return 'dpop-proof';
  const events = member(claims, 'events');
  if (isObject(events)) return Object.hasOwn(events, BACKCHANNEL_LOGOUT) ? 'logout' : 'security-event';
  if (
    member(claims, 'nonce') !== undefined ||
    member(claims, 'at_hash') !== undefined ||
    member(claims, 'c_hash') !== undefined
  ) {
    return 'id';
  }
  return undefined;
}

function kidProblem(kid: unknown, settings: RiskSettings): string | undefined {
  if (typeof kid !== 'string') return 'a value that is not a string';
  if (settings.kidAllow.some((g) => g.match(kid))) return undefined;
  if (kid.length > 512) return 'an oversized value';
  for (let i = 0; i < kid.length; i++) {
    const c = kid.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'a NUL or control character';
  }
  const lower = kid.toLowerCase();
  for (const m of settings.kidMarkers) {
    if (
      m.startsWith.some((p) => lower.startsWith(p.toLowerCase())) ||
      m.contains.some((p) => lower.includes(p.toLowerCase()))
    ) {
      return m.label;
    }
  }
  return undefined;
}

/**
 * The claims behind a risk, as a reason shows them: one item per top-level claim, named only when
 * a rule names it exactly (vocabulary, not token content), otherwise counted.
 */
function showClaims(keys: readonly string[], rules: CompiledClaimRules): string {
  const tops = new Map<string, string | undefined>();
  for (const key of keys) {
    let top = key;
    let name: string | undefined;
    if (key.startsWith('/')) {
      const segs = parsePointer(key);
      top = segs?.[0] ?? key;
      const last = segs?.[segs.length - 1];
      if (rules.pointers.has(key)) name = key;
      else if (last !== undefined && rules.nestedNames.has(last)) name = last;
    }
    if (rules.topNames.has(top)) name = top;
    if (!tops.has(top) || (tops.get(top) === undefined && name !== undefined)) tops.set(top, name);
  }
  const named = [...new Set([...tops.values()].filter((n) => n !== undefined))].slice(0, 4);
  const rest = tops.size - named.length;
  if (named.length === 0) return `${tops.size} claim${tops.size === 1 ? '' : 's'}`;
  return rest > 0 ? `${named.join(', ')} and ${rest} more` : named.join(', ');
}

function claimValue(claims: JsonObject, key: string): JsonValue | undefined {
  if (!key.startsWith('/')) return member(claims, key);
  const segs = parsePointer(key);
  return segs ? valueAt(claims, segs) : undefined;
}

/** privilegedCount of short string values (scopes recur across tokens), per settings; bounded. */
const privilegedMemo = new WeakMap<RiskSettings, Map<string, number>>();
const PRIVILEGED_MEMO_MAX = 4096;
const PRIVILEGED_MEMO_TEXT = 256;

/** How many values of an authz claim grant broad privilege (bounded scan). */
function privilegedCount(value: JsonValue | undefined, settings: RiskSettings): number {
  if (typeof value !== 'string' || value.length > PRIVILEGED_MEMO_TEXT)
    return countPrivileged(value, settings);
  let memo = privilegedMemo.get(settings);
  if (memo === undefined) {
    memo = new Map();
    privilegedMemo.set(settings, memo);
  }
  let n = memo.get(value);
  if (n === undefined) {
    n = countPrivileged(value, settings);
    if (memo.size >= PRIVILEGED_MEMO_MAX) memo.clear();
    memo.set(value, n);
  }
  return n;
}

function countPrivileged(value: JsonValue | undefined, settings: RiskSettings): number {
  const items: string[] = [];
  const push = (v: JsonValue) => {
    if (typeof v === 'string' && v.length <= 4096) for (const w of v.split(/[\s,]+/)) if (w) items.push(w);
  };
  if (Array.isArray(value)) for (const v of value.slice(0, 256)) push(v);
  else if (value !== undefined) push(value);
  let n = 0;
  for (const item of items.slice(0, 512))
    if (item === '*' || settings.privilegedValues.some((g) => g.match(item))) n++;
  return n;
}

type Add = (id: RiskId, vars?: Record<string, string>) => void;

const PLACEHOLDER = /\{([a-z_]+)\}/;
/** A reason template split once: literal text at even indexes, placeholder names at odd ones. */
const templates = new WeakMap<RiskDefinition, readonly string[]>();

/** The reason of a risk: each `{name}` from `vars`, else from `base`, else `unknown`. */
function render(def: RiskDefinition, base: Record<string, string>, vars: Record<string, string>): string {
  let parts = templates.get(def);
  if (parts === undefined) {
    parts = def.reason.split(PLACEHOLDER);
    templates.set(def, parts);
  }
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) {
    const k = parts[i]!;
    out += (Object.hasOwn(vars, k) ? vars[k] : base[k]) ?? 'unknown';
    out += parts[i + 1]!;
  }
  return out;
}

/** Risks the JOSE header carries: alg, key references, kid, crit, b64, typ. */
function headerRisks(
  decoded: DecodedToken,
  claims: JsonObject | undefined,
  rules: RiskRules,
  algs: readonly string[] | undefined,
  add: Add,
): void {
  const { settings } = rules;
  const headers: JoseHeader[] = decoded.headers.length > 0 ? decoded.headers : [decoded.header];
  const alg = decoded.header.alg;
  const headerAlgs = headers.map((h) => h.alg);
  const noneAlg = headerAlgs.find((a) => typeof a === 'string' && a.toLowerCase() === 'none');
  if (decoded.kind === 'unsecured' || noneAlg !== undefined)
    add('alg-none', { alg: showAlg(noneAlg ?? 'none') });
  const deprecated = headerAlgs.find(
    (a) => typeof a === 'string' && settings.deprecatedAlgs.some((d) => d.toLowerCase() === a.toLowerCase()),
  );
  if (deprecated !== undefined) add('deprecated-alg', { alg: showAlg(deprecated) });
  if (decoded.kind === 'jws' && isHmacAlg(alg) && decoded.signing) {
    const { input, signature } = decoded.signing;
    if (rules.weakSecrets.check(alg, input, signature) === true) add('weak-hmac-secret');
  }
  if (algs && decoded.kind === 'jws' && typeof alg === 'string' && !algs.includes(alg)) {
    add('unexpected-alg', { detail: algs.map(showAlg).join(', ') });
  }
  if (headers.some((h) => h.jku !== undefined)) add('header-jku');
  if (headers.some((h) => h.x5u !== undefined)) add('header-x5u');
  if (headers.some((h) => h.jwk !== undefined)) add('header-jwk');
  if (headers.some((h) => h.x5c !== undefined)) add('header-x5c');
  for (const h of headers) {
    const problem = h.kid === undefined ? undefined : kidProblem(h.kid, settings);
    if (problem) {
      add('kid-injection', { detail: problem });
      break;
    }
  }
  if (decoded.kind === 'jwe' && headers.some((h) => h.zip !== undefined)) add('zip-compression');

  let unknownCrit = 0;
  let badCrit = false;
  for (const h of headers) {
    if (h.crit === undefined) continue;
    if (!Array.isArray(h.crit) || h.crit.length === 0) {
      badCrit = true;
      continue;
    }
    for (const name of h.crit.slice(0, 64)) {
      if (typeof name !== 'string' || !Object.hasOwn(h, name)) badCrit = true;
      else if (!settings.understoodCrit.includes(name)) unknownCrit++;
    }
  }
  if (unknownCrit > 0 || badCrit) {
    add('unknown-crit', {
      count: String(unknownCrit),
      detail: badCrit
        ? 'crit is malformed (empty, not a list, or names a parameter the header lacks)'
        : 'crit names parameters this tool does not implement',
    });
  }

  const b64 = headers.find((h) => h.b64 === false);
  if (b64) {
    const declared = Array.isArray(b64.crit) && b64.crit.includes('b64');
    add('unencoded-payload', {
      detail: declared
        ? 'the payload is signed unencoded (RFC 7797): only verifiers that implement b64 check it'
        : 'b64 is false without crit: verifiers that ignore b64 check a different payload (RFC 7797 section 6)',
    });
  }

  const typ =
    typeof decoded.header.typ === 'string' ? TYP_TYPES[normalizeMediaType(decoded.header.typ)] : undefined;
  const shape = claims ? claimsShape(claims) : undefined;
  if (typ !== undefined && shape !== undefined && typ !== shape) {
    add('typ-confusion', { detail: `header typ says ${typ} but the claims are those of a ${shape} token` });
  } else if (
    typ === undefined &&
    (shape === 'dpop-proof' || shape === 'security-event' || shape === 'logout')
  ) {
    add('typ-confusion', {
      detail: `claims of a ${shape} token without its explicit typ: verifiers that skip the typ check may accept it as another kind (RFC 8725 section 3.11)`,
    });
  }
}

/** Audience, expiry, lifetime and liveness. */
function lifetimeRisks(
  claims: JsonObject,
  status: TimeStatus,
  type: string,
  ctx: RiskContext,
  add: Add,
): void {
  const { settings } = ctx.rules;
  if (member(claims, 'aud') === undefined && type !== 'dpop-proof') add('missing-aud');
  // DPoP proofs and SETs are bounded by iat and jti, not exp.
  if (
    numericDate(member(claims, 'exp')) === undefined &&
    type !== 'dpop-proof' &&
    type !== 'security-event'
  ) {
    add('missing-exp');
  }
  const max = ctx.maxLifetimeSeconds ?? settings.maxLifetimeSeconds;
  const span = status.lifetime_seconds ?? status.remaining_seconds;
  if (span !== undefined && span > max) {
    add('lifetime-exceeds-policy', { lifetime: showDuration(span), max_lifetime: showDuration(max) });
  }
  const iat = numericDate(member(claims, 'iat'));
  const ahead = iat === undefined ? 0 : iat - ctx.now.getTime() / 1000;
  if (ahead > settings.futureSkewSeconds) add('iat-in-future', { age: showDuration(ahead) });
  if (status.expired === true) {
    add('expired-token', { age: showDuration(-(status.remaining_seconds ?? 0)) });
  } else {
    const left = status.remaining_seconds;
    add('live-token', { remaining: left !== undefined ? `${showDuration(left)} left` : 'no expiry' });
  }
}

/** What the claims expose or grant: secrets, privilege, CI trust context, personal data, hosts. */
function exposureRisks(
  claims: JsonObject,
  classification: Classification,
  encrypted: boolean,
  rules: RiskRules,
  add: Add,
): void {
  const secrets: string[] = [];
  const authz: string[] = [];
  const pii: string[] = [];
  const internal: string[] = [];
  for (const key in classification.claims) {
    const c: ClaimCategory = classification.claims[key]!;
    if (c.startsWith('secret.')) secrets.push(key);
    else if (c.startsWith('pii.')) pii.push(key);
    else if (c === 'routing.internal') internal.push(key);
    else if (c === 'authz.scope' || c === 'authz.role' || c === 'authz.group') authz.push(key);
  }
  if (secrets.length > 0 && !encrypted) add('embedded-secret', { claims: showClaims(secrets, rules.claims) });

  let privileged = 0;
  const privilegedKeys: string[] = [];
  for (const key of authz.slice(0, 64)) {
    const n = privilegedCount(claimValue(claims, key), rules.settings);
    if (n > 0) {
      privileged += n;
      privilegedKeys.push(key);
    }
  }
  if (privileged > 0) {
    add('privileged-authz', { claims: showClaims(privilegedKeys, rules.claims), count: String(privileged) });
  }

  if (CI_IDENTITIES.has(classification.identity)) {
    const event = member(claims, 'event_name') ?? member(claims, 'pipeline_source');
    const forkReachable = typeof event === 'string' && FORK_REACHABLE_EVENTS.has(event);
    const protectedRef = member(claims, 'ref_protected');
    if (forkReachable || protectedRef === 'false' || protectedRef === false) {
      add('ci-untrusted-context', {
        detail: forkReachable
          ? 'a trigger that runs on behalf of outside contributors'
          : 'an unprotected branch or tag',
      });
    }
  }

  if (pii.length > 0 && !encrypted) add('pii-exposed', { claims: showClaims(pii, rules.claims) });
  if (internal.length > 0) add('internal-host-disclosed', { claims: showClaims(internal, rules.claims) });
}

export function assessRisks(input: RiskInput, ctx: RiskContext): Risk[] {
  const { decoded, classification, status } = input;
  const { rules } = ctx;
  const claims = decoded.payload.type === 'claims' ? decoded.payload.claims : undefined;
  const profile =
    classification.profile !== undefined ? rules.profiles.get(classification.profile) : undefined;
  const workload = profile?.workload ?? (classification as { workload?: boolean }).workload ?? false;
  const variant: Variant | undefined = workload
    ? 'workload'
    : classification.identity !== 'unknown'
      ? 'human'
      : undefined;
  const base: Record<string, string> = {
    alg: showAlg(decoded.header.alg),
    identity: classification.identity,
    profile: classification.profile ?? 'no profile',
    token_type: classification.token_type,
  };

  const found: Risk[] = [];
  const add: Add = (id, vars = {}) => {
    const def = rules.risks.get(id);
    const override = ctx.riskOverrides?.[id];
    if (!def || override === 'off') return;
    const severity = override ?? (variant ? def.variants[variant] : undefined) ?? def.severity;
    const reason = render(def, base, vars);
    found.push({ id, severity, reason, frameworks: [...def.frameworks] });
  };

  headerRisks(decoded, claims, rules, profile?.algs, add);
  if (claims) {
    lifetimeRisks(claims, status, classification.token_type, ctx, add);
    // A decrypted JWE was encrypted in transit: its claims were not readable on the way.
    exposureRisks(claims, classification, decoded.kind === 'jwe', rules, add);
  }
  const order = (s: Severity) => SEVERITIES.indexOf(s);
  return found.sort((a, b) => order(b.severity) - order(a.severity));
}
