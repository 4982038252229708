// The batch side: `jwt-redactor scan` over files, folders, archives, HAR and huge JSON.

export { DEFAULT_LIMITS, type ScanLimits } from '../sources/limits.ts';
export { type EngineFactorySpec, type Executor, localExecutor, type StreamSession } from './executor.ts';
export { type ContentFormat, detectFormat, INPUT_FORMATS, type InputFormat } from './formats.ts';
export { absolutePointer, type Job, type JobResult, runJob } from './jobs.ts';
export { JsonSplitter, type JsonUnit, type SplitEvents, type SplitterOptions } from './json-splitter.ts';
export {
  checkOptions,
  type FindingSink,
  resolveLimits,
  type ScanDeps,
  type ScanOptions,
  type TextOut,
} from './options.ts';
export { createWorkerPool, defaultWorkerCount } from './pool.ts';
export { exitCodeFor, type ScanFailure, type ScanNote, type ScanReport } from './report.ts';
export { renderScanSummary, runScan } from './scan.ts';
