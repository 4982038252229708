// The end-of-run summary for the CLI: counts, and the tokens an incident responder acts on first
// (live ones, most severe first). `summarize` returns data; `renderSummary` makes the stderr text.
import type { AnyFinding, Finding, Severity, TokenKind, TokenType } from '../model.ts';
import { SEVERITY_RANK } from './describe.ts';

export interface Count {
  key: string;
  count: number;
}

export interface TokenSummary {
  fingerprint: string;
  kind: TokenKind;
  identity: string;
  token_type: TokenType;
  /** The highest severity of any finding for this token. */
  severity: Severity;
  /** Not known to be expired: expired tokens are `expired: true`; no `exp` or unreadable claims count as live. */
  live: boolean;
  expires_at?: string;
  /** Findings (outer or nested) that carried this fingerprint. */
  sightings: number;
}

export interface FindingsSummary {
  /** All findings, processing errors included. */
  findings: number;
  errors: number;
  highest?: Severity;
  bySeverity: Record<Severity, number>;
  /** Sorted by count (descending), then key. */
  byRule: Count[];
  /** Identity of each token finding (processing errors have none). */
  byIdentity: Count[];
  liveTokens: number;
  /** One entry per distinct fingerprint (nested tokens too): live first, then severity, then latest expiry. */
  tokens: TokenSummary[];
}

/**
 * What the summary reads of a token finding: its token's analysis, the same for every sighting (a
 * worker thread sends findings that are only counted as that alone: batch/finding-pack.ts).
 */
export type FindingAnalysis = Pick<
  Finding,
  'rule' | 'severity' | 'token' | 'classification' | 'status' | 'inner'
>;

export interface SummaryAccumulator {
  add(f: AnyFinding | FindingAnalysis): void;
  result(): FindingsSummary;
}

type TokenView = Pick<Finding, 'token' | 'classification' | 'status' | 'severity'>;

function counts(map: Map<string, number>): Count[] {
  return [...map]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function expiryMs(t: TokenSummary): number {
  // No known expiry sorts as "never expires": the longest exposure window comes first.
  if (t.expires_at === undefined) return Number.POSITIVE_INFINITY;
  const ms = Date.parse(t.expires_at);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

function compareTokens(a: TokenSummary, b: TokenSummary, aExpiry: number, bExpiry: number): number {
  return (
    Number(b.live) - Number(a.live) ||
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    // Infinity - Infinity is NaN, which || treats as a tie.
    bExpiry - aExpiry ||
    (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0)
  );
}

/** For drivers that see findings one at a time: memory grows with distinct tokens, not with findings. */
export function createSummaryAccumulator(): SummaryAccumulator {
  let findings = 0;
  let errors = 0;
  const bySeverity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  const byRule = new Map<string, number>();
  const byIdentity = new Map<string, number>();
  const tokens = new Map<string, TokenSummary>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  const addToken = (t: TokenView) => {
    const live = t.status.expired !== true;
    const seen = tokens.get(t.token.fingerprint);
    if (seen === undefined) {
      tokens.set(t.token.fingerprint, {
        fingerprint: t.token.fingerprint,
        kind: t.token.kind,
        identity: t.classification.identity,
        token_type: t.classification.token_type,
        severity: t.severity,
        live,
        expires_at: t.status.expires_at,
        sightings: 1,
      });
      return;
    }
    seen.sightings += 1;
    // Expiry only moves one way: one sighting that saw it expired settles it.
    seen.live &&= live;
    seen.expires_at ??= t.status.expires_at;
    if (SEVERITY_RANK[t.severity] > SEVERITY_RANK[seen.severity]) seen.severity = t.severity;
  };

  return {
    add(f) {
      findings += 1;
      bySeverity[f.severity] += 1;
      bump(byRule, f.rule);
      if ('error' in f) {
        errors += 1;
        return;
      }
      bump(byIdentity, f.classification.identity);
      addToken(f);
      if (f.inner !== undefined) addToken(f.inner);
    },
    result() {
      // Each token's expiry parsed once, not in every comparison (n log n Date.parse calls were ~10% of
      // a scan with 100,000 distinct tokens).
      const list = [...tokens.values()]
        .map((t) => ({ t: { ...t }, expiry: expiryMs(t) }))
        .sort((a, b) => compareTokens(a.t, b.t, a.expiry, b.expiry))
        .map((e) => e.t);
      const highest = (Object.keys(bySeverity) as Severity[]).find((s) => bySeverity[s] > 0);
      const summary: FindingsSummary = {
        findings,
        errors,
        bySeverity: { ...bySeverity },
        byRule: counts(byRule),
        byIdentity: counts(byIdentity),
        liveTokens: list.filter((t) => t.live).length,
        tokens: list,
      };
      if (highest !== undefined) summary.highest = highest;
      return summary;
    },
  };
}

export function summarize(findings: Iterable<AnyFinding>): FindingsSummary {
  const acc = createSummaryAccumulator();
  for (const f of findings) acc.add(f);
  return acc.result();
}

/** Terminal control and bidi-override characters in a name must not reach the operator's terminal. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Plain text for stderr, ending in a newline. Shows at most `maxTokens` live tokens (default 10). */
export function renderSummary(s: FindingsSummary, opts: { maxTokens?: number } = {}): string {
  const max = opts.maxTokens ?? 10;
  const list = (cs: Count[]) => cs.map((c) => `${printable(c.key)} ${c.count}`).join(', ');
  const head = [plural(s.findings, 'finding')];
  if (s.errors > 0) head.push(plural(s.errors, 'processing error'));
  head.push(`${plural(s.tokens.length, 'distinct token')} (${s.liveTokens} live)`);
  if (s.highest !== undefined) head.push(`highest severity ${s.highest}`);
  const lines = [`jwt-redactor: ${head.join(', ')}`];
  if (s.findings > 0) {
    const order: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
    lines.push(`  by severity: ${order.map((sev) => `${sev} ${s.bySeverity[sev]}`).join(', ')}`);
    lines.push(`  by rule: ${list(s.byRule)}`);
    if (s.byIdentity.length > 0) lines.push(`  by identity: ${list(s.byIdentity)}`);
  }
  const live = s.tokens.filter((t) => t.live);
  if (live.length > 0) {
    lines.push('  live tokens:');
    for (const t of live.slice(0, max)) {
      const expiry = t.expires_at === undefined ? 'no known expiry' : `expires ${printable(t.expires_at)}`;
      const seen = t.sightings > 1 ? `  (${t.sightings} sightings)` : '';
      lines.push(
        `    ${t.severity.padEnd(8)}  ${printable(t.identity)}  ${t.kind} ${t.token_type}  ${expiry}  ${printable(t.fingerprint)}${seen}`,
      );
    }
    if (live.length > max) lines.push(`    ... and ${live.length - max} more`);
  }
  return `${lines.join('\n')}\n`;
}
