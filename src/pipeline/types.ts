// The engine's public contract: bytes in, redacted bytes and findings out.
// Drivers (filter, scan, stream) talk to the engine only through these types.
// Methods are async because decrypting a JWE with a user-supplied key goes through `jose`
// (WebCrypto, async); without decryption keys they resolve without waiting on I/O.
import type { AnyFinding, SourceRef } from '../model.ts';
import type { LiteralEdit } from '../redaction/index.ts';

export interface RecordResult {
  /** The redacted bytes. When `changed` is false this is the input itself, byte-identical (R7). */
  output: Uint8Array;
  findings: AnyFinding[];
  changed: boolean;
  /**
   * With OutputOptions.shifts, when the output was redacted from the input: where the input's bytes
   * went (RedactionOutput.shifts in redaction/index.ts: pairs of an input offset where a replaced
   * span ends and the output's offset minus the input's from there on).
   */
  shifts?: readonly number[];
  /** OutputOptions.edits were made in `output` (with the redactions, in one pass). */
  edited?: boolean;
}

/** Redacts one unbounded text stream chunk by chunk; tokens may cross chunk boundaries. */
export interface ChunkRedactor {
  /** Feeds a chunk; returns the output that is final so far (may be empty). */
  push(chunk: Uint8Array): Promise<Uint8Array>;
  /** Flushes the held-back tail. */
  end(): Promise<Uint8Array>;
  /** Findings produced since the last call. */
  takeFindings(): AnyFinding[];
}

/**
 * Where a changed record's output goes. `alloc(n)` returns a buffer of exactly `n` bytes, every one
 * of which the engine writes (so it may hold anything before): a batch scan hands out reused buffers
 * instead of a new one per job (batch/output-pool.ts). Without it, a new buffer.
 */
export interface OutputOptions {
  alloc?: (n: number) => Buffer;
  /**
   * The input's bytes are the caller's to overwrite (a worker's job, moved to it): a redacted output
   * that is nowhere longer than the input so far (placeholders shorter than their tokens, the usual
   * case) is written over the input, and is a view of it; any other into `alloc`.
   */
  inPlace?: boolean;
  /** Ask for RecordResult.shifts (a caller that finds its own marks in the output again: HAR bodies). */
  shifts?: boolean;
  /**
   * Literal edits of the input (in order, not overlapping, bytes not views of the input), made in the
   * output along with the redactions when the record is redacted: then RecordResult.edited is set.
   * They are not when nothing in the record is redacted, when the record fails closed, or when an edit
   * overlaps a redacted span: the caller then makes them itself (HAR bodies put back in place of
   * their stand-ins, batch/har.ts).
   */
  edits?: readonly LiteralEdit[];
}

export interface Engine {
  /** A line, a log blob or any non-JSON value, scanned as text. Lines counted from `source.line` (default 1). */
  processText(input: Uint8Array, source: SourceRef, out?: OutputOptions): Promise<RecordResult>;
  /** A UTF-8 JSON document, scanned structurally (findings carry `source.pointer`); edited in place. */
  processJson(input: Uint8Array, source: SourceRef, out?: OutputOptions): Promise<RecordResult>;
  /**
   * A block of JSON Lines (JSONL): each line a record. Same output as processText; findings carry
   * `line`, and `pointer` too when their line is a JSON document.
   */
  processLines(input: Uint8Array, source: SourceRef, out?: OutputOptions): Promise<RecordResult>;
  /** JSON when the bytes are a UTF-8 JSON document, text otherwise. */
  processRecord(input: Uint8Array, source: SourceRef): Promise<RecordResult>;
  /** A chunked text stream (huge lines, stdin). */
  createChunkRedactor(source: SourceRef): ChunkRedactor;
}
