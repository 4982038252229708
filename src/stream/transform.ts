// One partition batch in, the records to write out: the redacted record (or its quarantine
// record) in input order, then its findings. Never throws on bad input: what cannot be
// processed goes to quarantine (R6), masked by the engine's failClosed.
import { createFindingFormatter, type FindingFormat } from '../findings/index.ts';
import type { InputBatch, InputRecord, OutputHeaders, OutputRecord, RecordHeaders } from '../kafka/index.ts';
import type { AnyFinding, SourceRef } from '../model.ts';
import type { FullEngine, RecordResult } from '../pipeline/index.ts';
import { ProcessingError } from '../util/errors.ts';

/** Added to every redacted and quarantined record: how many findings the record produced. */
export const FINDINGS_HEADER = 'jwt-redactor-findings';
/** Quarantine records: the error code (e.g. record-too-large), its reason, and where the record came from. */
export const ERROR_HEADER = 'jwt-redactor-error';
export const ERROR_REASON_HEADER = 'jwt-redactor-error-reason';
export const SOURCE_TOPIC_HEADER = 'jwt-redactor-source-topic';
export const SOURCE_PARTITION_HEADER = 'jwt-redactor-source-partition';
export const SOURCE_OFFSET_HEADER = 'jwt-redactor-source-offset';
/** Quarantine records: `masked` (the engine's fail-closed output) or `metadata-only` (empty value). */
export const QUARANTINE_CONTENT_HEADER = 'jwt-redactor-quarantine-content';
/** Findings records: the finding's severity and rule, for routing without parsing. */
export const SEVERITY_HEADER = 'jwt-redactor-severity';
export const RULE_HEADER = 'jwt-redactor-rule';

/**
 * The findings-count header value as bytes, shared for small counts. kafkajs encodes a Buffer
 * header value about 1 µs faster than a string one (no per-record conversion), and this header is
 * on every record. Nothing writes into header values after the transform, so sharing is safe.
 */
const COUNT_VALUES: readonly Buffer[] = Array.from({ length: 64 }, (_, n) => Buffer.from(String(n)));

function countValue(n: number): Buffer {
  return COUNT_VALUES[n] ?? Buffer.from(String(n));
}

/** Bound of the per-transform cache of header values (the sets are small; this only caps a surprise). */
const MAX_CACHED_VALUES = 4096;

const NO_FINDINGS: readonly AnyFinding[] = Object.freeze([]);

/** Records between two `tick` calls of a batch. */
const TICK_EVERY = 256;

/** Keys, header names and header values shorter than this cannot hold a token and are not scanned. */
const MIN_SCAN_BYTES = 16;

export interface TransformOptions {
  outputTopic: string;
  findingsTopic: string;
  quarantineTopic: string;
  /** Partition count of the quarantine topic (records go to input partition modulo this). */
  quarantinePartitions: number;
  findingsFormat: FindingFormat;
  /** Larger input values are quarantined (R6). */
  maxRecordBytes: number;
  /** Larger output records (value + key + headers) are quarantined; keep it below the topics' max.message.bytes. */
  maxOutputBytes: number;
  maxFindingsPerRecord: number;
}

export interface BatchStats {
  records: number;
  /** Records whose value, key or headers changed. */
  changed: number;
  tombstones: number;
  /** Quarantined records by error code. */
  quarantined: Map<string, number>;
  /** Published findings by severity and rule (key `${severity}\u0000${rule}`). */
  findings: Map<string, number>;
  findingsDropped: number;
  /** Output records by topic. */
  out: Map<string, number>;
}

export interface TransformedBatch {
  records: OutputRecord[];
  stats: BatchStats;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function outputBytes(key: Buffer | null, headers: OutputHeaders): number {
  let n = key?.length ?? 0;
  for (const name in headers) {
    const v = headers[name]!;
    if (Array.isArray(v)) for (const x of v) n += name.length + x.length + 8;
    else n += name.length + v.length + 8;
  }
  return n + 128;
}

/** True when a record has no headers (the common case: no entries to allocate and walk). */
function noHeaders(headers: RecordHeaders): boolean {
  for (const _ in headers) return false;
  return true;
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function errorOf(error: unknown): ProcessingError {
  if (error instanceof ProcessingError) return error;
  // Never an error's message: for a RangeError or a parser error it may quote the input.
  const name = error instanceof Error ? error.name : 'unknown';
  return new ProcessingError('processing-failed', `the engine failed on this record (${name})`);
}

export class BatchTransform {
  readonly #engine: FullEngine;
  readonly #o: TransformOptions;
  readonly #format: (f: AnyFinding) => string;

  /** Header values from small sets (severities, rule ids, topic names, partition numbers) as bytes. */
  readonly #bytes = new Map<string, Buffer>();

  constructor(engine: FullEngine, options: TransformOptions) {
    this.#engine = engine;
    this.#o = options;
    this.#format = createFindingFormatter(options.findingsFormat);
  }

  #bytesOf(value: string): Buffer {
    let b = this.#bytes.get(value);
    if (b === undefined) {
      b = Buffer.from(value);
      if (this.#bytes.size < MAX_CACHED_VALUES) this.#bytes.set(value, b);
    }
    return b;
  }

  /** R6: a value above max-record-bytes is not scanned; it becomes the fail-closed result. */
  #tooLarge(value: Buffer, source: SourceRef): RecordResult & { failed: ProcessingError } {
    return this.#engine.failClosed(
      value,
      source,
      new ProcessingError(
        'record-too-large',
        `record of ${value.length} bytes exceeds max-record-bytes ${this.#o.maxRecordBytes}`,
      ),
    );
  }

  /** Keys and header parts: scanned as text; a failure masks the part (the record itself goes on). */
  async #part(bytes: Buffer, base: SourceRef, name: string, findings: AnyFinding[]): Promise<Buffer> {
    if (bytes.length < MIN_SCAN_BYTES) return bytes;
    const source: SourceRef = { ...base, name };
    let r: RecordResult;
    try {
      r =
        bytes.length > this.#o.maxRecordBytes
          ? this.#engine.failClosed(
              bytes,
              source,
              new ProcessingError('record-too-large', 'key or header exceeds max-record-bytes'),
            )
          : await this.#engine.processText(bytes, source);
    } catch (error) {
      r = this.#engine.failClosed(bytes, source, errorOf(error));
    }
    for (const f of r.findings) findings.push(f);
    return r.changed ? asBuffer(r.output) : bytes;
  }

  async #headers(
    headers: RecordHeaders,
    base: SourceRef,
    findings: AnyFinding[],
  ): Promise<{ headers: OutputHeaders; changed: boolean }> {
    const out: OutputHeaders = {};
    let changed = false;
    for (const [name, value] of Object.entries(headers)) {
      if (name === FINDINGS_HEADER) continue; // ours, recomputed
      let outName = name;
      if (name.length >= MIN_SCAN_BYTES) {
        const nameBytes = Buffer.from(name);
        const n = await this.#part(nameBytes, base, 'header-name', findings);
        if (n !== nameBytes) outName = n.toString('utf8');
      }
      const source = `header:${outName}`;
      if (Array.isArray(value)) {
        const list: Buffer[] = [];
        for (const v of value) {
          const x = await this.#part(v, base, source, findings);
          if (x !== v) changed = true;
          list.push(x);
        }
        out[outName] = list;
      } else {
        const x = await this.#part(value, base, source, findings);
        if (x !== value) changed = true;
        out[outName] = x;
      }
      if (outName !== name) changed = true;
    }
    return { headers: out, changed };
  }

  /**
   * One record's outputs, appended to `out`. Synchronous (no promise) for the common record: no
   * headers, a key too short to hold a token, and a value the engine answers at once (no token).
   */
  #record(r: InputRecord, out: OutputRecord[], stats: BatchStats): Promise<void> | undefined {
    const value = r.value;
    if ((r.key === null || r.key.length < MIN_SCAN_BYTES) && value !== null && noHeaders(r.headers)) {
      const source: SourceRef = { kind: 'kafka', topic: r.topic, partition: r.partition, offset: r.offset };
      const now = this.#value(value, source);
      if (!(now instanceof Promise)) {
        this.#emit(r, source, r.key, {}, NO_FINDINGS, false, now, out, stats);
        return undefined;
      }
      return now.then((result) => this.#emit(r, source, r.key, {}, NO_FINDINGS, false, result, out, stats));
    }
    return this.#recordParts(r, out, stats);
  }

  /**
   * A value's result, at once when the engine has it at once (no token). Never throws or rejects:
   * a value above max-record-bytes, or one the engine fails on, gets the fail-closed result (R6).
   * One scan; the engine proves a value is JSON (for pointers) only when it holds a token.
   */
  #value(value: Buffer, source: SourceRef): RecordResult | Promise<RecordResult> {
    if (value.length > this.#o.maxRecordBytes) return this.#tooLarge(value, source);
    const failed = (error: unknown) => this.#engine.failClosed(value, source, errorOf(error));
    let now: RecordResult | Promise<RecordResult>;
    try {
      now = this.#engine.processRecordNow(value, source);
    } catch (error) {
      return failed(error);
    }
    return now instanceof Promise ? now.catch(failed) : now;
  }

  /** A record with headers or a long key: each part scanned (as text), then the value. */
  async #recordParts(r: InputRecord, out: OutputRecord[], stats: BatchStats): Promise<void> {
    const source: SourceRef = { kind: 'kafka', topic: r.topic, partition: r.partition, offset: r.offset };
    const findings: AnyFinding[] = [];
    let changed = false;

    let key: Buffer | null = r.key;
    if (key !== null && key.length >= MIN_SCAN_BYTES) {
      const k = await this.#part(key, source, 'key', findings);
      if (k !== key) changed = true;
      key = k;
    }
    let headers: OutputHeaders;
    if (noHeaders(r.headers)) headers = {};
    else {
      const h = await this.#headers(r.headers, source, findings);
      if (h.changed) changed = true;
      headers = h.headers;
    }

    const result = r.value === null ? undefined : await this.#value(r.value, source);
    this.#emit(r, source, key, headers, findings, changed, result, out, stats);
  }

  /**
   * The outputs of a record whose key and headers are done (`findings` and `changed` so far) and
   * whose value gave `result` (none for a tombstone): the redacted or quarantine record, then the
   * findings records.
   */
  #emit(
    r: InputRecord,
    source: SourceRef,
    key: Buffer | null,
    headers: OutputHeaders,
    keyAndHeaderFindings: readonly AnyFinding[],
    changedSoFar: boolean,
    valueResult: RecordResult | undefined,
    out: OutputRecord[],
    stats: BatchStats,
  ): void {
    let changed = changedSoFar;
    let findings = keyAndHeaderFindings;
    if (r.value === null || valueResult === undefined) {
      stats.tombstones++;
      headers[FINDINGS_HEADER] = countValue(findings.length);
      out.push({ topic: this.#o.outputTopic, partition: r.partition, key, value: null, headers });
      bump(stats.out, this.#o.outputTopic);
    } else {
      let result: RecordResult & { failed?: ProcessingError } = valueResult;
      const fixed = outputBytes(key, headers);
      if (result.failed === undefined && fixed + result.output.length > this.#o.maxOutputBytes) {
        result = this.#engine.failClosed(
          r.value,
          source,
          new ProcessingError(
            'output-too-large',
            `redacted record would exceed max-output-bytes ${this.#o.maxOutputBytes}`,
          ),
        );
      }
      if (result.findings.length > 0)
        findings = findings.length === 0 ? result.findings : [...findings, ...result.findings];
      if (result.changed) changed = true;
      headers[FINDINGS_HEADER] = countValue(findings.length);
      if (result.failed !== undefined) {
        headers[ERROR_HEADER] = result.failed.code;
        headers[ERROR_REASON_HEADER] = result.failed.message;
        headers[SOURCE_TOPIC_HEADER] = r.topic;
        headers[SOURCE_PARTITION_HEADER] = String(r.partition);
        headers[SOURCE_OFFSET_HEADER] = r.offset;
        let value = asBuffer(result.output);
        // Even masked, the record would not fit in the topic: keep the metadata (headers) only.
        if (fixed + value.length + 512 > this.#o.maxOutputBytes) {
          value = Buffer.alloc(0);
          headers[QUARANTINE_CONTENT_HEADER] = 'metadata-only';
        } else {
          headers[QUARANTINE_CONTENT_HEADER] = value.length === 0 ? 'metadata-only' : 'masked';
        }
        out.push({
          topic: this.#o.quarantineTopic,
          partition: r.partition % this.#o.quarantinePartitions,
          key,
          value,
          headers,
        });
        bump(stats.quarantined, result.failed.code);
        bump(stats.out, this.#o.quarantineTopic);
      } else {
        out.push({
          topic: this.#o.outputTopic,
          partition: r.partition,
          key,
          value: asBuffer(result.output),
          headers,
        });
        bump(stats.out, this.#o.outputTopic);
      }
    }
    if (changed) stats.changed++;

    const publish = Math.min(findings.length, this.#o.maxFindingsPerRecord);
    stats.findingsDropped += findings.length - publish;
    for (let i = 0; i < publish; i++) {
      const f = findings[i]!;
      out.push({
        topic: this.#o.findingsTopic,
        key: 'token' in f ? f.token.fingerprint : null,
        value: this.#format(f),
        headers: {
          [SEVERITY_HEADER]: this.#bytesOf(f.severity),
          [RULE_HEADER]: this.#bytesOf(f.rule),
          [SOURCE_TOPIC_HEADER]: this.#bytesOf(r.topic),
          [SOURCE_PARTITION_HEADER]: this.#bytesOf(String(r.partition)),
          [SOURCE_OFFSET_HEADER]: r.offset,
        },
      });
      bump(stats.findings, `${f.severity}\u0000${f.rule}`);
    }
    if (publish > 0) bump(stats.out, this.#o.findingsTopic, publish);
  }

  /**
   * Transforms a batch in order. `tick` is awaited every few records (the processor heartbeats
   * there, so a slow batch does not cost the partition); an error it throws ends the run.
   */
  async run(batch: Pick<InputBatch, 'records'>, tick?: () => Promise<void>): Promise<TransformedBatch> {
    const stats: BatchStats = {
      records: batch.records.length,
      changed: 0,
      tombstones: 0,
      quarantined: new Map(),
      findings: new Map(),
      findingsDropped: 0,
      out: new Map(),
    };
    const records: OutputRecord[] = [];
    let n = 0;
    for (const r of batch.records) {
      if (tick !== undefined && ++n % TICK_EVERY === 0) await tick();
      const mark = records.length;
      try {
        const pending = this.#record(r, records, stats);
        if (pending !== undefined) await pending;
      } catch (error) {
        // A bug of ours, not bad input (the engine's failures are caught above). The record still
        // gets exactly one output, and it is the safest one: metadata only, nothing of the input.
        records.length = mark;
        records.push(this.#lastResort(r, errorOf(error)));
        bump(stats.quarantined, 'internal-error');
        bump(stats.out, this.#o.quarantineTopic);
      }
    }
    return { records, stats };
  }

  #lastResort(r: InputRecord, error: ProcessingError): OutputRecord {
    return {
      topic: this.#o.quarantineTopic,
      partition: r.partition % this.#o.quarantinePartitions,
      key: null,
      value: Buffer.alloc(0),
      headers: {
        [ERROR_HEADER]: 'internal-error',
        [ERROR_REASON_HEADER]: error.message,
        [SOURCE_TOPIC_HEADER]: r.topic,
        [SOURCE_PARTITION_HEADER]: String(r.partition),
        [SOURCE_OFFSET_HEADER]: r.offset,
        [QUARANTINE_CONTENT_HEADER]: 'metadata-only',
      },
    };
  }
}
