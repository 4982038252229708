// A job is one self-contained piece of engine work: a block of complete lines, or one JSON unit from
// the splitter. Jobs are plain data (structured-cloneable), so the same `runJob` serves the in-thread
// executor and the worker pool, and the order of results is the order of submission.
import { isUtf8 } from 'node:buffer';
import type { FindingAnalysis } from '../findings/index.ts';
import type { AnyFinding, SourceRef } from '../model.ts';
import { boundPointer } from '../pipeline/index.ts';
import type { Engine, OutputOptions, RecordResult } from '../pipeline/types.ts';
import { countNewlines } from '../util/lines.ts';
import { processHarEntries } from './har.ts';
import { isNumberByte, type UnitKind } from './json-splitter.ts';
import type { OutputPool } from './output-pool.ts';

export type Job =
  /** Text lines; `source.line` is the first line's number. */
  | { op: 'text'; bytes: Uint8Array; source: SourceRef }
  /** Complete JSONL lines: each line JSON (structural) or, failing that, text. */
  | { op: 'jsonl'; bytes: Uint8Array; source: SourceRef }
  /** One unit of a JSON document; pointers in findings are made absolute (`pointer` + the unit's own). */
  | {
      op: 'json';
      bytes: Uint8Array;
      source: SourceRef;
      kind: UnitKind;
      pointer: string;
      firstIndex: number;
      /** Offset of the unit in its document: what tells the engine one unit from another (below). */
      at?: number;
      /** Members of a HAR's `/log/entries`: base64 bodies are decoded, scanned and re-encoded. */
      har: boolean;
      /** HAR: the entries' base64 bodies, from the splitter's spans (har.ts `base64Bodies`). */
      bodies?: Int32Array;
    }
  /**
   * Small top-level values of a JSON text sequence (complete and valid: the splitter read them), with
   * the whitespace between them, each processed as a document of its own.
   */
  | {
      op: 'json-values';
      bytes: Uint8Array;
      source: SourceRef;
      /** Offset of the bytes in the document (what tells the engine one value from another), their line. */
      at: number;
      line: number;
      /** Top-level ordinal of the first value: values after the first of a document get their line. */
      topIndex: number;
      /** False: `source` holds the line of every value (a JSON line of a JSONL file). */
      lines: boolean;
    };

export interface JobResult {
  output: Uint8Array;
  findings: AnyFinding[];
  /**
   * Findings only counted (a scan that writes none, see FindingSink.countOnly), from a worker: their
   * analyses, one per finding, besides `findings` (those that travelled whole).
   */
  counted?: FindingAnalysis[];
  /** Things the user should know (a unit that was not UTF-8 and was scanned as text, ...). */
  notes: string[];
  /** From a worker: the buffer the job's bytes came in, handed back for reuse (pool-protocol.ts). */
  spare?: ArrayBuffer;
  /** Called once `output` has been written and its bytes are no longer needed (buffer reuse). */
  release?: () => void;
}

/**
 * Runs a job on `engine`. With `pool`, a changed output is written into one of its buffers, and the
 * result's `release` gives that buffer back once the output has been written out. `owned`: the job's
 * bytes are the caller's to overwrite (a worker's, moved to it), and a text or lines output that fits
 * is written over them instead (no copy back into them on the way out, pool-protocol.ts).
 */
export async function runJob(engine: Engine, job: Job, pool?: OutputPool, owned = false): Promise<JobResult> {
  const out = owned ? pool?.overwrite : pool?.out;
  let r: JobResult;
  switch (job.op) {
    case 'text': {
      const t = await engine.processText(job.bytes, job.source, out);
      r = { output: t.output, findings: t.findings, notes: [] };
      break;
    }
    case 'jsonl':
      r = await runLines(engine, job.bytes, job.source, out);
      break;
    case 'json':
      r = await runJsonUnit(engine, job, pool);
      break;
    case 'json-values':
      r = await runJsonValues(engine, job);
      break;
  }
  if (pool !== undefined && r.output.byteLength > 0 && pool.owns(r.output.buffer)) {
    const buffer = r.output.buffer;
    r.release = () => pool.give(buffer);
  }
  return r;
}

/**
 * JSONL: each line is a record (structural JSON when it parses, text otherwise). One pass: the engine
 * scans the block as text and adds pointers for the tokens of lines that are JSON (processLines).
 */
async function runLines(
  engine: Engine,
  bytes: Uint8Array,
  source: SourceRef,
  out: OutputOptions | undefined,
): Promise<JobResult> {
  const r = await engine.processLines(bytes, source, out);
  return { output: r.changed ? r.output : bytes, findings: r.findings, notes: [] };
}

async function runJsonUnit(
  engine: Engine,
  job: Extract<Job, { op: 'json' }>,
  pool: OutputPool | undefined,
): Promise<JobResult> {
  const out = pool?.out;
  const { bytes, kind, pointer, firstIndex } = job;
  const source: SourceRef = { ...job.source };
  delete source.pointer;
  // The engine names a finding by its record and its offset in it (finding ids). Units of a document
  // share name, kind and member, and their pointers are relative: without something of their own,
  // two units with the same token at the same offset gave their findings one id. The unit's offset
  // in the document goes along as the record's `offset` (a Kafka field, absent from files), and comes
  // off every finding below.
  if (job.at !== undefined) source.offset = `@${job.at}`;
  if (!isUtf8(bytes)) {
    return asText(engine, bytes, job, `JSON at ${pointer || '/'} is not valid UTF-8; scanned as text`);
  }
  const open = kind === 'array' ? 0x5b : 0x7b;
  const close = kind === 'array' ? 0x5d : 0x7d;
  const wrapped = kind === 'value' ? bytes : (framed(bytes, open, close) ?? wrap(bytes, open, close));
  let r: RecordResult;
  try {
    r = job.har
      ? await processHarEntries(engine, wrapped, firstIndex, source, job.bodies, pool)
      : await engine.processJson(wrapped, source, out);
  } catch (err) {
    return asText(
      engine,
      bytes,
      job,
      `JSON at ${pointer || '/'} could not be processed structurally (${(err as Error).message}); scanned as text`,
    );
  }
  let output = r.output;
  if (kind !== 'value') {
    if (!r.changed) {
      output = bytes;
    } else if (output[0] === wrapped[0] && output[output.length - 1] === wrapped[wrapped.length - 1]) {
      output = output.subarray(1, output.length - 1);
    } else {
      // The engine broke the shape it promised to keep (R4): do not guess, fall back to text.
      return asText(
        engine,
        bytes,
        job,
        `JSON at ${pointer || '/'} lost its shape in redaction; scanned as text`,
      );
    }
  }
  for (const f of r.findings) {
    const { offset: _unit, ...rest } = f.source;
    f.source = { ...rest, pointer: absolutePointer(f.source.pointer, kind, pointer, firstIndex) };
  }
  return { output, findings: r.findings, notes: [] };
}

/** Values scanned together before any goes alone (runJsonValues). */
const VALUE_GROUP = 64;

/**
 * Each value as its own document (runJsonUnit); the output is the input where no value changed. One
 * scan of them all first: the engine scans a JSON record as it scans text (pointers come after), so
 * when the whole finds nothing, no value does, and they are not processed one by one (~2 us each).
 * When it finds something, the values are scanned VALUE_GROUP at a time, and only a group that finds
 * something goes value by value: a sequence with a token every 1,000 values took 0.6 s for 2.6 MB
 * value by value.
 */
async function runJsonValues(engine: Engine, job: Extract<Job, { op: 'json-values' }>): Promise<JobResult> {
  const { bytes } = job;
  // A value not UTF-8 is scanned as text with a note: such a batch goes value by value throughout.
  const utf8 = isUtf8(bytes);
  if (utf8) {
    const whole = await engine.processText(bytes, job.source);
    if (whole.findings.length === 0 && !whole.changed) return { output: bytes, findings: [], notes: [] };
  }
  const findings: AnyFinding[] = [];
  const notes: string[] = [];
  const pieces: Uint8Array[] = [];
  let changed = false;
  let top = job.topIndex;
  let at = 0;
  /** The values of the group at hand: start, end, line. */
  const starts: number[] = [];
  const ends: number[] = [];
  const lines: number[] = [];
  let scanned = 0;
  let line = job.line;
  for (;;) {
    starts.length = 0;
    ends.length = 0;
    lines.length = 0;
    for (let start = nextValue(bytes, scanned); start < bytes.length && starts.length < VALUE_GROUP; ) {
      line += countNewlines(bytes.subarray(scanned, start));
      const end = valueEnd(bytes, start);
      starts.push(start);
      ends.push(end);
      lines.push(line);
      line += linesIn(bytes.subarray(start, end));
      scanned = end;
      start = nextValue(bytes, scanned);
    }
    if (starts.length === 0) break;
    const to = ends[ends.length - 1]!;
    if (utf8) {
      // A group scanned once: without a finding, its values pass as they are.
      const group = await engine.processText(bytes.subarray(starts[0]!, to), job.source);
      if (group.findings.length === 0 && !group.changed) {
        pieces.push(bytes.subarray(at, to));
        top += starts.length;
        at = to;
        continue;
      }
    }
    for (let k = 0; k < starts.length; k++) {
      const start = starts[k]!;
      const value = bytes.subarray(start, ends[k]!);
      const r = await runJsonUnit(
        engine,
        {
          op: 'json',
          bytes: value,
          source: job.lines && top > 0 ? { ...job.source, line: lines[k]! } : job.source,
          kind: 'value',
          pointer: '',
          firstIndex: 0,
          at: job.at + start,
          har: false,
        },
        // Outputs are small and joined below: no output pool.
        undefined,
      );
      if (start > at) pieces.push(bytes.subarray(at, start));
      pieces.push(r.output);
      changed ||= r.output !== value;
      for (const f of r.findings) findings.push(f);
      for (const n of r.notes) notes.push(n);
      top++;
      at = ends[k]!;
    }
  }
  if (!changed) return { output: bytes, findings, notes };
  if (at < bytes.length) pieces.push(bytes.subarray(at));
  return { output: Buffer.concat(pieces), findings, notes };
}

/** The first byte at or after `i` that is not JSON whitespace (bytes.length when none). */
function nextValue(bytes: Uint8Array, i: number): number {
  let j = i;
  while (
    j < bytes.length &&
    (bytes[j] === 0x20 || bytes[j] === 0x0a || bytes[j] === 0x0d || bytes[j] === 0x09)
  )
    j++;
  return j;
}

/**
 * The end of the valid JSON value starting at `i`, as the splitter reads it: a string to its closing
 * quote, a container to its closing bracket, a number to its last number byte, a literal to its last
 * letter (values in a sequence need no whitespace between them: `1"x"{}` is three).
 */
function valueEnd(bytes: Uint8Array, i: number): number {
  const c = bytes[i]!;
  if (c === 0x22) return stringAfter(bytes, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < bytes.length; j++) {
      const x = bytes[j]!;
      if (x === 0x22) j = stringAfter(bytes, j) - 1;
      else if (x === 0x7b || x === 0x5b) depth++;
      else if ((x === 0x7d || x === 0x5d) && --depth === 0) return j + 1;
    }
    return bytes.length;
  }
  let j = i + 1;
  if (c >= 0x61 && c <= 0x7a) while (j < bytes.length && bytes[j]! >= 0x61 && bytes[j]! <= 0x7a) j++;
  else while (j < bytes.length && isNumberByte(bytes[j]!)) j++;
  return j;
}

/** Line ends in a value outside its strings: where the splitter counts them (a raw one in a string is not JSON). */
function linesIn(value: Uint8Array): number {
  let n = 0;
  for (let j = 0; j < value.length; j++) {
    const c = value[j]!;
    if (c === 0x22) j = stringAfter(value, j) - 1;
    else if (c === 0x0a) n++;
  }
  return n;
}

/** Past the closing quote of the string opening at `i`. */
function stringAfter(bytes: Uint8Array, i: number): number {
  let j = i + 1;
  while (j < bytes.length) {
    const x = bytes[j]!;
    if (x === 0x22) return j + 1;
    j += x === 0x5c ? 2 : 1;
  }
  return bytes.length;
}

async function asText(
  engine: Engine,
  bytes: Uint8Array,
  job: Extract<Job, { op: 'json' }>,
  note: string,
): Promise<JobResult> {
  const r = await engine.processText(bytes, { ...job.source, pointer: job.pointer });
  for (const f of r.findings) f.source = { ...f.source, pointer: job.pointer };
  return { output: r.output, findings: r.findings, notes: [note] };
}

/** `bytes` with the bytes on either side, when those are `open` and `close` (the splitter puts them there). */
function framed(bytes: Uint8Array, open: number, close: number): Uint8Array | undefined {
  if (bytes.byteOffset < 1 || bytes.byteOffset + bytes.byteLength + 1 > bytes.buffer.byteLength)
    return undefined;
  const around = Buffer.from(bytes.buffer, bytes.byteOffset - 1, bytes.byteLength + 2);
  return around[0] === open && around[around.length - 1] === close ? around : undefined;
}

function wrap(bytes: Uint8Array, open: number, close: number): Uint8Array {
  const out = Buffer.allocUnsafe(bytes.length + 2);
  out[0] = open;
  out.set(bytes, 1);
  out[out.length - 1] = close;
  return out;
}

/**
 * Maps a pointer relative to a unit (`/3/a` in `[e5,e6,e7,e8]`) to the document (`/items/8/a`),
 * bounded as every pointer is (boundPointer).
 */
export function absolutePointer(
  relative: string | undefined,
  kind: UnitKind,
  base: string,
  firstIndex: number,
): string {
  const rel = relative ?? '';
  if (kind !== 'array' || rel === '') return boundPointer(base + rel);
  const slash = rel.indexOf('/', 1);
  const head = slash < 0 ? rel.slice(1) : rel.slice(1, slash);
  const rest = slash < 0 ? '' : rel.slice(slash);
  const index = Number(head);
  return boundPointer(Number.isInteger(index) ? `${base}/${firstIndex + index}${rest}` : base + rel);
}

/**
 * Buffer reuse: where the buffer `sent` with a job is once the job is done: still here (the job ran in
 * this thread), or back from a worker (`spare`). It is free now, or, when the output is a view of it,
 * once the output is written (`release`). An output in a buffer of its own keeps its own `release`
 * (an output pool's, see runJob).
 */
export function reclaim(r: JobResult, sent: ArrayBuffer, reuse: (buffer: ArrayBuffer) => void): JobResult {
  // Sent to a worker (moved: empty here), the job's buffer comes back as `spare`, or the worker kept
  // it and gave the output's buffer instead (pool-protocol.ts), which is then reused in its place.
  const given =
    r.output.byteOffset === 0 && r.output.buffer instanceof ArrayBuffer ? r.output.buffer : undefined;
  const buffer = sent.byteLength > 0 ? sent : (r.spare ?? given);
  delete r.spare;
  if (buffer === undefined) return r;
  if (r.output.buffer === buffer) r.release = () => reuse(buffer);
  else reuse(buffer);
  return r;
}
