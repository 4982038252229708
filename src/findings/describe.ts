// The words and numbers every format shares: severity ranks, where a finding was seen, and the
// one-line title and message. Built from Finding fields only.
import type { AnyFinding, ErrorFinding, Finding, Severity, SourceRef, TokenKind } from '../model.ts';

export function isErrorFinding(f: AnyFinding): f is ErrorFinding {
  return 'error' in f;
}

/** info=1 ... critical=5: OCSF `severity_id`, ECS `event.severity`, and the order used for sorting. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  info: 1,
  low: 2,
  medium: 3,
  high: 4,
  critical: 5,
};

export function maxSeverity(severities: Iterable<Severity>): Severity | undefined {
  let max: Severity | undefined;
  for (const s of severities) if (max === undefined || SEVERITY_RANK[s] > SEVERITY_RANK[max]) max = s;
  return max;
}

/**
 * The path of the file that held the token: `name`, or `name!/member` for an archive member
 * (the `jar:` convention). Undefined for stdin, Kafka, or a file source without a name.
 */
export function sourcePath(source: SourceRef): string | undefined {
  if (source.kind !== 'file' || source.name === undefined) return undefined;
  return source.member === undefined ? source.name : `${source.name}!/${source.member.replace(/^\/+/, '')}`;
}

/** The file that held the token, for the `file` objects of OCSF and ECS. */
export function sourceFile(source: SourceRef): { path: string; name: string } | undefined {
  const path = sourcePath(source);
  if (path === undefined) return undefined;
  return { path, name: path.slice(path.lastIndexOf('/') + 1) };
}

/** Where, for people: `logs/app.log:12`, `export.har#/log/entries/0/...`, `kafka logs/3@1200`. */
export function sourceLabel(source: SourceRef): string {
  let where: string;
  if (source.kind === 'kafka') {
    where = `kafka ${source.topic ?? '?'}/${source.partition ?? '?'}@${source.offset ?? '?'}`;
  } else if (source.kind === 'stdin') {
    where = source.name ?? 'stdin';
  } else {
    where = sourcePath(source) ?? 'file';
  }
  if (source.line !== undefined) where += `:${source.line}`;
  if (source.pointer !== undefined) where += `#${source.pointer}`;
  return where;
}

const KIND_LABEL: Readonly<Record<TokenKind, string>> = {
  jws: 'JWS',
  jwe: 'JWE',
  unsecured: 'Unsecured JWT',
};

type TokenView = Pick<Finding, 'token' | 'classification'>;

function tokenPhrase(t: TokenView): string {
  const type = t.classification.token_type;
  return `${KIND_LABEL[t.token.kind] ?? t.token.kind} ${type === 'unknown' ? '' : `${type} `}token (${t.classification.identity})`;
}

function expiryPhrase(f: Pick<Finding, 'status' | 'claims'>): string {
  const s = f.status;
  if (s.expired === true) return s.expires_at === undefined ? 'expired' : `expired ${s.expires_at}`;
  if (s.not_yet_valid === true && s.not_before !== undefined) return `not valid before ${s.not_before}`;
  if (s.expires_at !== undefined) return `expires ${s.expires_at}`;
  // Readable claims without `exp` never expire; no claims (encrypted, opaque) means we cannot tell.
  return Object.keys(f.claims).length > 0 ? 'no expiry' : 'expiry unknown';
}

/** A short title: `JWS access token (k8s-service-account) exposed`. */
export function title(f: AnyFinding): string {
  if (isErrorFinding(f)) return `Processing error: ${f.error.code}`;
  return `${tokenPhrase(f)} exposed`;
}

/** One line an analyst can act on; the same text in every format. */
export function message(f: AnyFinding): string {
  if (isErrorFinding(f)) {
    const fate = f.action === 'quarantine' ? 'quarantined' : 'skipped';
    return `Record ${fate} at ${sourceLabel(f.source)}: ${f.error.reason} (${f.error.code})`;
  }
  const parts = [
    `${tokenPhrase(f)} at ${sourceLabel(f.source)}`,
    expiryPhrase(f),
    `fingerprint ${f.token.fingerprint}`,
  ];
  if (f.inner !== undefined) parts.push(`nested ${tokenPhrase(f.inner)}, ${expiryPhrase(f.inner)}`);
  if (f.risks.length > 0) parts.push(`risks: ${f.risks.map((r) => r.id).join(', ')}`);
  parts.push(`action: ${f.action}`);
  return parts.join('; ');
}
