// OCSF 1.4.0 Detection Finding (class_uid 2004, category Findings). The token is the affected
// resource (`resources[]`, uid = fingerprint), where it was seen is the evidence (`evidences[]`),
// and what OCSF has no attribute for (risk list, frameworks, action) goes under `unmapped.jwt_redactor`.
import type { AnyFinding, ErrorFinding, Finding, JsonObject, Severity, SourceRef } from '../model.ts';
import { isErrorFinding, maxSeverity, message, SEVERITY_RANK, sourceFile, title } from './describe.ts';
import { serialize, toJsonObject } from './json.ts';
import { NATIVE_SCHEMA, riskPicks, sourcePicks, tokenPicks } from './native.ts';
import { type FormatOptions, PRODUCT_NAME, productVersion, ruleInfo, VENDOR_NAME } from './product.ts';
import { createTemplateText, PLAIN, type Sighting } from './template.ts';

export const OCSF_VERSION = '1.4.0';
export const OCSF_CLASS_UID = 2004;
export const OCSF_CATEGORY_UID = 2;
const ACTIVITY_CREATE = 1;

const SEVERITY_CAPTION: Readonly<Record<Severity, string>> = {
  info: 'Informational',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
};

/** `risk_level_id`: 0 Info ... 4 Critical (a different scale from `severity_id`). */
const RISK_LEVEL: Readonly<Record<Severity, [number, string]>> = {
  info: [0, 'Info'],
  low: [1, 'Low'],
  medium: [2, 'Medium'],
  high: [3, 'High'],
  critical: [4, 'Critical'],
};

/**
 * OCSF `timestamp_t`: epoch milliseconds. A time that does not parse, or parses to before 1970 (a
 * finding's time is when it was found; "50" parses as 1950), becomes 0 rather than an invalid record.
 */
function epochMs(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms >= 0 ? ms : 0;
}

function evidence(source: SourceRef): Record<string, unknown> {
  const file = sourceFile(source);
  return {
    file:
      file === undefined ? undefined : { name: file.name, path: file.path, type_id: 1, type: 'Regular File' },
    data: { source: sourcePicks(source) },
  };
}

function tokenResource(
  f: Pick<Finding, 'token' | 'header' | 'claims' | 'classification' | 'status'>,
  s: Sighting = PLAIN,
) {
  return { type: 'JSON Web Token', uid: f.token.fingerprint, data: tokenPicks(f, s) };
}

function riskLevel(f: Finding): Record<string, unknown> {
  const level = maxSeverity(f.risks.map((r) => r.severity));
  if (level === undefined) return {};
  const [id, caption] = RISK_LEVEL[level];
  return {
    risk_level_id: id,
    risk_level: caption,
    risk_details: f.risks.map((r) => `${r.id}: ${r.reason}`).join('; '),
  };
}

/** What differs between a token finding and a processing error, in OCSF terms. */
interface Parts {
  correlation_uid?: string;
  desc?: string;
  types: string[];
  risk?: Record<string, unknown>;
  resources?: unknown[];
  unmapped: Record<string, unknown>;
}

function errorParts(f: ErrorFinding): Parts {
  return {
    desc: f.error.reason,
    types: ['Processing Error'],
    unmapped: {
      schema: NATIVE_SCHEMA,
      error: { code: f.error.code, reason: f.error.reason },
      action: f.action,
    },
  };
}

function findingParts(f: Finding, opts: FormatOptions | undefined, s: Sighting): Parts {
  const inner = f.inner;
  return {
    correlation_uid: f.token.fingerprint,
    desc: ruleInfo(opts, f.rule).description,
    types: ['Credential Exposure', 'JSON Web Token'],
    risk: riskLevel(f),
    resources: [tokenResource(f, s), ...(inner === undefined ? [] : [tokenResource(inner)])],
    unmapped: {
      schema: NATIVE_SCHEMA,
      risks: f.risks.map(riskPicks),
      frameworks: f.frameworks,
      action: f.action,
      inner:
        inner === undefined
          ? undefined
          : {
              rule: inner.rule,
              severity: inner.severity,
              risks: inner.risks.map(riskPicks),
              frameworks: inner.frameworks,
              action: inner.action,
            },
    },
  };
}

export function toOcsf(f: AnyFinding, opts?: FormatOptions): JsonObject {
  return toJsonObject(ocsfRecord(f, opts, PLAIN));
}

/** `serialize(toOcsf(f, opts))` for a stream of findings, a token's analysis formatted once (template.ts). */
export function createOcsfText(opts?: FormatOptions): (f: AnyFinding) => string {
  const tokenText = createTemplateText((f, s) => ocsfRecord(f, opts, s));
  return (f) => (isErrorFinding(f) ? serialize(toOcsf(f, opts)) : tokenText(f));
}

/** The OCSF record before its JSON copy; `s` marks what differs per sighting (template.ts). */
function ocsfRecord(f: AnyFinding, opts: FormatOptions | undefined, s: Sighting): Record<string, unknown> {
  const ms = epochMs(f.time);
  const p = isErrorFinding(f) ? errorParts(f) : findingParts(f, opts, s);
  return {
    activity_id: ACTIVITY_CREATE,
    activity_name: 'Create',
    category_uid: OCSF_CATEGORY_UID,
    category_name: 'Findings',
    class_uid: OCSF_CLASS_UID,
    class_name: 'Detection Finding',
    type_uid: OCSF_CLASS_UID * 100 + ACTIVITY_CREATE,
    type_name: 'Detection Finding: Create',
    severity_id: SEVERITY_RANK[f.severity],
    severity: SEVERITY_CAPTION[f.severity],
    status_id: 1,
    status: 'New',
    is_alert: f.severity !== 'info',
    time: s.value(ms),
    message: s.value(message(f)),
    metadata: {
      version: OCSF_VERSION,
      uid: s.value(f.id),
      correlation_uid: p.correlation_uid,
      product: { name: PRODUCT_NAME, vendor_name: VENDOR_NAME, version: productVersion(opts) },
    },
    finding_info: {
      uid: s.value(f.id),
      title: s.value(title(f)),
      desc: p.desc,
      types: p.types,
      analytic: { uid: f.rule, name: ruleInfo(opts, f.rule).name ?? f.rule, type_id: 1, type: 'Rule' },
      created_time: s.value(ms),
      data_sources: s.value([f.source.kind]),
    },
    ...p.risk,
    resources: p.resources,
    evidences: s.value([evidence(f.source)]),
    unmapped: { jwt_redactor: p.unmapped },
  };
}
