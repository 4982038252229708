// Findings out: one module per output format, the writers that put them on a sink, and the
// end-of-run summary. Formatters copy Finding fields only; they never see raw input.
export { isErrorFinding, message, SEVERITY_RANK, sourceLabel, title } from './describe.ts';
export { ECS_VERSION, toEcs } from './ecs.ts';
export { serialize } from './json.ts';
export { NATIVE_SCHEMA, toNative } from './native.ts';
export { OCSF_CATEGORY_UID, OCSF_CLASS_UID, OCSF_VERSION, toOcsf } from './ocsf.ts';
export type { FormatOptions, RuleInfo } from './product.ts';
export {
  createSarifLogWriter,
  SARIF_FINGERPRINT_KEY,
  SARIF_SCHEMA,
  SARIF_VERSION,
  type SarifLogWriter,
  toSarifLog,
  toSarifResult,
} from './sarif.ts';
export {
  type Count,
  createSummaryAccumulator,
  type FindingAnalysis,
  type FindingsSummary,
  renderSummary,
  type SummaryAccumulator,
  summarize,
  type TokenSummary,
} from './summary.ts';
export {
  createFindingFormatter,
  createFindingWriter,
  FINDING_FORMATS,
  type FindingFormat,
  type FindingWriter,
  formatFinding,
  formatObject,
  type TextSink,
  type WriterOptions,
} from './writer.ts';
