// The options of `jwt-redactor scan` as the batch driver takes them, and their checks. The CLI parses
// flags, config file and environment into this; everything here is plain data.
import type { AnyFinding, Severity } from '../model.ts';
import { SEVERITIES } from '../model.ts';
import type { Engine } from '../pipeline/types.ts';
import { DEFAULT_LIMITS, type ScanLimits } from '../sources/limits.ts';
import { ConfigError } from '../util/errors.ts';
import type { EngineFactorySpec, Executor } from './executor.ts';
import { INPUT_FORMATS, type InputFormat } from './formats.ts';

export interface ScanOptions {
  /** Files, folders (recursive), archives; '-' or none for stdin. */
  inputs: readonly string[];
  /** One input only: where its redacted copy goes; '-' for stdout. */
  out?: string;
  /** Mirror of the inputs, each under its base name; archives written back as archives of the same kind. */
  outDir?: string;
  /** Format of non-archive content. Default 'auto' (name, then content). */
  inputFormat?: InputFormat;
  /** Severity from which findings make the scan "fail" (exit 1). Only reported here. */
  failOn?: Severity;
  /** Progress bar on stderr when it is a terminal. Default true. */
  progress?: boolean;
  /**
   * Threads running the engine: this thread and `workers - 1` worker threads (1: this thread alone).
   * Default: 1 without `engineFactory`, else the number of cores (at most 8).
   */
  workers?: number;
  /** How workers (or, without `deps.engine`, this thread) build their engine. */
  engineFactory?: EngineFactorySpec;
  /** Decompression limits (zip bombs). */
  limits?: Partial<ScanLimits>;
  /** Follow symlinks found inside input folders. Default false. */
  followSymlinks?: boolean;
  /** Where temporary files go (spooled archive members, zips read from streams). Default: the OS temp dir. */
  tempDir?: string;
  /** The engine's largest record (its policy's max_record_bytes); every job stays within it. Default: from the engine, else 1 MiB. */
  recordBytes?: number;
  /** Target size of a job of lines. Default 1 MiB (at most recordBytes). Batches of JSON members take at most this and 256 KiB. */
  blockBytes?: number;
  /** Archive members up to this size are spooled in memory, larger ones in a temp file. Default 8 MiB. */
  spoolMemoryBytes?: number;
}

/** Where findings go (a findings writer from src/findings, a collector in tests). */
export interface FindingSink {
  write(finding: AnyFinding): void | Promise<void>;
  /**
   * Nothing is written: findings are only counted for the summary. Worker threads then send a token
   * finding as its analysis alone (batch/finding-pack.ts), which `write` never sees; error findings
   * still come whole.
   */
  readonly countOnly?: boolean;
}

/** Text output for the summary and the progress bar. */
export interface TextOut {
  write(text: string): unknown;
  /** Terminal width, when known. */
  columns?: number;
}

export interface ScanDeps {
  /** The engine for this thread (not needed when `engineFactory` is given). */
  engine?: Engine;
  findings: FindingSink;
  stderr: TextOut;
  /** stderr is a terminal (progress bar). */
  isTTY: boolean;
  /** Default process.stdin / process.stdout. */
  stdin?: AsyncIterable<Uint8Array | string>;
  stdout?: NodeJS.WritableStream;
  /**
   * Where jobs run, when the caller keeps one across scans (a worker pool started once, see
   * createWorkerPool): runScan then neither starts nor closes an executor, and `workers` and
   * `engineFactory` are not used. `engine` is still this thread's engine (record size limit).
   */
  executor?: Executor;
  /** Clock for durations and rates (tests). */
  now?: () => number;
}

export function resolveLimits(limits: Partial<ScanLimits> | undefined): ScanLimits {
  const out: ScanLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ScanLimits)[]) {
    const v = limits?.[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(`must be a positive number, got ${JSON.stringify(v)}`, {
        field: `limits.${key}`,
      });
    }
    out[key] = v;
  }
  return out;
}

/** Checks combinations the CLI cannot see from single flags. Throws ConfigError (exit 2). */
export function checkOptions(options: ScanOptions, deps: Pick<ScanDeps, 'engine'>): void {
  if (options.out !== undefined && options.outDir !== undefined) {
    throw new ConfigError('use --out for one input or --out-dir for many, not both', { field: '--out' });
  }
  if (options.out !== undefined && options.inputs.length > 1) {
    throw new ConfigError(
      `--out takes one input, got ${options.inputs.length}; use --out-dir to mirror several`,
      {
        field: '--out',
      },
    );
  }
  if (options.inputFormat !== undefined && !INPUT_FORMATS.includes(options.inputFormat)) {
    throw new ConfigError(`must be one of ${INPUT_FORMATS.join(', ')}`, { field: '--input-format' });
  }
  if (options.failOn !== undefined && !SEVERITIES.includes(options.failOn)) {
    throw new ConfigError(`must be one of ${SEVERITIES.join(', ')}`, { field: '--fail-on' });
  }
  if (options.workers !== undefined && (!Number.isInteger(options.workers) || options.workers < 1)) {
    throw new ConfigError('must be a whole number of at least 1', { field: 'workers' });
  }
  if (deps.engine === undefined && options.engineFactory === undefined) {
    throw new ConfigError('scan needs an engine or an engine factory', { field: 'engineFactory' });
  }
  if ((options.workers ?? 1) > 1 && options.engineFactory === undefined) {
    throw new ConfigError('worker threads build their own engine: give engineFactory', { field: 'workers' });
  }
  for (const [field, v] of [
    ['recordBytes', options.recordBytes],
    ['blockBytes', options.blockBytes],
    ['spoolMemoryBytes', options.spoolMemoryBytes],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || (field === 'recordBytes' && v < 1024))) {
      throw new ConfigError(
        `must be a whole number of bytes${field === 'recordBytes' ? ' (at least 1024)' : ''}`,
        {
          field,
        },
      );
    }
  }
  resolveLimits(options.limits);
}
