// Identity and token-type profiles (patterns/identities.yaml): match conditions on the header and
// the claims -> who the token speaks for (identity, workload or not) and what it is (token_type).
import { type JoseHeader, type JsonObject, type JsonValue, TOKEN_TYPES, type TokenType } from '../model.ts';
import { compileGlob, type Glob } from './glob.ts';
import { member, parsePointer, valueAt } from './json-pointer.ts';
import type { Checker, Path } from './schema.ts';

export { TOKEN_TYPES };

/** Array elements a condition looks at (aud, amr, groups...). */
const MAX_ITEMS_SCANNED = 64;

type Primitive = string | number | boolean;

export interface Condition {
  target: 'claim' | 'header';
  segments: readonly string[];
  present?: boolean;
  equals?: Primitive;
  oneOf?: readonly Primitive[];
  prefix?: string;
  suffix?: string;
  contains?: string;
  word?: string;
  /** Any of these globs. */
  glob?: readonly Glob[];
  mediaType?: string;
  equalsClaim?: readonly string[];
  type?: JsonType;
  maxItems?: number;
  ignoreCase: boolean;
}

export interface IdentityProfile {
  id: string;
  identity?: string;
  workload: boolean;
  tokenType?: TokenType;
  /** The algs this issuer signs with; another alg is the `unexpected-alg` risk. */
  algs?: readonly string[];
  all: readonly Condition[];
  any: readonly Condition[];
  none: readonly Condition[];
}

export interface IdentityResult {
  identity: string;
  profile?: string;
  token_type: TokenType;
  workload: boolean;
}

const JSON_TYPES = ['string', 'number', 'boolean', 'array', 'object', 'null'] as const;
type JsonType = (typeof JSON_TYPES)[number];

const CONDITION_KEYS = [
  'claim',
  'header',
  'present',
  'equals',
  'one_of',
  'prefix',
  'suffix',
  'contains',
  'word',
  'glob',
  'media_type',
  'equals_claim',
  'type',
  'max_items',
  'ignore_case',
] as const;
const OPERATORS = CONDITION_KEYS.filter((k) => k !== 'claim' && k !== 'header' && k !== 'ignore_case');

export const PROFILE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const IDENTITY_SYNTAX = /^[a-z0-9][a-z0-9-]{0,63}$/;
const ALG_SYNTAX = /^[A-Za-z0-9+_-]{1,32}$/;

// ---- parsing ----

function checkPath(c: Checker, value: unknown, path: Path): string[] {
  const s = c.string(value, path, /^.{1,512}$/s, 'a claim name or JSON pointer');
  if (!s.startsWith('/')) return [s];
  const segments = parsePointer(s);
  if (!segments) throw c.src.error(path, `"${s}" is not an RFC 6901 JSON pointer`);
  return segments;
}

function primitive(c: Checker, value: unknown, path: Path): Primitive {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  return c.number(value, path);
}

function parseCondition(c: Checker, value: unknown, path: Path): Condition {
  const m = c.map(value, path, CONDITION_KEYS);
  const hasClaim = m['claim'] !== undefined;
  if (hasClaim === (m['header'] !== undefined)) {
    throw c.src.error(path, 'a condition names exactly one of claim or header');
  }
  if (!OPERATORS.some((op) => m[op] !== undefined)) {
    throw c.src.error(path, `a condition needs an operator (${OPERATORS.join(', ')})`);
  }
  const at = (k: string) => [...path, k];
  const ignoreCase = m['ignore_case'] === undefined ? false : c.boolean(m['ignore_case'], at('ignore_case'));
  const fold = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  const cond: Condition = {
    target: hasClaim ? 'claim' : 'header',
    segments: checkPath(c, hasClaim ? m['claim'] : m['header'], at(hasClaim ? 'claim' : 'header')),
    ignoreCase,
  };
  if (m['present'] !== undefined) cond.present = c.boolean(m['present'], at('present'));
  if (m['equals'] !== undefined) {
    const v = primitive(c, m['equals'], at('equals'));
    cond.equals = typeof v === 'string' ? fold(v) : v;
  }
  if (m['one_of'] !== undefined) {
    cond.oneOf = c.list(m['one_of'], at('one_of')).map((v, i) => {
      const p = primitive(c, v, [...at('one_of'), i]);
      return typeof p === 'string' ? fold(p) : p;
    });
  }
  for (const k of ['prefix', 'suffix', 'contains', 'word'] as const) {
    if (m[k] !== undefined)
      cond[k] = fold(c.string(m[k], at(k), /^.{1,512}$/s, 'a string of 1 to 512 characters'));
  }
  if (m['glob'] !== undefined) {
    const globs = Array.isArray(m['glob'])
      ? c.stringList(m['glob'], at('glob'))
      : [c.string(m['glob'], at('glob'))];
    if (globs.length === 0) throw c.src.error(at('glob'), 'glob needs at least one pattern');
    cond.glob = globs.map((g) => compileGlob(g, ignoreCase));
  }
  if (m['media_type'] !== undefined)
    cond.mediaType = normalizeMediaType(c.string(m['media_type'], at('media_type')));
  if (m['equals_claim'] !== undefined) cond.equalsClaim = checkPath(c, m['equals_claim'], at('equals_claim'));
  if (m['type'] !== undefined) cond.type = c.oneOf(m['type'], at('type'), JSON_TYPES);
  if (m['max_items'] !== undefined) cond.maxItems = c.number(m['max_items'], at('max_items'), 0, 1e6);
  return cond;
}

const PROFILE_KEYS = ['id', 'identity', 'workload', 'token_type', 'algs', 'description', 'match'] as const;

export function parseProfile(c: Checker, value: unknown, path: Path): IdentityProfile {
  const m = c.map(value, path, PROFILE_KEYS, ['id', 'match']);
  const at = (k: string) => [...path, k];
  if (m['description'] !== undefined) c.string(m['description'], at('description'));
  const profile: IdentityProfile = {
    id: c.string(m['id'], at('id'), PROFILE_ID, 'a profile id (a-z, 0-9, -)'),
    workload: false,
    all: [],
    any: [],
    none: [],
  };
  if (m['identity'] !== undefined) {
    profile.identity = c.string(
      m['identity'],
      at('identity'),
      IDENTITY_SYNTAX,
      'an identity kind (a-z, 0-9, -)',
    );
    if (m['workload'] === undefined)
      throw c.src.error(path, 'a profile that names an identity says workload: true or false');
    profile.workload = c.boolean(m['workload'], at('workload'));
  } else if (m['workload'] !== undefined) {
    throw c.src.error(at('workload'), 'workload belongs to a profile that names an identity');
  }
  if (m['token_type'] !== undefined)
    profile.tokenType = c.oneOf(m['token_type'], at('token_type'), TOKEN_TYPES);
  if (profile.identity === undefined && profile.tokenType === undefined) {
    throw c.src.error(path, 'a profile names an identity, a token_type, or both');
  }
  if (m['algs'] !== undefined)
    profile.algs = c.stringList(m['algs'], at('algs'), ALG_SYNTAX, 'a JOSE alg name');
  const match = c.map(m['match'], at('match'), ['all', 'any', 'none']);
  const conditions = (k: 'all' | 'any' | 'none') =>
    match[k] === undefined
      ? []
      : c.list(match[k], [...at('match'), k]).map((v, i) => parseCondition(c, v, [...at('match'), k, i]));
  profile.all = conditions('all');
  profile.any = conditions('any');
  profile.none = conditions('none');
  if (profile.all.length + profile.any.length === 0) {
    throw c.src.error(at('match'), 'match needs at least one condition under all or any');
  }
  return profile;
}

// ---- matching ----

/** `typ`/`cty` compare case-insensitively and without `application/` (RFC 7515 section 4.1.9). */
export function normalizeMediaType(s: string): string {
  const lower = s.toLowerCase();
  return lower.startsWith('application/') ? lower.slice(12) : lower;
}

function typeOf(v: JsonValue): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as JsonType;
}

/** The string test of a string operator on one (case-folded when asked) string. */
type StringTest = (cond: Condition, s: string) => boolean;
const startsWithPrefix: StringTest = (cond, s) => s.startsWith(cond.prefix!);
const endsWithSuffix: StringTest = (cond, s) => s.endsWith(cond.suffix!);
const includesText: StringTest = (cond, s) => s.includes(cond.contains!);
const anyGlob: StringTest = (cond, s) => {
  for (const g of cond.glob!) if (g.match(s)) return true;
  return false;
};

/** A string operator holds for the value, or for one of its first MAX_ITEMS_SCANNED items. */
function stringOp(cond: Condition, v: JsonValue, test: StringTest): boolean {
  if (!Array.isArray(v)) {
    return typeof v === 'string' && test(cond, cond.ignoreCase ? v.toLowerCase() : v);
  }
  const n = Math.min(v.length, MAX_ITEMS_SCANNED);
  for (let i = 0; i < n; i++) {
    const item = v[i];
    if (typeof item !== 'string') continue;
    if (test(cond, cond.ignoreCase ? item.toLowerCase() : item)) return true;
  }
  return false;
}

function primitiveItem(cond: Condition, item: JsonValue | undefined, want: Primitive): boolean {
  if (typeof item === 'string' && typeof want === 'string')
    return (cond.ignoreCase ? item.toLowerCase() : item) === want;
  return item === want;
}

function primitiveMatch(cond: Condition, v: JsonValue, want: Primitive): boolean {
  if (!Array.isArray(v)) return primitiveItem(cond, v, want);
  const n = Math.min(v.length, MAX_ITEMS_SCANNED);
  for (let i = 0; i < n; i++) if (primitiveItem(cond, v[i], want)) return true;
  return false;
}

function hasWord(cond: Condition, v: JsonValue, word: string): boolean {
  if (typeof v === 'string') {
    const s = (cond.ignoreCase ? v.toLowerCase() : v).slice(0, 8192);
    for (const w of s.split(/\s+/)) if (w === word) return true;
    return false;
  }
  return primitiveMatch(cond, v, word);
}

function holds(cond: Condition, header: JoseHeader, claims: JsonObject | undefined): boolean {
  const root = cond.target === 'header' ? (header as JsonObject) : claims;
  const v = root === undefined ? undefined : valueAt(root, cond.segments);
  if (cond.present !== undefined && (v !== undefined) !== cond.present) return false;
  if (v === undefined) return cond.present === false;
  if (cond.type !== undefined && typeOf(v) !== cond.type) return false;
  if (cond.equals !== undefined && !primitiveMatch(cond, v, cond.equals)) return false;
  if (cond.oneOf !== undefined) {
    let any = false;
    for (const w of cond.oneOf) {
      if (primitiveMatch(cond, v, w)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  const { prefix, suffix, contains, word, glob, mediaType, maxItems, equalsClaim } = cond;
  if (prefix !== undefined && !stringOp(cond, v, startsWithPrefix)) return false;
  if (suffix !== undefined && !stringOp(cond, v, endsWithSuffix)) return false;
  if (contains !== undefined && !stringOp(cond, v, includesText)) return false;
  if (word !== undefined && !hasWord(cond, v, word)) return false;
  if (glob !== undefined && !stringOp(cond, v, anyGlob)) return false;
  if (mediaType !== undefined && !(typeof v === 'string' && normalizeMediaType(v) === mediaType))
    return false;
  if (maxItems !== undefined && (Array.isArray(v) ? v.length : 1) > maxItems) return false;
  if (equalsClaim !== undefined) {
    const other = claims === undefined ? undefined : valueAt(claims, equalsClaim);
    if (other === undefined || other === null || typeof other === 'object' || other !== v) return false;
  }
  return true;
}

export function profileMatches(
  p: IdentityProfile,
  header: JoseHeader,
  claims: JsonObject | undefined,
): boolean {
  for (const cond of p.all) if (!holds(cond, header, claims)) return false;
  if (p.any.length > 0) {
    let any = false;
    for (const cond of p.any) {
      if (holds(cond, header, claims)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  for (const cond of p.none) if (holds(cond, header, claims)) return false;
  return true;
}

// ---- the issuer index ----
// Most profiles are keyed on `iss` and tokens of a log share a few issuers: what every profile's
// conditions on the `iss` claim alone say is computed once per issuer string and remembered, so
// a token pays one lookup for them and only the other conditions are evaluated. Exact: a
// condition on `iss` alone (no equals_claim) depends on nothing but the iss value.

interface SplitProfile {
  /** `all` and `none` conditions on iss alone, and `any` when all of its conditions are. */
  issAll: readonly Condition[];
  issNone: readonly Condition[];
  anyOnIss: boolean;
  restAll: readonly Condition[];
  restNone: readonly Condition[];
}

interface IssuerIndex {
  split: readonly SplitProfile[];
  /** Per issuer: 1 where a profile's iss conditions hold. */
  byIssuer: Map<string, Uint8Array>;
  /** The same without an iss claim (or without claims). */
  noIssuer: Uint8Array | undefined;
}

const ISSUER_MEMO_MAX = 1024;
const ISSUER_MEMO_TEXT = 512;
const indexes = new WeakMap<readonly IdentityProfile[], IssuerIndex>();

const onIssOnly = (c: Condition) =>
  c.target === 'claim' && c.segments.length === 1 && c.segments[0] === 'iss' && c.equalsClaim === undefined;

function indexOf(profiles: readonly IdentityProfile[]): IssuerIndex {
  let index = indexes.get(profiles);
  if (index === undefined) {
    index = {
      split: profiles.map((p) => ({
        issAll: p.all.filter(onIssOnly),
        issNone: p.none.filter(onIssOnly),
        anyOnIss: p.any.length > 0 && p.any.every(onIssOnly),
        restAll: p.all.filter((c) => !onIssOnly(c)),
        restNone: p.none.filter((c) => !onIssOnly(c)),
      })),
      byIssuer: new Map(),
      noIssuer: undefined,
    };
    indexes.set(profiles, index);
  }
  return index;
}

function allHold(conds: readonly Condition[], header: JoseHeader, claims: JsonObject | undefined): boolean {
  for (const cond of conds) if (!holds(cond, header, claims)) return false;
  return true;
}

function noneHolds(conds: readonly Condition[], header: JoseHeader, claims: JsonObject | undefined): boolean {
  for (const cond of conds) if (holds(cond, header, claims)) return false;
  return true;
}

function anyHolds(conds: readonly Condition[], header: JoseHeader, claims: JsonObject | undefined): boolean {
  for (const cond of conds) if (holds(cond, header, claims)) return true;
  return false;
}

function issuerVerdicts(
  profiles: readonly IdentityProfile[],
  index: IssuerIndex,
  iss: string | undefined,
  header: JoseHeader,
  claims: JsonObject | undefined,
): Uint8Array {
  let verdicts = iss === undefined ? index.noIssuer : index.byIssuer.get(iss);
  if (verdicts === undefined) {
    verdicts = new Uint8Array(profiles.length);
    for (let i = 0; i < profiles.length; i++) {
      const s = index.split[i]!;
      const ok =
        allHold(s.issAll, header, claims) &&
        noneHolds(s.issNone, header, claims) &&
        (!s.anyOnIss || anyHolds(profiles[i]!.any, header, claims));
      verdicts[i] = ok ? 1 : 0;
    }
    if (iss === undefined) index.noIssuer = verdicts;
    else {
      if (index.byIssuer.size >= ISSUER_MEMO_MAX) index.byIssuer.clear();
      index.byIssuer.set(iss, verdicts);
    }
  }
  return verdicts;
}

/** profileMatches, given that the profile's conditions on iss alone hold. */
function restMatches(
  p: IdentityProfile,
  s: SplitProfile,
  header: JoseHeader,
  claims: JsonObject | undefined,
): boolean {
  if (!allHold(s.restAll, header, claims)) return false;
  if (!s.anyOnIss && p.any.length > 0 && !anyHolds(p.any, header, claims)) return false;
  return noneHolds(s.restNone, header, claims);
}

/**
 * Profiles are tried in order. The identity (and workload) comes from the first matching profile
 * that names one; the token type from the first matching profile that names one. `profile` is the
 * profile that gave the identity, else the one that gave the token type.
 */
export function resolveIdentity(
  profiles: readonly IdentityProfile[],
  header: JoseHeader,
  claims: JsonObject | undefined,
): IdentityResult {
  const iss = claims === undefined ? undefined : member(claims, 'iss');
  let index: IssuerIndex | undefined;
  let verdicts: Uint8Array | undefined;
  // Without claims or without iss, the iss conditions see no value: one verdict set for both.
  if (iss === undefined || (typeof iss === 'string' && iss.length <= ISSUER_MEMO_TEXT)) {
    index = indexOf(profiles);
    verdicts = issuerVerdicts(profiles, index, iss, header, claims);
  }
  let who: IdentityProfile | undefined;
  let what: IdentityProfile | undefined;
  for (let i = 0; i < profiles.length; i++) {
    const p = profiles[i]!;
    if ((who || p.identity === undefined) && (what || p.tokenType === undefined)) continue;
    if (verdicts !== undefined) {
      if (verdicts[i] === 0 || !restMatches(p, index!.split[i]!, header, claims)) continue;
    } else if (!profileMatches(p, header, claims)) continue;
    if (!who && p.identity !== undefined) who = p;
    if (!what && p.tokenType !== undefined) what = p;
    if (who && what) break;
  }
  const profile = who?.id ?? what?.id;
  return {
    identity: who?.identity ?? 'unknown',
    ...(profile !== undefined ? { profile } : {}),
    token_type: what?.tokenType ?? 'unknown',
    workload: who?.workload ?? false,
  };
}
