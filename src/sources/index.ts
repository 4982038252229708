// Where bytes come from: files, folders and stdin, and the containers inside them (gzip, tar, zip),
// read as streams under the decompression limits.
export {
  describeFsError,
  errnoCode,
  type InputPlan,
  type PlanIssue,
  type PlannedInput,
  planInputs,
  readFileChunks,
  readStreamChunks,
} from './files.ts';
export { gunzip } from './gzip.ts';
export {
  checkDeclaredRatio,
  createBudget,
  DEFAULT_LIMITS,
  type ExpansionBudget,
  LimitError,
  RATIO_FLOOR_BYTES,
  RatioGuard,
  type ScanLimits,
} from './limits.ts';
export { type Peeked, peek } from './peek.ts';
export {
  type Container,
  detectContainer,
  detectUnsupported,
  innerName,
  SNIFF_BYTES,
  type UnsupportedContainer,
} from './sniff.ts';
export { readTar, type TarMemberHandler } from './tar.ts';
export { readZip, readZipStream, type ZipMember, type ZipMemberHandler } from './zip.ts';
