// SARIF 2.1.0 for `scan` in CI. A SARIF log is one document: `createSarifLogWriter` writes it as
// findings come (results first, then the tool and the rules seen); `toSarifLog([f])` is the
// one-finding form.
import type { AnyFinding, Finding, JsonObject, Severity, SourceRef } from '../model.ts';
import { isErrorFinding, message, SEVERITY_RANK } from './describe.ts';
import { serialize, toJsonObject } from './json.ts';
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

/**
 * The rules of a log: numbered in the order they first appear (so that a result's `ruleIndex` is
 * known when the result is written), each at the level of its most severe result.
 */
function ruleTable(opts: FormatOptions | undefined) {
  const order: string[] = [];
  const index = new Map<string, number>();
  const severity = new Map<string, Severity>();
  return {
    indexOf(f: AnyFinding): number {
      let i = index.get(f.rule);
      if (i === undefined) {
        i = order.length;
        order.push(f.rule);
        index.set(f.rule, i);
      }
      const seen = severity.get(f.rule);
      if (seen === undefined || SEVERITY_RANK[f.severity] > SEVERITY_RANK[seen])
        severity.set(f.rule, f.severity);
      return i;
    },
    tool(): JsonObject {
      const driver = toJsonObject({
        name: PRODUCT_NAME,
        informationUri: informationUri(opts),
        version: productVersion(opts),
        rules: order.map((id) => sarifRule(id, severity.get(id) ?? 'info', opts)),
      });
      return { driver };
    },
  };
}

/** A result with its `ruleIndex` after `ruleId` (the result is JSON already: not copied again). */
function indexedResult(f: AnyFinding, ruleIndex: number): JsonObject {
  const { ruleId, ...rest } = toSarifResult(f);
  return { ruleId: ruleId ?? f.rule, ruleIndex, ...rest };
}

/** A complete SARIF log for a set of findings (also the one-finding form for single-record sinks). */
export function toSarifLog(findings: Iterable<AnyFinding>, opts?: FormatOptions): JsonObject {
  const rules = ruleTable(opts);
  const results = Array.from(findings, (f) => indexedResult(f, rules.indexOf(f)));
  return { $schema: SARIF_SCHEMA, version: SARIF_VERSION, runs: [{ results, tool: rules.tool() }] };
}

export interface SarifLogWriter {
  /** The text of one more result (after the log's opening, for the first). */
  add(f: AnyFinding): string;
  /** The text that closes the log (the whole log when nothing was added): the tool and its rules. */
  end(): string;
}

// `serialize(toSarifLog(findings), 2)` cut where results go: results sit four levels deep (8 spaces),
// the tool three (6 spaces). Newlines in JSON text are structural (strings escape theirs).
const OPENING = `{\n  "$schema": ${JSON.stringify(SARIF_SCHEMA)},\n  "version": ${JSON.stringify(SARIF_VERSION)},\n  "runs": [\n    {\n      "results": [`;
const RESULT_BREAK = '\n        ';
const RUN_BREAK = '\n      ';

/**
 * A SARIF log written as findings come: the opening, each result, then the tool with the rules seen.
 * Only the rules stay in memory, not the results: a log built whole held every result until the end
 * (1.3 GB resident for a 1 GB export with 111,585 findings) and cannot pass V8's string limit
 * (2^29 characters), which a larger scan reaches. The text is `serialize(toSarifLog(findings), 2)`.
 */
export function createSarifLogWriter(opts?: FormatOptions): SarifLogWriter {
  const rules = ruleTable(opts);
  let count = 0;
  return {
    add(f) {
      const text = serialize(indexedResult(f, rules.indexOf(f)), 2).replaceAll('\n', RESULT_BREAK);
      return `${count++ === 0 ? OPENING : ','}${RESULT_BREAK}${text}`;
    },
    end() {
      const tool = serialize(rules.tool(), 2).replaceAll('\n', RUN_BREAK);
      return `${count === 0 ? OPENING : RUN_BREAK}],${RUN_BREAK}"tool": ${tool}\n    }\n  ]\n}`;
    },
  };
}
