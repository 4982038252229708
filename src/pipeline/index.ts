// The engine: a record's path through detection, decoding, classification, policy, redaction
// and findings. Drivers (filter, scan, stream) use only what this file exports.
export { type Analysis, type Analyzer, createAnalyzer, safeHeader } from './analyze.ts';
export { type EngineConfig, engineFromConfig } from './config.ts';
export { createEngine, type EngineOptions, type FullEngine, holdBack } from './engine.ts';
export {
  boundPointer,
  childPointer,
  ELIDED_SEGMENT,
  jsonPaths,
  looksLikeJson,
  MAX_POINTER_LENGTH,
} from './json-paths.ts';
export type { ChunkRedactor, Engine, OutputOptions, RecordResult } from './types.ts';
