// Elastic Common Schema 8.x. Only ECS field names at the top level; everything ECS has no field
// for (source coordinates such as Kafka topic/partition/offset, token details) lives under the
// custom `jwt_redactor` object, which ECS reserves for no one.
import type { AnyFinding, ErrorFinding, Finding, JsonObject, SourceRef } from '../model.ts';
import { isErrorFinding, message, SEVERITY_RANK, sourceFile } from './describe.ts';
import { serialize, toJsonObject } from './json.ts';
import { innerPicks, NATIVE_SCHEMA, riskPicks, sourcePicks, tokenPicks } from './native.ts';
import { type FormatOptions, PRODUCT_NAME, productVersion, ruleInfo, VENDOR_NAME } from './product.ts';
import { createTemplateText, PLAIN, type Sighting } from './template.ts';

export const ECS_VERSION = '8.11.0';
const DATASET = 'jwt_redactor.finding';

/** `file.*` for the file that held the token, `log.file.path` for the input file as given. */
function fileFields(source: SourceRef): Record<string, unknown> {
  const file = sourceFile(source);
  if (file === undefined) return {};
  return { file, log: { file: { path: source.name } } };
}

function eventFields(f: AnyFinding, kind: 'alert' | 'pipeline_error', s: Sighting): Record<string, unknown> {
  return kind === 'alert'
    ? {
        kind,
        category: ['intrusion_detection'],
        type: ['info'],
        action: f.action,
        severity: SEVERITY_RANK[f.severity],
        id: s.value(f.id),
        dataset: DATASET,
        module: 'jwt_redactor',
      }
    : {
        kind,
        action: f.action,
        outcome: 'failure',
        severity: SEVERITY_RANK[f.severity],
        id: f.id,
        dataset: DATASET,
        module: 'jwt_redactor',
      };
}

function common(
  f: AnyFinding,
  opts: FormatOptions | undefined,
  kind: 'alert' | 'pipeline_error',
  s: Sighting = PLAIN,
) {
  const rule = ruleInfo(opts, f.rule);
  return {
    '@timestamp': s.value(f.time),
    ecs: { version: ECS_VERSION },
    event: eventFields(f, kind, s),
    message: s.value(message(f)),
    rule: { id: f.rule, name: rule.name ?? f.rule, description: rule.description, ruleset: PRODUCT_NAME },
    observer: { product: PRODUCT_NAME, vendor: VENDOR_NAME, version: productVersion(opts) },
    ...s.members(fileFields(f.source)),
  };
}

function errorEcs(f: ErrorFinding, opts: FormatOptions | undefined): JsonObject {
  return toJsonObject({
    ...common(f, opts, 'pipeline_error'),
    error: { code: f.error.code, message: f.error.reason },
    jwt_redactor: { schema: NATIVE_SCHEMA, severity: f.severity, source: sourcePicks(f.source) },
  });
}

/** The ECS document of a token finding before its JSON copy; `s` marks what differs per sighting. */
function findingEcs(f: Finding, opts: FormatOptions | undefined, s: Sighting): Record<string, unknown> {
  const hashes = [f.token.fingerprint];
  if (f.inner !== undefined) hashes.push(f.inner.token.fingerprint);
  return {
    ...common(f, opts, 'alert', s),
    related: { hash: hashes },
    jwt_redactor: {
      schema: NATIVE_SCHEMA,
      severity: f.severity,
      source: s.value(sourcePicks(f.source)),
      ...tokenPicks(f, s),
      risks: f.risks.map(riskPicks),
      frameworks: f.frameworks,
      inner: f.inner === undefined ? undefined : innerPicks(f.inner),
    },
  };
}

/** An ECS document: `event.kind: alert` for a token, `pipeline_error` for a processing error. */
export function toEcs(f: AnyFinding, opts?: FormatOptions): JsonObject {
  return isErrorFinding(f) ? errorEcs(f, opts) : toJsonObject(findingEcs(f, opts, PLAIN));
}

/** `serialize(toEcs(f, opts))` for a stream of findings, a token's analysis formatted once (template.ts). */
export function createEcsText(opts?: FormatOptions): (f: AnyFinding) => string {
  const tokenText = createTemplateText((f, s) => findingEcs(f, opts, s));
  return (f) => (isErrorFinding(f) ? serialize(errorEcs(f, opts)) : tokenText(f));
}
