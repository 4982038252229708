// Per distinct token: decode, classify, judge, decide, and prepare the finding body and the
// replacement. Tokens recur in logs (one session token, thousands of requests), so results
// are cached by token text for a short time; the time status is what can change.
import { assessRisks, type ClassificationRules, classify, timeStatus } from '../classification/index.ts';
import { decodeReadable, decodeToken, type KeySet } from '../decoding/index.ts';
import { type Quoting, scan, type TokenItem, tokensOf } from '../detection/index.ts';
import type { DecodedToken, Finding, JoseHeader, JsonObject, JsonValue, Risk, Severity } from '../model.ts';
import { SEVERITIES } from '../model.ts';
import type { Decision, Policy } from '../policy/index.ts';
import {
  type Fingerprinter,
  holdsToken,
  jsonReplacement,
  placeholder,
  protectClaims,
  sanitizedCompact,
  sanitizedSignature,
} from '../redaction/index.ts';
import { TokenMap } from './token-map.ts';

export interface AnalyzerOptions {
  policy: Policy;
  rules: ClassificationRules;
  fingerprinter: Fingerprinter;
  keys?: KeySet;
  now?: () => Date;
  /** Distinct tokens remembered (default 4096). */
  cacheSize?: number;
  /** How long a cached analysis stays valid, in ms (default 30 s): time status moves on. */
  cacheTtlMs?: number;
}

export type FindingBody = Omit<Finding, 'schema' | 'id' | 'time' | 'source'>;

export interface Analysis {
  /** Null when the finding is below the policy's minimum severity (the token is still redacted). */
  finding: FindingBody | null;
  decision: Decision;
  /** Replacement text for an occurrence of this token (quoting differs per occurrence), or null for report. */
  replacement(item: TokenItem): string | null;
}

export interface Analyzer {
  analyze(item: TokenItem): Promise<Analysis>;
  /** The cached analysis of a token, when one is fresh (no await on the hot path). */
  cached(token: string): Analysis | undefined;
}

const HEADER_KEEP = new Set([
  'alg',
  'enc',
  'typ',
  'cty',
  'kid',
  'zip',
  'jku',
  'x5u',
  'crit',
  'b64',
  'x5t',
  'x5t#S256',
  'p2c',
  'ppt',
]);
const MAX_HEADER_STRING = 256;

/** Header members as they may appear in a finding: registered ones kept, keys summarised, the rest hashed. */
export function safeHeader(h: JoseHeader, fp: Fingerprinter): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(h)) {
    if (HEADER_KEEP.has(name) && !holdsToken(value)) {
      out[name] =
        typeof value === 'string' && value.length > MAX_HEADER_STRING
          ? `${value.slice(0, MAX_HEADER_STRING)}...`
          : (value as JsonValue);
    } else if (name === 'jwk' || name === 'epk') {
      const k = (value ?? {}) as Record<string, unknown>;
      const summary: Record<string, JsonValue> = {};
      for (const m of ['kty', 'crv', 'kid', 'alg', 'use'])
        if (typeof k[m] === 'string') summary[m] = k[m] as string;
      out[name] = summary;
    } else if (name === 'x5c') {
      out.x5c_count = Array.isArray(value) ? value.length : 1;
    } else if (name === 'iv' || name === 'tag' || name === 'p2s') {
      // key-wrapping parameters of the token itself: not copied (R1)
    } else {
      out[name] = fp.claimHash(typeof value === 'string' ? value : JSON.stringify(value));
    }
  }
  return out;
}

function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function subjectOf(decoded: DecodedToken): string | undefined {
  if (decoded.payload.type !== 'claims') return undefined;
  const { iss, sub } = decoded.payload.claims;
  return typeof sub === 'string' ? `${typeof iss === 'string' ? iss : ''}\n${sub}` : undefined;
}

/**
 * The replacement of every occurrence of an analysed token. Made outside the analysis so that a
 * cached analysis keeps only what replacing needs, not the decoded token and its claims.
 */
function replacementOf(
  fixedCompact: string | null,
  action: Decision['action'],
  sanitizable: boolean,
  kind: DecodedToken['kind'],
  json: TokenItem['json'],
  shownClaims: JsonObject,
  fp: Fingerprinter,
  tokenFp: string,
): Analysis['replacement'] {
  const jsonText = (q: Quoting): string | null => {
    if (action === 'report') return null;
    if (sanitizable) {
      const prot = (json?.protected ??
        (json?.signatures as { protected?: string }[] | undefined)?.[0]?.protected) as string | undefined;
      const payload = Buffer.from(JSON.stringify(shownClaims), 'utf8').toString('base64url');
      return jsonReplacement(q, {
        jwtr: sanitizedSignature(fp, tokenFp),
        ...(prot !== undefined ? { protected: prot } : {}),
        payload,
      });
    }
    const mode = action === 'hash' ? 'hash' : 'mask';
    return jsonReplacement(q, { jwtr: placeholder(kind, mode, fp, tokenFp) });
  };
  return (occ) => (occ.serialization === 'compact' ? fixedCompact : jsonText(occ.quoting));
}

export function createAnalyzer(options: AnalyzerOptions): Analyzer {
  const { policy, rules, fingerprinter: fp, keys } = options;
  const now = options.now ?? (() => new Date());
  const cacheSize = options.cacheSize ?? 4096;
  const ttl = options.cacheTtlMs ?? 30_000;
  const cache = new TokenMap<{ at: number; analysis: Analysis }>();
  // The cache's keys in the Map's own order, in a circular queue: the oldest key without
  // Map#keys().next(), which walks past every slot deleted since the Map last rehashed.
  const ring: (string | undefined)[] = new Array(Math.max(1, cacheSize));
  let head = 0;
  let count = 0;
  const remember = (token: string, entry: { at: number; analysis: Analysis }) => {
    if (cache.size >= cacheSize && count > 0) {
      cache.delete(ring[head]!);
      ring[head] = undefined;
      head = (head + 1) % ring.length;
      count--;
    }
    if (!cache.has(token)) {
      ring[(head + count) % ring.length] = token;
      count++;
    }
    cache.set(token, entry);
  };

  /** Classification, status, risks and the claims as they may be shown, for one decoded token. */
  const judge = (decoded: DecodedToken) => {
    const classification = classify(decoded, rules);
    const claims = decoded.payload.type === 'claims' ? decoded.payload.claims : ({} as JsonObject);
    const status = timeStatus(claims, now());
    const risks: Risk[] = assessRisks(
      { decoded, classification, status },
      { rules, now: now(), maxLifetimeSeconds: policy.limits.maxLifetimeSeconds },
    ).map((r) => ({ ...r, severity: policy.riskSeverity(r.id, r.severity) }));
    const decision = policy.decide({
      kind: decoded.kind,
      serialization: decoded.serialization,
      nested: decoded.nested,
      classification,
      risks,
      status,
      readable: decoded.payload.type === 'claims',
    });
    const shownClaims =
      decoded.payload.type === 'claims'
        ? protectClaims(
            decoded.payload.claims,
            classification.claims,
            (c) => policy.claimTreatment(c === 'unclassified' ? undefined : c),
            fp,
          )
        : {};
    return { classification, status, risks, decision, shownClaims };
  };

  const body = (decoded: DecodedToken, tokenFp: string, j: ReturnType<typeof judge>): FindingBody => {
    let severity = j.decision.severity;
    for (const r of j.risks) severity = maxSeverity(severity, r.severity);
    return {
      rule: j.decision.rule,
      severity,
      token: {
        kind: decoded.kind,
        serialization: decoded.serialization,
        encoding: [],
        context: 'text',
        nested: decoded.nested,
        fingerprint: `${fp.keyId}:${tokenFp}`,
        length: decoded.length,
      },
      header: safeHeader(decoded.header, fp),
      claims: j.shownClaims,
      classification: j.classification,
      status: j.status,
      risks: j.risks,
      frameworks: unique(j.risks.flatMap((r) => r.frameworks)).sort(),
      action: j.decision.action,
    };
  };

  const analyzeNow = async (item: TokenItem): Promise<Analysis> => {
    const decoded =
      keys !== undefined && item.kind === 'jwe' ? await decodeToken(item, keys) : decodeReadable(item);
    const j = judge(decoded);
    const tokenFp = fp.fingerprint(item.token);
    const finding = body(decoded, tokenFp, j);
    // A readable inner token (JWS payload or decrypted JWE plaintext) is judged too.
    if (decoded.payload.type === 'token') {
      const inner = tokensOf(scan(Buffer.from(decoded.payload.inner, 'latin1')).items)[0];
      if (inner !== undefined) {
        const innerDecoded =
          keys !== undefined && inner.kind === 'jwe' ? await decodeToken(inner, keys) : decodeReadable(inner);
        const ij = judge(innerDecoded);
        finding.inner = body(innerDecoded, fp.fingerprint(inner.token), ij);
        finding.severity = maxSeverity(finding.severity, finding.inner.severity);
      }
    }
    const subject = subjectOf(decoded);
    const action = j.decision.action;
    const sanitizable = action === 'sanitize' && decoded.kind !== 'jwe' && decoded.payload.type === 'claims';
    const compactText = (): string | null => {
      if (action === 'report') return null;
      if (sanitizable) {
        const headerB64 = item.token.slice(0, item.token.indexOf('.'));
        return sanitizedCompact(headerB64, j.shownClaims, sanitizedSignature(fp, tokenFp));
      }
      const mode = action === 'hash' ? 'hash' : 'mask';
      return placeholder(
        decoded.kind,
        mode,
        fp,
        tokenFp,
        mode === 'hash' && subject !== undefined ? fp.fingerprint(subject) : undefined,
      );
    };
    const fixedCompact = compactText();
    const shown = SEVERITIES.indexOf(finding.severity) >= SEVERITIES.indexOf(policy.minFindingSeverity);
    return {
      finding: shown ? finding : null,
      decision: j.decision,
      replacement: replacementOf(
        fixedCompact,
        action,
        sanitizable,
        decoded.kind,
        item.json,
        j.shownClaims,
        fp,
        tokenFp,
      ),
    };
  };

  const cached = (token: string): Analysis | undefined => {
    const hit = cache.get(token);
    return hit !== undefined && Date.now() - hit.at < ttl ? hit.analysis : undefined;
  };
  return {
    cached,
    async analyze(item) {
      const t = Date.now();
      const hit = cached(item.token);
      if (hit !== undefined) return hit;
      const analysis = await analyzeNow(item);
      remember(item.token, { at: t, analysis });
      return analysis;
    },
  };
}
