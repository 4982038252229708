// HAR entries: everything in an entry is JSON the engine scans structurally (headers, cookies, query
// strings, postData, URLs), except response bodies stored as base64 (`content.encoding: "base64"`),
// where a token sits at any byte offset and no alignment of the base64 text shows it. Those bodies are
// decoded, scanned as a record of their own (JSON or text), and re-encoded when something changed.
// While the rest of the entry is scanned, the body string is blanked, so that a token found in the
// decoded body is not reported a second time in its base64 form.
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { AnyFinding, Encoding, SourceRef } from '../model.ts';
import type { Engine, RecordResult } from '../pipeline/types.ts';
import { collectStrings, type JsonPath } from './json-spans.ts';
import type { HarBodySpan } from './json-splitter.ts';
import type { OutputPool } from './output-pool.ts';

const CONTENT = ['response', 'content'] as const;
const NAMES = ['response', 'content', 'text', 'encoding'];
const ENCODING_KEY = Buffer.from('"encoding"');

function descend(path: JsonPath): boolean {
  return (
    path.length === 1 ||
    (path.length === 2 && path[1] === CONTENT[0]) ||
    (path.length === 3 && path[2] === CONTENT[1])
  );
}

function want(path: JsonPath): boolean {
  return (
    path.length === 4 &&
    path[1] === CONTENT[0] &&
    path[2] === CONTENT[1] &&
    (path[3] === 'text' || path[3] === 'encoding')
  );
}

/** A base64 response body: the entry's index, and where its text string is (quotes included). */
interface BodySpan {
  index: number;
  start: number;
  end: number;
}

interface Body extends BodySpan {
  replacement: Uint8Array;
}

/**
 * The base64 bodies among the spans the splitter noted in a batch of `entries` (the members, without
 * brackets; spans relative to them, in input order, an entry's spans next to each other): a text
 * whose entry's encoding is base64 (a key given twice: the last one counts). Packed for the trip to
 * a worker (a typed array is one copy, an array of objects is rebuilt object by object): per body
 * its entry's index, the text string's start and end (quotes included), relative to `entries`.
 */
export function base64Bodies(entries: Uint8Array, spans: readonly HarBodySpan[]): Int32Array {
  const buf = Buffer.from(entries.buffer, entries.byteOffset, entries.byteLength);
  const out: number[] = [];
  let k = 0;
  while (k < spans.length) {
    const index = spans[k]!.index;
    let text: HarBodySpan | undefined;
    let base64 = false;
    for (; k < spans.length && spans[k]!.index === index; k++) {
      const s = spans[k]!;
      if (s.field === 'text') text = s;
      else base64 = isBase64Encoding(buf, s.start, s.end);
    }
    if (text !== undefined && base64) out.push(index, text.start, text.end);
  }
  return Int32Array.from(out);
}

/** `base64Bodies` unpacked, relative to the entries with their brackets. */
function knownBodies(known: Int32Array): BodySpan[] {
  const out: BodySpan[] = [];
  for (let k = 0; k + 2 < known.length; k += 3)
    out.push({ index: known[k]!, start: known[k + 1]! + 1, end: known[k + 2]! + 1 });
  return out;
}

/** The base64 bodies of the entries, found by a walk of them (in input order). */
function walkedBodies(buf: Buffer): BodySpan[] {
  // A key given twice: the last one counts, as with the splitter's spans (and JSON.parse).
  const encodings = new Map<number, boolean>();
  const texts = new Map<number, BodySpan>();
  for (const s of collectStrings(buf, NAMES, descend, want)) {
    const index = s.path[0] as number;
    if (s.path[3] === 'encoding') encodings.set(index, isBase64Encoding(buf, s.start, s.end));
    else texts.set(index, { index, start: s.start, end: s.end });
  }
  return [...texts.values()].filter((t) => encodings.get(t.index) === true).sort((a, b) => a.start - b.start);
}

/**
 * Stands in for a base64 body while the rest of the entries is scanned: a string no token can be and
 * no input holds (random per process, and checked), found again in the redacted entries by a plain
 * search instead of a second walk of their structure.
 */
const MARK = Buffer.from(`"jr-har-body-${randomBytes(12).toString('hex')}"`);

/**
 * `wrapped` is `[entry, entry, ...]`, the first being `/log/entries/<firstIndex>`. Pointers in findings
 * are relative to `wrapped`. `known`: the entries' base64 bodies from the splitter's spans
 * (`base64Bodies`, relative to the entries without their brackets); else they are looked for here.
 */
export async function processHarEntries(
  engine: Engine,
  wrapped: Uint8Array,
  firstIndex: number,
  source: SourceRef,
  known?: Int32Array,
  pool?: OutputPool,
): Promise<RecordResult> {
  const out = pool?.out;
  const buf = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  let spans: BodySpan[];
  if (known !== undefined) {
    spans = knownBodies(known);
  } else {
    // Most batches hold no base64 body at all: one indexOf instead of a walk.
    if (buf.indexOf(ENCODING_KEY) === -1) return engine.processJson(wrapped, source, out);
    spans = walkedBodies(buf);
  }
  const bodies: Body[] = [];
  const bodyFindings: AnyFinding[] = [];
  let bodyChanged = false;
  for (const span of spans) {
    const { index } = span;
    const original = wrapped.subarray(span.start, span.end);
    const decoded = Buffer.from(jsonString(buf, span.start, span.end), 'base64');
    // A record of its own: JSON (pointers) when it is JSON and holds a token, else text.
    const r = await engine.processRecord(decoded, source);
    if (r.findings.length > 0) {
      const pointer = `/${index}/response/content/text`;
      for (const f of r.findings) bodyFindings.push(asBodyFinding(f, pointer));
    }
    let replacement: Uint8Array = original;
    if (r.changed) {
      replacement = Buffer.from(
        `"${Buffer.from(r.output.buffer, r.output.byteOffset, r.output.byteLength).toString('base64')}"`,
      );
      bodyChanged ||= !sameBytes(replacement, original);
    }
    bodies.push({ index, start: span.start, end: span.end, replacement });
  }
  if (bodies.length === 0) return engine.processJson(wrapped, source, out);

  // While the entries are scanned, each body is a stand-in: the marker, short (a padded stand-in
  // would keep offsets but give the engine every byte of every body to walk again). The marked copy
  // lives only for the engine call: it goes into a reused buffer (see `takeScratch`). The engine puts
  // the bodies back in place of their stand-ins as it writes its output (OutputOptions.edits): one
  // pass, instead of a redacted copy with stand-ins that is then copied again around the bodies.
  const markEdits = bodies.map((b) => ({ start: b.start, end: b.end, bytes: MARK }));
  const scratch = takeScratch(splicedLength(wrapped, markEdits));
  const putBack = standInEdits(bodies);
  let r: RecordResult;
  try {
    r = await engine.processJson(spliceInto(scratch, wrapped, markEdits), source, {
      ...(out?.alloc !== undefined ? { alloc: out.alloc } : {}),
      shifts: true,
      edits: putBack,
    });
    if (r.changed && r.edited !== true) {
      // Redacted without the bodies (the record failed closed, or a redacted span took in a stand-in):
      // the redacted entries hold the stand-ins; put the bodies back in their places. The marker is
      // random per process and no input can hold it; byMark still insists on one per body, in order,
      // and on nothing else, or the entries are walked again. Done before the scratch buffer is
      // given back: the engine's output may be a view of its input.
      const marked = r.output;
      const edits = byMark(marked, bodies, r.shifts) ?? byWalk(marked, bodies, firstIndex);
      r = { ...r, output: spliceOver(wrapped, marked, edits, pool) };
      // The marked output was read into the result (a copy): its buffer is free.
      if (pool !== undefined && r.output.buffer !== marked.buffer) pool.give(marked.buffer);
    }
  } finally {
    giveBackScratch(scratch);
  }
  const changed = r.changed || bodyChanged;
  const findings = r.findings.concat(bodyFindings);
  if (!changed) return { output: wrapped, findings, changed };
  if (!r.changed) {
    // Only bodies changed: the rest is the input as it was.
    const edits = bodies.map((b) => ({ start: b.start, end: b.end, bytes: b.replacement }));
    return { output: spliceOver(wrapped, wrapped, edits, pool), findings, changed };
  }
  return { output: r.output, findings, changed };
}

/** Where each body's stand-in is in the marked entries, and what goes there in the output. */
function standInEdits(bodies: readonly Body[]): Edit[] {
  let removed = 0;
  return bodies.map((b) => {
    const start = b.start - removed;
    removed += b.end - b.start - MARK.length;
    return { start, end: start + MARK.length, bytes: b.replacement };
  });
}

/**
 * Buffers the marked entries are built in, reused: a new buffer per batch (Buffer.concat) cost
 * about ten times the copy itself (measured: ~45 us against ~4 us for 128 KiB in ~140 pieces).
 * Calls overlap (the engine call is awaited), hence a few.
 */
const scratchBuffers: ArrayBuffer[] = [];
const MAX_SCRATCH = 4;
const MIN_SCRATCH_BYTES = 256 * 1024;

function takeScratch(n: number): Buffer {
  const found = scratchBuffers.pop();
  const buffer =
    found !== undefined && found.byteLength >= n ? found : new ArrayBuffer(Math.max(n, MIN_SCRATCH_BYTES));
  return Buffer.from(buffer, 0, n);
}

function giveBackScratch(b: Buffer): void {
  if (scratchBuffers.length < MAX_SCRATCH) scratchBuffers.push(b.buffer as ArrayBuffer);
}

function splicedLength(bytes: Uint8Array, edits: readonly Edit[]): number {
  let n = bytes.length;
  for (const e of edits) n += e.bytes.length - (e.end - e.start);
  return n;
}

/** `bytes` with `edits` (in order, not overlapping) made, written into `into` (exactly that long). */
function spliceInto(into: Buffer, bytes: Uint8Array, edits: readonly Edit[]): Buffer {
  let at = 0;
  let from = 0;
  for (const e of edits) {
    into.set(bytes.subarray(from, e.start), at);
    at += e.start - from;
    into.set(e.bytes, at);
    at += e.bytes.length;
    from = e.end;
  }
  into.set(bytes.subarray(from), at);
  return into;
}

/**
 * Where the stand-ins are, in order, one per body; undefined unless they are all there exactly once.
 * `shifts` (RecordResult.shifts): where the engine moved the marked entries' bytes, which says where
 * each stand-in went; without them, a stand-in is first looked for as far after the previous one as
 * it was in the marked entries (where it is when nothing between the two changed length). Either
 * place is checked, and searched around when the stand-in is not there.
 */
function byMark(output: Uint8Array, bodies: readonly Body[], shifts?: readonly number[]): Edit[] | undefined {
  const out = Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  const edits: Edit[] = [];
  let at = 0;
  // Where the stand-in was in the marked entries, after the previous one.
  let markedAt = 0;
  let removed = 0;
  let shift = 0;
  let s = 0;
  for (const b of bodies) {
    const marked = b.start - removed;
    let guess = at + (marked - markedAt);
    if (shifts !== undefined) {
      while (s < shifts.length && shifts[s]! <= marked) {
        shift = shifts[s + 1]!;
        s += 2;
      }
      guess = marked + shift;
    }
    const i = guess >= at && markAt(out, guess) ? guess : findMark(out, at, guess);
    if (i < 0) return undefined;
    edits.push({ start: i, end: i + MARK.length, bytes: b.replacement });
    at = i + MARK.length;
    markedAt = marked + MARK.length;
    removed += b.end - b.start - MARK.length;
  }
  return out.indexOf(MARK, at) === -1 ? edits : undefined;
}

/**
 * The first stand-in at or after `at`, near `guess` (where it is when nothing before it changed
 * length). Redaction mostly shortens (a placeholder is shorter than its token), which puts the stand-in
 * a little before the guess: it is looked for backwards from there, a search as long as the text got
 * shorter, not as long as the whole span since the previous stand-in. A stand-in found that way is the
 * first after `at` unless the span shrank past a later body's stand-in too; then a later body finds
 * none, and byMark answers undefined (the bodies are then found by a walk).
 */
function findMark(out: Buffer, at: number, guess: number): number {
  if (guess > at) {
    const back = out.lastIndexOf(MARK, Math.min(guess, out.length - MARK.length));
    if (back >= at) return back;
  }
  return out.indexOf(MARK, Math.max(at, guess));
}

/** The marker is at `i` in `out`. */
function markAt(out: Buffer, i: number): boolean {
  if (i < 0 || i + MARK.length > out.length) return false;
  for (let k = 0; k < MARK.length; k++) if (out[i + k] !== MARK[k]) return false;
  return true;
}

/** The bodies' places found by walking the entries again. */
function byWalk(output: Uint8Array, bodies: readonly Body[], firstIndex: number): Edit[] {
  const after = collectStrings(output, NAMES, descend, (p) => want(p) && p[3] === 'text');
  const where = new Map(after.map((s) => [s.path[0] as number, s]));
  return bodies.map((b) => {
    const at = where.get(b.index);
    if (at === undefined)
      throw new Error(`HAR entry ${firstIndex + b.index} lost its response body in redaction`);
    return { start: at.start, end: at.end, bytes: b.replacement };
  });
}

const BASE64 = Buffer.from('"base64"');

/**
 * `encoding`'s value at [start, end) (quotes included) is `base64`, in any case: compared as bytes
 * first (no string per body).
 */
function isBase64Encoding(buf: Buffer, start: number, end: number): boolean {
  if (end - start === BASE64.length) {
    let same = true;
    for (let k = 0; k < BASE64.length && same; k++) same = buf[start + k] === BASE64[k];
    if (same) return true;
  }
  return jsonString(buf, start, end).toLowerCase() === 'base64';
}

/**
 * The value of the JSON string at [start, end) (quotes included): read directly when it is plain
 * ASCII without escapes. The backslash is looked for in the string (a search inside V8) rather than
 * by Buffer#indexOf, whose call costs more than the search on a body of a few KiB.
 */
function jsonString(buf: Buffer, start: number, end: number): string {
  if (isAscii(buf.subarray(start + 1, end - 1))) {
    const text = buf.toString('latin1', start + 1, end - 1);
    if (!text.includes('\\')) return text;
  }
  return JSON.parse(buf.toString('utf8', start, end)) as string;
}

interface Edit {
  start: number;
  end: number;
  bytes: Uint8Array;
}

function asBodyFinding(f: AnyFinding, pointer: string): AnyFinding {
  const out = { ...f, source: { ...f.source, pointer } };
  delete out.source.line;
  if ('token' in out) {
    const encoding: Encoding[] = ['base64', ...out.token.encoding];
    return { ...out, token: { ...out.token, encoding } };
  }
  return out;
}

/**
 * `bytes` with `edits` made: the redacted entries. Written over `wrapped` (the job's own bytes, which
 * nothing reads once the entries are redacted) when that is safe, so that the output goes out in the
 * job's buffer, which is then reused (jobs.ts reclaim), instead of a new buffer per batch (measured:
 * a new 128 KiB buffer costs ~35 us more than filling a used one). Safe: the result is no longer than
 * `wrapped` and has its first and last byte (the brackets: runJsonUnit's shape check then passes, and
 * never falls back to scanning `wrapped` as text); pieces are written in order, so a piece read from
 * `wrapped`'s buffer that moves down or stays is read before anything is written over it, and one
 * that would move up (the output before it grew: a placeholder longer than its token, ahead of an
 * unchanged body) is copied aside before anything is written. Else a new buffer, or one from `pool`
 * (every byte of it written). Copying aside (into a reused buffer), not a new buffer, for the pieces
 * that move up: half the batches of the generated 315 MB HAR (a third of its tokens are shorter than
 * their placeholders) took the new buffer, 69 ms of a 1-thread scan's 2.5 s.
 */
function spliceOver(
  wrapped: Uint8Array,
  bytes: Uint8Array,
  edits: readonly Edit[],
  pool?: OutputPool,
): Uint8Array {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const e of sorted) {
    pieces.push(bytes.subarray(from, e.start), e.bytes);
    from = e.end;
  }
  pieces.push(bytes.subarray(from));
  const buffer = wrapped.buffer;
  let at = wrapped.byteOffset;
  let first = -1;
  let last = -1;
  const joined = (): Uint8Array => {
    if (pool === undefined) return Buffer.concat(pieces);
    let n = 0;
    for (const p of pieces) n += p.byteLength;
    const into = pool.take(n);
    let o = 0;
    for (const p of pieces) {
      into.set(p, o);
      o += p.byteLength;
    }
    return into;
  };
  /** Bytes of the pieces of `wrapped`'s buffer that would move up. */
  let aside = 0;
  for (const p of pieces) {
    if (p.byteLength === 0) continue;
    if (p.buffer === buffer && p.byteOffset < at) aside += p.byteLength;
    if (first < 0) first = p[0]!;
    last = p[p.byteLength - 1]!;
    at += p.byteLength;
  }
  const length = at - wrapped.byteOffset;
  if (length > wrapped.byteLength || first !== wrapped[0] || last !== wrapped[wrapped.byteLength - 1])
    return joined();
  // Those pieces copied aside (into a reused buffer) before anything is written.
  const scratch = aside > 0 ? takeScratch(aside) : undefined;
  if (scratch !== undefined) {
    at = wrapped.byteOffset;
    let o = 0;
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k]!;
      if (p.buffer === buffer && p.byteOffset < at) {
        scratch.set(p, o);
        pieces[k] = scratch.subarray(o, o + p.byteLength);
        o += p.byteLength;
      }
      at += p.byteLength;
    }
  }
  const all = new Uint8Array(buffer);
  at = wrapped.byteOffset;
  for (const p of pieces) {
    if (p.buffer === buffer) all.copyWithin(at, p.byteOffset, p.byteOffset + p.byteLength);
    else all.set(p, at);
    at += p.byteLength;
  }
  if (scratch !== undefined) giveBackScratch(scratch);
  return new Uint8Array(buffer, wrapped.byteOffset, length);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
