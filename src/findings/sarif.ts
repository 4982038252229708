// SARIF 2.1.0 for `scan` in CI. A SARIF log is one document, so results are collected and the
// document (tool, rules, results) is built once at the end; `toSarifLog([f])` is the one-finding form.
import type { AnyFinding, Finding, JsonObject, Severity, SourceRef } from '../model.ts';
import { isErrorFinding, message, SEVERITY_RANK } from './describe.ts';
import { toJsonObject } from './json.ts';
import { findingPicks, sourcePicks } from './native.ts';
import { type FormatOptions, informationUri, PRODUCT_NAME, productVersion, ruleInfo } from './product.ts';

export const SARIF_VERSION = '2.1.0';
export const SARIF_SCHEMA =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';
/** `partialFingerprints` key: the keyed token fingerprint, stable across runs under one key (R3). */
export const SARIF_FINGERPRINT_KEY = 'jwtFingerprint/v1';

type SarifLevel = 'error' | 'warning' | 'note';

const LEVEL: Readonly<Record<Severity, SarifLevel>> = {
  info: 'note',
  low: 'note',
  medium: 'warning',
  high: 'error',
  critical: 'error',
};

/** GitHub code scanning ranks security alerts by this rule property (0.1-3.9 low ... 9.0+ critical). */
const SECURITY_SEVERITY: Readonly<Record<Severity, string | undefined>> = {
  info: undefined,
  low: '3.0',
  medium: '5.5',
  high: '8.0',
  critical: '9.5',
};

const PROCESSING_ERROR_TEXT = {
  description:
    'A record could not be processed safely and was kept out of the redacted output (fail closed).',
  help:
    'The record went to quarantine (masked) or was skipped instead of being passed through. Check the ' +
    'error code, then raise the limit or fix the input and scan it again.',
};
const TOKEN_HELP =
  'A JSON Web Token was found in logs or exported data. Treat a live token as compromised: revoke it or ' +
  'rotate the credential that issued it, fix the code path that logged it, and keep redaction in front ' +
  'of the log pipeline.';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A path as a URI reference: segments percent-encoded, absolute paths as `file:` URIs. */
export function pathToUri(path: string): string {
  const encode = (p: string) =>
    p
      .split('/')
      // encodeURIComponent throws on a lone surrogate; a name can carry one, the URI takes U+FFFD.
      .map((seg) => encodeURIComponent(seg.replace(LONE_SURROGATE, '\ufffd')).replace(/!/g, '%21'))
      .join('/');
  const drive = /^([A-Za-z]):[\\/]/.exec(path);
  if (drive !== null) return `file:///${drive[1]}:/${encode(path.slice(3).replace(/\\/g, '/'))}`;
  if (path.startsWith('/')) return `file://${encode(path)}`;
  return encode(path);
}

/** `archive.tgz!/path/in/archive` for archive members; `!` inside names is percent-encoded. */
function artifactUri(source: SourceRef): string | undefined {
  if (source.kind !== 'file' || source.name === undefined) return undefined;
  const base = pathToUri(source.name);
  if (source.member === undefined) return base;
  return `${base}!/${pathToUri(source.member.replace(/^\/+/, ''))}`;
}

function locations(source: SourceRef): unknown[] | undefined {
  const uri = artifactUri(source);
  const region = source.line === undefined ? undefined : { startLine: source.line };
  const physical =
    uri !== undefined
      ? { artifactLocation: { uri }, region }
      : source.kind === 'stdin'
        ? { artifactLocation: { description: { text: source.name ?? 'standard input' } }, region }
        : undefined;
  const logical: unknown[] = [];
  if (source.kind === 'kafka' && source.topic !== undefined) {
    logical.push({
      kind: 'resource',
      name: source.topic,
      fullyQualifiedName: `kafka:${source.topic}/${source.partition ?? ''}/${source.offset ?? ''}`,
    });
  }
  if (source.pointer !== undefined) logical.push({ kind: 'value', fullyQualifiedName: source.pointer });
  if (physical === undefined && logical.length === 0) return undefined;
  return [{ physicalLocation: physical, logicalLocations: logical.length > 0 ? logical : undefined }];
}

function findingProperties(f: Finding): Record<string, unknown> {
  return {
    id: f.id,
    time: f.time,
    severity: f.severity,
    source: sourcePicks(f.source),
    ...findingPicks(f),
  };
}

/** One SARIF `result` (without `ruleIndex`, which only the whole log can assign). */
export function toSarifResult(f: AnyFinding): JsonObject {
  const error = isErrorFinding(f);
  return toJsonObject({
    ruleId: f.rule,
    level: LEVEL[f.severity],
    message: { text: message(f) },
    locations: locations(f.source),
    partialFingerprints: error ? undefined : { [SARIF_FINGERPRINT_KEY]: f.token.fingerprint },
    properties: error
      ? {
          id: f.id,
          time: f.time,
          severity: f.severity,
          source: sourcePicks(f.source),
          error: { code: f.error.code, reason: f.error.reason },
          action: f.action,
        }
      : findingProperties(f),
  });
}

function sarifRule(id: string, severity: Severity, opts: FormatOptions | undefined): Record<string, unknown> {
  const info = ruleInfo(opts, id);
  const builtin = id === 'processing-error' ? PROCESSING_ERROR_TEXT : undefined;
  const description = info.description ?? builtin?.description ?? `JSON Web Token finding: ${id}`;
  return {
    id,
    name: info.name,
    shortDescription: { text: description },
    defaultConfiguration: { level: LEVEL[severity] },
    help: { text: info.help ?? builtin?.help ?? TOKEN_HELP },
    properties: { tags: ['security', 'jwt'], 'security-severity': SECURITY_SEVERITY[severity] },
  };
}

export interface SarifLogBuilder {
  add(f: AnyFinding): void;
  /** The whole log; rules sorted by id, each at the level of its most severe result. */
  build(): JsonObject;
}

export function createSarifLogBuilder(opts?: FormatOptions): SarifLogBuilder {
  const results: { rule: string; result: JsonObject }[] = [];
  const ruleSeverity = new Map<string, Severity>();
  return {
    add(f) {
      results.push({ rule: f.rule, result: toSarifResult(f) });
      const seen = ruleSeverity.get(f.rule);
      if (seen === undefined || SEVERITY_RANK[f.severity] > SEVERITY_RANK[seen]) {
        ruleSeverity.set(f.rule, f.severity);
      }
    },
    build() {
      const ids = [...ruleSeverity.keys()].sort();
      const index = new Map(ids.map((id, i) => [id, i]));
      // Results are JSON already: insert `ruleIndex` after `ruleId` without copying them again.
      const indexed = results.map(({ rule, result }): JsonObject => {
        const { ruleId, ...rest } = result;
        return { ruleId: ruleId ?? rule, ruleIndex: index.get(rule) ?? -1, ...rest };
      });
      const driver = toJsonObject({
        name: PRODUCT_NAME,
        informationUri: informationUri(opts),
        version: productVersion(opts),
        rules: ids.map((id) => sarifRule(id, ruleSeverity.get(id) ?? 'info', opts)),
      });
      return {
        $schema: SARIF_SCHEMA,
        version: SARIF_VERSION,
        runs: [{ tool: { driver }, results: indexed }],
      };
    },
  };
}

/** A complete SARIF log for a set of findings (also the one-finding form for single-record sinks). */
export function toSarifLog(findings: Iterable<AnyFinding>, opts?: FormatOptions): JsonObject {
  const builder = createSarifLogBuilder(opts);
  for (const f of findings) builder.add(f);
  return builder.build();
}
