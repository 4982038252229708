// The engine: one record's path through the stages. source bytes -> detect -> decode ->
// classify -> policy -> redact -> findings. Pure apart from the clock; I/O stays in drivers.
import { hash } from 'node:crypto';
import {
  MAX_BASE64_DEPTH,
  type ScanItem,
  type ScanResult,
  scan,
  type TokenItem,
  tokensOf,
} from '../detection/index.ts';
import type { AnyFinding, ErrorFinding, Finding, SourceRef } from '../model.ts';
import type { Policy } from '../policy/index.ts';
import {
  applyRedactions,
  type Fingerprinter,
  type LiteralEdits,
  maskRuns,
  placeholder,
} from '../redaction/index.ts';
import { ProcessingError } from '../util/errors.ts';
import { countNewlines } from '../util/lines.ts';
import { type Analysis, type Analyzer, type AnalyzerOptions, createAnalyzer } from './analyze.ts';
import { boundPointer, jsonPaths, looksLikeJson, plainEnd } from './json-paths.ts';
import { TokenMap } from './token-map.ts';
import type { ChunkRedactor, Engine, OutputOptions, RecordResult } from './types.ts';

export interface EngineOptions extends AnalyzerOptions {
  policy: Policy;
  fingerprinter: Fingerprinter;
}

export interface FullEngine extends Engine {
  readonly policy: Policy;
  readonly fingerprinter: Fingerprinter;
  /** R6: what a record that cannot be processed becomes (masked or metadata-only), and its finding. */
  failClosed(
    input: Uint8Array,
    source: SourceRef,
    error: ProcessingError,
  ): RecordResult & { failed: ProcessingError };
  /**
   * processRecord, answered at once (no promise) when the record needs no token analysis: no token,
   * too large, or over the scan budget. The Kafka transform's per-record path: most records hold no
   * token, and a promise per record is most of what such a record costs.
   */
  processRecordNow(input: Uint8Array, source: SourceRef): RecordResult | Promise<RecordResult>;
}

const NO_FINDINGS: AnyFinding[] = [];

let lastMs = Number.NaN;
let lastIso = '';
/** `new Date().toISOString()`, formatted once per millisecond (formatting costs ~1 µs, per record). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** JSON text of one array element, as JSON.stringify writes it (without its generic walk: per record). */
function jsonElement(v: unknown): string {
  if (v === undefined) return 'null';
  if (typeof v === 'string') return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return JSON.stringify(v) ?? 'null';
}
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The text a record's identity is hashed from: JSON.stringify of its source's fields, in this order. */
export function recordKeyText(source: SourceRef): string {
  return `[${jsonElement(source.kind)},${jsonElement(source.name)},${jsonElement(source.member)},${jsonElement(source.topic)},${jsonElement(source.partition)},${jsonElement(source.offset)},${jsonElement(source.line)},${jsonElement(source.pointer)}]`;
}

/** A record's identity for finding ids: hashed once per record, not per finding. */
function recordKey(source: SourceRef): string {
  // One-shot hash: the same digest as createHash().update().digest(), without the Hash object.
  return hash('sha256', recordKeyText(source), 'base64url').slice(0, 16);
}

/** Deterministic and unique per record, offset and token: a replayed record yields the same ids. */
function findingId(record: string, start: number, fingerprint: string): string {
  return `${record}-${start.toString(36)}-${fingerprint.slice(fingerprint.indexOf(':') + 1, fingerprint.indexOf(':') + 9)}`;
}

/**
 * 1-based line of byte offsets, counting from `base`; offsets sorted ascending. The line ends between
 * one offset and the next are counted in one call (util/lines.ts: SIMD where it runs), not found one
 * `indexOf` call each: a block of JSONL lines with a token every fifty lines made ~2,000 of those calls
 * a MiB. Read from a Float64Array (one map whatever the elements kind of the caller's array; see
 * jsonPaths).
 */
function linesOf(buf: Uint8Array, offsetList: readonly number[], base: number): number[] {
  const offsets = new Float64Array(offsetList);
  const out: number[] = [];
  let line = base;
  let pos = 0;
  for (let k = 0; k < offsets.length; k++) {
    const off = offsets[k]!;
    if (off > pos) {
      line += countNewlines(buf.subarray(pos, Math.min(off, buf.length)));
      pos = off;
    }
    out.push(line);
  }
  return out;
}

export function createEngine(options: EngineOptions): FullEngine {
  const { policy, fingerprinter } = options;
  const analyzer: Analyzer = createAnalyzer(options);
  const scanOptions = { maxTokenLength: policy.limits.maxTokenLength };

  const errorFinding = (
    source: SourceRef,
    err: ProcessingError,
    action: ErrorFinding['action'],
  ): ErrorFinding => ({
    schema: 'jwt-redactor/finding@1',
    id: findingId(recordKey(source), 0, `:${err.code}`),
    time: isoNow(),
    rule: 'processing-error',
    severity: 'high',
    source,
    error: { code: err.code, reason: err.message },
    action,
  });

  const failClosed = (input: Uint8Array, source: SourceRef, error: ProcessingError) => {
    const output = policy.quarantineContent === 'metadata-only' ? new Uint8Array(0) : maskRuns(input);
    return { output, findings: [errorFinding(source, error, 'quarantine')], changed: true, failed: error };
  };

  /** Analyses every token, builds findings (with `locate` giving each token's source) and the output. */
  const redact = async (
    input: Uint8Array,
    result: ScanResult,
    locate: (tokens: TokenItem[]) => SourceRef[],
    base: SourceRef,
    out?: OutputOptions,
  ): Promise<RecordResult> => {
    const tokens = tokensOf(result.items);
    // One analysis per distinct token of the record: the first occurrence's. While every token is
    // a cache hit nothing can leave the cache, and a repeat gets the same entry back: the record's
    // own map of analyses is made only at the first miss (from the tokens before it).
    const analyses: Analysis[] = new Array(tokens.length);
    let seen: TokenMap<Analysis> | null = null;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      let a = seen === null ? analyzer.cached(t.token) : seen.get(t.token);
      if (a === undefined) {
        if (seen === null) {
          seen = new TokenMap<Analysis>();
          for (let k = 0; k < i; k++)
            if (!seen.has(tokens[k]!.token)) seen.set(tokens[k]!.token, analyses[k]!);
          a = seen.get(t.token);
        }
        if (a === undefined) {
          a = analyzer.cached(t.token) ?? (await analyzer.analyze(t));
          seen.set(t.token, a);
        }
      }
      analyses[i] = a;
    }
    // applyRedactions meets the token items in tokensOf's order: the k-th call is tokens[k]'s.
    let nextReplaced = 0;
    const analysisOf = (item: TokenItem): Analysis => {
      const k = nextReplaced++;
      if (tokens[k]?.token === item.token) return analyses[k]!;
      const i = tokens.findIndex((t) => t.token === item.token);
      return analyses[i]!;
    };
    const sources = locate(tokens);
    const findings: AnyFinding[] = [];
    const now = isoNow();
    const record = recordKey(base);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const b = analyses[i]!.finding;
      if (b === null) continue;
      const f: Finding = {
        schema: 'jwt-redactor/finding@1',
        id: findingId(record, t.start, b.token.fingerprint),
        time: now,
        rule: b.rule,
        severity: b.severity,
        source: sources[i]!,
        token: { ...b.token, encoding: t.encoding, context: t.context },
        header: b.header,
        claims: b.claims,
        classification: b.classification,
        status: b.status,
        risks: b.risks,
        frameworks: b.frameworks,
        action: b.action,
      };
      if (b.inner !== undefined) f.inner = b.inner;
      findings.push(f);
    }
    for (const _ of suspects(result.items)) {
      findings.push(
        errorFinding(
          base,
          new ProcessingError(
            'suspect-token',
            'token-shaped text could not be resolved within the scan budget; masked',
          ),
          'mask',
        ),
      );
    }
    const shifts: number[] | undefined = out?.shifts === true ? [] : undefined;
    const edits: LiteralEdits | undefined = out?.edits !== undefined ? { list: out.edits } : undefined;
    const output = applyRedactions(
      input,
      result.items,
      (item) => analysisOf(item).replacement(item),
      (start, end) =>
        placeholder('suspect', 'mask', fingerprinter, fingerprinter.fingerprint(input.subarray(start, end))),
      out === undefined ? undefined : { alloc: out.alloc, inPlace: out.inPlace, shifts, edits },
    );
    if (output === null) return { output: input, findings, changed: false };
    const r: RecordResult = { output, findings, changed: true };
    if (shifts !== undefined) r.shifts = shifts;
    if (edits?.applied === true) r.edited = true;
    return r;
  };

  /** Size limit and scan, shared by text and JSON records; a failure is returned closed (R6). */
  const scanRecord = (input: Uint8Array, source: SourceRef): ScanResult | RecordResult => {
    if (input.length > policy.limits.maxRecordBytes) {
      return failClosed(
        input,
        source,
        new ProcessingError(
          'record-too-large',
          `record of ${input.length} bytes exceeds max_record_bytes ${policy.limits.maxRecordBytes}`,
        ),
      );
    }
    const result = scan(input, scanOptions);
    if (result.budgetExceeded)
      return failClosed(input, source, new ProcessingError('scan-budget', 'scan work budget exceeded'));
    if (result.items.length === 0) return { output: input, findings: NO_FINDINGS, changed: false };
    return result;
  };

  const byLine = (input: Uint8Array, source: SourceRef) => (tokens: TokenItem[]) => {
    const lines = linesOf(
      input,
      tokens.map((t) => t.start),
      source.line ?? 1,
    );
    return tokens.map((_, i) => ({ ...source, line: lines[i]! }));
  };

  const processText = async (
    input: Uint8Array,
    source: SourceRef,
    out?: OutputOptions,
  ): Promise<RecordResult> => {
    const scanned = scanRecord(input, source);
    if ('output' in scanned) return scanned;
    return redact(input, scanned, byLine(input, source), source, out);
  };

  /** Pointers when the record is a JSON document (`gate`: only objects and arrays count), else lines. */
  const byPointer = (input: Uint8Array, source: SourceRef, gate: boolean) => (tokens: TokenItem[]) => {
    if (!gate || looksLikeJson(input)) {
      const paths = jsonPaths(
        input,
        tokens.map((t) => t.start),
        tokens.map(plainEnd),
      );
      if (paths.valid) {
        const prefix = source.pointer ?? '';
        return tokens.map((_, i) => ({
          ...source,
          pointer: boundPointer(prefix + (paths.pointers[i] ?? '')),
        }));
      }
    }
    return byLine(input, source)(tokens);
  };

  const processJson = async (
    input: Uint8Array,
    source: SourceRef,
    out?: OutputOptions,
  ): Promise<RecordResult> => {
    const scanned = scanRecord(input, source);
    if ('output' in scanned) return scanned;
    return redact(input, scanned, byPointer(input, source, false), source, out);
  };

  /** JSONL: a block of lines, each a record. One text scan; lines that are JSON documents give pointers too. */
  const processLines = async (
    input: Uint8Array,
    source: SourceRef,
    out?: OutputOptions,
  ): Promise<RecordResult> => {
    const scanned = scanRecord(input, source);
    if ('output' in scanned) return scanned;
    return redact(
      input,
      scanned,
      (tokens) => {
        const sources = byLine(input, source)(tokens);
        let i = 0;
        while (i < tokens.length) {
          // the tokens of one line: [i, j)
          const lineStart = input.lastIndexOf(0x0a, tokens[i]!.start - 1) + 1;
          const nl = input.indexOf(0x0a, tokens[i]!.start);
          const lineEnd = nl === -1 ? input.length : nl;
          let j = i + 1;
          while (j < tokens.length && tokens[j]!.start < lineEnd) j++;
          const line = input.subarray(lineStart, lineEnd);
          if (looksLikeJson(line)) {
            const lineTokens = tokens.slice(i, j);
            const paths = jsonPaths(
              line,
              lineTokens.map((t) => t.start - lineStart),
              lineTokens.map((t) => {
                const e = plainEnd(t);
                return e < 0 ? e : e - lineStart;
              }),
            );
            if (paths.valid)
              for (let k = i; k < j; k++)
                sources[k] = {
                  ...sources[k]!,
                  pointer: boundPointer((source.pointer ?? '') + (paths.pointers[k - i] ?? '')),
                };
          }
          i = j;
        }
        return sources;
      },
      source,
      out,
    );
  };

  /** One scan; only a record with tokens is checked for being JSON (for pointers). R7 holds either way. */
  const processRecordNow = (input: Uint8Array, source: SourceRef): RecordResult | Promise<RecordResult> => {
    const scanned = scanRecord(input, source);
    if ('output' in scanned) return scanned;
    return redact(input, scanned, byPointer(input, source, true), source);
  };
  const processRecord = async (input: Uint8Array, source: SourceRef): Promise<RecordResult> =>
    processRecordNow(input, source);

  const createChunkRedactor = (source: SourceRef): ChunkRedactor =>
    createChunked(processChunk, policy.limits.maxTokenLength, source);

  /** Scans `buf`; returns the output for [0, cut) and the findings, given tokens must not cross `cut`. */
  const processChunk = async (buf: Uint8Array, final: boolean, line: number, source: SourceRef) => {
    const result = scan(buf, scanOptions);
    if (result.budgetExceeded) {
      const failed = failClosed(
        buf,
        { ...source, line },
        new ProcessingError('scan-budget', 'scan work budget exceeded'),
      );
      return { cut: buf.length, output: failed.output, findings: failed.findings };
    }
    const hold = final ? 0 : holdBack(policy.limits.maxTokenLength);
    let cut = Math.max(0, buf.length - hold);
    // A token that starts before the cut but ends after it is held back whole.
    for (const it of result.items) if (it.start < cut && it.end > cut) cut = it.start;
    if (!final) cut = safeCut(buf, cut);
    const kept = result.items.filter((it) => it.end <= cut);
    const head = buf.subarray(0, cut);
    if (kept.length === 0) return { cut, output: head, findings: NO_FINDINGS };
    const r = await redact(
      head,
      { items: kept, budgetExceeded: false, work: result.work },
      (tokens) => {
        const lines = linesOf(
          head,
          tokens.map((t) => t.start),
          line,
        );
        return tokens.map((_, i) => ({ ...source, line: lines[i]! }));
      },
      { ...source, line },
    );
    return { cut, output: r.output, findings: r.findings };
  };

  return {
    policy,
    fingerprinter,
    processText,
    processJson,
    processLines,
    processRecord,
    processRecordNow,
    createChunkRedactor,
    failClosed,
  };
}

function* suspects(items: readonly ScanItem[]): Generator<ScanItem> {
  for (const it of items) {
    if (it.type === 'suspect') yield it;
    else if (it.type === 'base64') yield* suspects(it.inner);
  }
}

/**
 * Bytes held back at a chunk's end: the longest token wrapped in base64 as deep as the scanner
 * unwraps it (MAX_BASE64_DEPTH layers, each 4/3 longer), plus context.
 */
export function holdBack(maxTokenLength: number): number {
  return Math.ceil(maxTokenLength * (4 / 3) ** MAX_BASE64_DEPTH) + 256;
}

const TOKENISH = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_.=~%&;#"\\{}[]:,')
  TOKENISH[c.charCodeAt(0)] = 1;

/** Moves a cut back to a byte that cannot be inside a token (whitespace), when one is near. */
function safeCut(buf: Uint8Array, cut: number): number {
  for (let i = cut; i > Math.max(0, cut - 4096); i--) if (TOKENISH[buf[i - 1]!] !== 1) return i;
  return cut;
}

type ChunkFn = (
  buf: Uint8Array,
  final: boolean,
  line: number,
  source: SourceRef,
) => Promise<{ cut: number; output: Uint8Array; findings: AnyFinding[] }>;

function createChunked(fn: ChunkFn, maxTokenLength: number, source: SourceRef): ChunkRedactor {
  let pending: Uint8Array = new Uint8Array(0);
  let line = source.line ?? 1;
  let findings: AnyFinding[] = [];
  const minScan = holdBack(maxTokenLength) * 2;
  const run = async (final: boolean): Promise<Uint8Array> => {
    const r = await fn(pending, final, line, source);
    line += countNewlines(pending.subarray(0, r.cut));
    pending = pending.subarray(r.cut);
    if (r.findings.length > 0) findings = findings.concat(r.findings);
    return r.output;
  };
  return {
    async push(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (pending.length < minScan) return new Uint8Array(0);
      return run(false);
    },
    async end() {
      if (pending.length === 0) return new Uint8Array(0);
      return run(true);
    },
    takeFindings() {
      const f = findings;
      findings = [];
      return f;
    },
  };
}
