// What a scan returns: counts, findings summary, failures. The CLI turns it into an exit code.

import type { FindingsSummary } from '../findings/summary.ts';
import type { Severity } from '../model.ts';
import { SEVERITIES } from '../model.ts';

export interface ScanFailure {
  /** The input as the user named it (a file inside a folder: its path). */
  name: string;
  /** Archive member path, when the failure is inside an archive. */
  member?: string;
  /** Stable code: ERR_NOT_FOUND, ERR_UNREADABLE, ERR_TRUNCATED, ERR_CORRUPT, ERR_LIMIT_RATIO, ERR_LIMIT_SIZE, ... */
  code: string;
  reason: string;
}

export interface ScanNote {
  name: string;
  member?: string;
  message: string;
}

export interface ScanReport {
  /** Top-level inputs (files found in folders, stdin) that were scanned or attempted. */
  inputs: number;
  /** Non-archive contents scanned: plain files and archive members. */
  files: number;
  /** Containers opened (gzip streams, tar and zip archives). */
  archives: number;
  /** Bytes read from the inputs (compressed bytes for compressed inputs). */
  bytesRead: number;
  /** Bytes scanned after decompression. */
  bytesScanned: number;
  durationMs: number;
  findings: FindingsSummary;
  /** Highest severity of any finding (processing errors included), if any. */
  maxSeverity?: Severity;
  /** `failOn` was given and a finding is at or above it. */
  failOnReached: boolean;
  /** Inputs or members that could not be processed; their redacted copies were not written. */
  failures: ScanFailure[];
  /** Failures beyond the first 1000 are counted only. */
  failuresTotal: number;
  /** Left out on purpose (symlinks not followed, special files, the output directory). */
  skipped: ScanNote[];
  /** Things worth knowing that are not failures (invalid JSON scanned as text, unsupported compression). */
  notes: ScanNote[];
  notesTotal: number;
  /** Something failed: the CLI exits 3. */
  failed: boolean;
}

export function severityAtLeast(s: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(threshold);
}

/** SPEC 6: 3 when an input failed, else 1 when a finding reached `--fail-on`, else 0. */
export function exitCodeFor(report: ScanReport): 0 | 1 | 3 {
  if (report.failed) return 3;
  return report.failOnReached ? 1 : 0;
}
