// HAR entries: everything in an entry is JSON the engine scans structurally (headers, cookies, query
// strings, postData, URLs), except response bodies stored as base64 (`content.encoding: "base64"`),
// where a token sits at any byte offset and no alignment of the base64 text shows it. Those bodies are
// decoded, scanned as a record of their own (JSON or text), and re-encoded when something changed.
// While the rest of the entry is scanned, the body string is blanked, so that a token found in the
// decoded body is not reported a second time in its base64 form.
import type { AnyFinding, Encoding, SourceRef } from '../model.ts';
import type { Engine, RecordResult } from '../pipeline/types.ts';
import { collectStrings, type JsonPath } from './json-spans.ts';

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

interface Body {
  index: number;
  start: number;
  end: number;
  replacement: Uint8Array;
}

/** `wrapped` is `[entry, entry, ...]`, the first being `/log/entries/<firstIndex>`. Pointers in findings are relative to `wrapped`. */
export async function processHarEntries(
  engine: Engine,
  wrapped: Uint8Array,
  firstIndex: number,
  source: SourceRef,
): Promise<RecordResult> {
  // Most batches hold no base64 body at all: one indexOf instead of a walk.
  if (Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength).indexOf(ENCODING_KEY) === -1) {
    return engine.processJson(wrapped, source);
  }
  const spans = collectStrings(wrapped, NAMES, descend, want);
  const encodings = new Map<number, string>();
  const texts = new Map<number, { start: number; end: number }>();
  for (const s of spans) {
    const index = s.path[0] as number;
    if (s.path[3] === 'encoding')
      encodings.set(index, JSON.parse(Buffer.from(wrapped.subarray(s.start, s.end)).toString()) as string);
    else texts.set(index, { start: s.start, end: s.end });
  }
  const bodies: Body[] = [];
  const findings: AnyFinding[] = [];
  for (const [index, span] of texts) {
    if (encodings.get(index)?.toLowerCase() !== 'base64') continue;
    const original = wrapped.subarray(span.start, span.end);
    const text = JSON.parse(Buffer.from(original).toString()) as string;
    const decoded = Buffer.from(text, 'base64');
    const pointer = `/${index}/response/content/text`;
    // The scanner finds nothing in most bodies; only those it flags are processed as records
    // (processRecord parses the body as JSON first, the expensive part).
    const probe = await engine.processText(decoded, source);
    const r =
      probe.changed || probe.findings.length > 0 ? await engine.processRecord(decoded, source) : probe;
    for (const f of r.findings) findings.push(asBodyFinding(f, pointer));
    const replacement = r.changed ? Buffer.from(`"${Buffer.from(r.output).toString('base64')}"`) : original;
    bodies.push({ index, start: span.start, end: span.end, replacement });
  }
  if (bodies.length === 0) return engine.processJson(wrapped, source);

  bodies.sort((a, b) => a.start - b.start);
  const blanked = splice(
    wrapped,
    bodies.map((b) => ({ start: b.start, end: b.end, bytes: EMPTY_STRING })),
  );
  const r = await engine.processJson(blanked, source);
  // Put the bodies back where the (possibly redacted) entries now hold their blank strings.
  const after = collectStrings(r.output, NAMES, descend, (p) => want(p) && p[3] === 'text');
  const where = new Map(after.map((s) => [s.path[0] as number, s]));
  const edits = bodies.map((b) => {
    const at = where.get(b.index);
    if (at === undefined)
      throw new Error(`HAR entry ${firstIndex + b.index} lost its response body in redaction`);
    return { start: at.start, end: at.end, bytes: b.replacement };
  });
  const output = splice(r.output, edits);
  const changed =
    r.changed ||
    bodies.some(
      (b) =>
        b.replacement !== wrapped.subarray(b.start, b.end) &&
        !sameBytes(b.replacement, wrapped.subarray(b.start, b.end)),
    );
  return { output: changed ? output : wrapped, findings: [...r.findings, ...findings], changed };
}

const EMPTY_STRING = Buffer.from('""');

function asBodyFinding(f: AnyFinding, pointer: string): AnyFinding {
  const out = { ...f, source: { ...f.source, pointer } };
  delete out.source.line;
  if ('token' in out) {
    const encoding: Encoding[] = ['base64', ...out.token.encoding];
    return { ...out, token: { ...out.token, encoding } };
  }
  return out;
}

function splice(bytes: Uint8Array, edits: { start: number; end: number; bytes: Uint8Array }[]): Uint8Array {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const e of sorted) {
    pieces.push(bytes.subarray(at, e.start), e.bytes);
    at = e.end;
  }
  pieces.push(bytes.subarray(at));
  return Buffer.concat(pieces);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
