// Redaction: turns scan items into replacement bytes. Placeholders are made only of
// A-Z a-z 0-9 - _ ~ so they are safe in URLs, cookies, JSON strings and log lines, and they
// never look like a token to the scanner (R5).
import type { Quoting, ScanItem, TokenItem } from '../detection/index.ts';
import { encodeBase64, mayHoldToken, scan } from '../detection/index.ts';
import type { JsonObject, JsonValue, TokenKind } from '../model.ts';
import type { Fingerprinter } from './fingerprint.ts';

export { createFingerprinter, ephemeralFingerprinter, type Fingerprinter } from './fingerprint.ts';

export const PLACEHOLDER_PREFIX = 'JWTR~';
/** What R6 masking puts in place of every run of 16+ base64 characters. */
export const MASKED_RUN = 'JWTR~masked';

/** `JWTR~<kind>~<mask|hash>~<keyid>~<fp>[~<subject-fp>]` */
export function placeholder(
  kind: TokenKind | 'suspect',
  action: 'mask' | 'hash',
  fp: Fingerprinter,
  tokenFingerprint: string,
  subjectFingerprint?: string,
): string {
  const base = `${PLACEHOLDER_PREFIX}${kind}~${action}~${fp.keyId}~${tokenFingerprint}`;
  return subjectFingerprint === undefined ? base : `${base}~${subjectFingerprint}`;
}

/** The signature that replaces a sanitized token's own: `JWTR~sanitized~<keyid>~<fp>`. */
export function sanitizedSignature(fp: Fingerprinter, tokenFingerprint: string): string {
  return `${PLACEHOLDER_PREFIX}sanitized~${fp.keyId}~${tokenFingerprint}`;
}

/** `header.payload.JWTR~sanitized~...`: the original header, the protected claims, no signature. */
export function sanitizedCompact(headerB64: string, claims: JsonObject, signature: string): string {
  // Node's base64url is the unpadded URL alphabet: the same text as encodeBase64(..., 'url', false).
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${headerB64}.${payload}.${signature}`;
}

function quote(q: Quoting): { q: string; colon: string; open: string; close: string } {
  switch (q.kind) {
    case 'plain':
      return { q: '"', colon: ':', open: '{', close: '}' };
    case 'json-escape':
      return { q: `${'\\'.repeat(2 ** q.level - 1)}"`, colon: ':', open: '{', close: '}' };
    case 'html':
      return { q: '&quot;', colon: ':', open: '{', close: '}' };
    case 'percent': {
      const pct = (hex: string) => `%${'25'.repeat(q.level - 1)}${hex}`;
      return { q: pct('22'), colon: pct('3A'), open: pct('7B'), close: pct('7D') };
    }
  }
}

/** A JSON object standing in for a JSON-serialized token, quoted like the original. */
export function jsonReplacement(q: Quoting, members: Record<string, string>): string {
  const { q: dq, colon, open, close } = quote(q);
  const comma = q.kind === 'percent' ? `%${'25'.repeat(q.level - 1)}2C` : ',';
  const body = Object.entries(members)
    .map(([k, v]) => `${dq}${k}${dq}${colon}${dq}${v}${dq}`)
    .join(comma);
  return `${open}${body}${close}`;
}

/** Replacement text for one token, or null to leave it (report). */
export type ReplaceFn = (item: TokenItem) => string | null;

/** Where and how a redaction's output is written (applyRedactions). */
export interface RedactionOutput {
  /** A buffer of exactly `n` bytes for the output, every one of which is written (default: a new one). */
  alloc?: (n: number) => Buffer;
  /** `buf` may be overwritten: it is when the output never runs ahead of the input (see redactList). */
  inPlace?: boolean;
  /**
   * Filled with, per replaced item in input order, the offset in the input where it ends and the
   * output's offset minus the input's from there on: an input offset outside replaced items maps to
   * the output by the last pair whose end is at or before it (by nothing before the first).
   */
  shifts?: number[];
  /**
   * Literal edits made along with the replacements, in the same single pass over the input (a batch
   * scan's HAR bodies, put back where stand-ins held their places while the entries were scanned).
   * In input order, not overlapping one another; an edit that overlaps a replaced item makes the
   * redaction leave every edit out (`applied` stays unset) and the caller make them its own way.
   */
  edits?: LiteralEdits;
}

/** Bytes to write in place of input spans (RedactionOutput.edits); `applied` set once they are. */
export interface LiteralEdits {
  readonly list: readonly LiteralEdit[];
  applied?: boolean;
}

export interface LiteralEdit {
  readonly start: number;
  readonly end: number;
  readonly bytes: Uint8Array;
}

/** Replaced spans of the input, in order: [starts[k], ends[k]) becomes texts[k]. */
interface Replacements {
  starts: number[];
  ends: number[];
  texts: (string | Uint8Array)[];
}

/**
 * The item replacements and `edits` merged in input order; undefined when an edit overlaps a
 * replacement (or the edits are out of order).
 */
function withEdits(r: Replacements, edits: readonly LiteralEdit[]): Replacements | undefined {
  const merged: Replacements = { starts: [], ends: [], texts: [] };
  let i = 0;
  let last = 0;
  const take = (start: number, end: number, text: string | Uint8Array): boolean => {
    if (start < last) return false;
    merged.starts.push(start);
    merged.ends.push(end);
    merged.texts.push(text);
    last = end;
    return true;
  };
  for (const e of edits) {
    for (; i < r.texts.length && r.starts[i]! < e.start; i++)
      if (!take(r.starts[i]!, r.ends[i]!, r.texts[i]!)) return undefined;
    if (!take(e.start, e.end, e.bytes)) return undefined;
  }
  for (; i < r.texts.length; i++) if (!take(r.starts[i]!, r.ends[i]!, r.texts[i]!)) return undefined;
  return merged;
}

/** The output of a redaction: spans of the input and replacement texts (latin1), written out once. */
function redactList(
  buf: Uint8Array,
  items: readonly ScanItem[],
  replace: ReplaceFn,
  suspect: (start: number, end: number) => string,
  keepMod3: boolean,
  options: RedactionOutput = {},
): Uint8Array | null {
  const { alloc = Buffer.allocUnsafe, inPlace = false, shifts, edits } = options;
  // Replaced spans and their replacements, as strings (latin1) or literal bytes (edits): no Buffer
  // per part. The input between them is kept.
  let replaced: Replacements = { starts: [], ends: [], texts: [] };
  for (const it of items) {
    let text: string | null = null;
    if (it.type === 'token') text = replace(it);
    else if (it.type === 'suspect') text = suspect(it.start, it.end);
    else if (it.type === 'base64') {
      const inner = redactList(it.decoded, it.inner, replace, suspect, !it.closed);
      if (inner !== null) text = encodeBase64(inner, it.alphabet, it.padded);
    }
    if (text === null) continue;
    replaced.starts.push(it.start);
    replaced.ends.push(it.end);
    replaced.texts.push(text);
  }
  if (edits !== undefined && edits.list.length > 0) {
    const merged = withEdits(replaced, edits.list);
    if (merged !== undefined) {
      replaced = merged;
      edits.applied = true;
    }
  }
  const { starts, ends, texts } = replaced;
  if (texts.length === 0) return null;
  let delta = 0;
  /** The output's end never passed the input's after a replacement (so far). */
  let behind = true;
  for (let k = 0; k < texts.length; k++) {
    delta += texts[k]!.length - (ends[k]! - starts[k]!);
    behind &&= delta <= 0;
    shifts?.push(ends[k]!, delta);
  }
  const pos = ends[ends.length - 1]!;
  if (keepMod3 && ((delta % 3) + 3) % 3 !== 0) {
    // Inside a base64 run that goes on after this window: keep the decoded length's residue
    // mod 3 so the characters after the window still decode at their original alignment.
    const pad = (3 - (((delta % 3) + 3) % 3)) % 3;
    // Inner lists (base64 layers) have no literal edits: their texts are strings.
    texts[texts.length - 1] = `${texts[texts.length - 1] as string}${'~'.repeat(pad)}`;
    delta += pad;
    behind &&= delta <= 0;
  }
  // Over the input itself only when the output never ran ahead of it: each kept span then moves
  // down or stays (copyWithin is a memmove) and each text ends before the next kept span starts, so
  // no byte is overwritten before it is read. Else into a buffer of exactly the output's length.
  // (Literal edits' bytes are read as they are written: never over the input they come from.)
  const over =
    inPlace && behind && !(edits?.applied === true && edits.list.some((e) => e.bytes.buffer === buf.buffer));
  const out = over ? Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength) : alloc(buf.length + delta);
  const length = over ? buf.length + delta : out.length;
  // Every byte of the output is written below: kept spans and texts (latin1, one byte a character)
  // add up to buf.length + delta.
  let o = 0;
  for (let k = 0; k < texts.length; k++) {
    o = keepSpan(out, buf, over, k === 0 ? 0 : ends[k - 1]!, starts[k]!, o);
    const text = texts[k]!;
    if (typeof text === 'string') o += out.write(text, o, 'latin1');
    else {
      out.set(text, o);
      o += text.length;
    }
  }
  o = keepSpan(out, buf, over, pos, buf.length, o);
  // Checked, not assumed: `out` may be a reused buffer (batch/output-pool.ts), and no byte of what it
  // held before may remain in an output. A mismatch is a bug; the record then fails closed (R6).
  if (o !== length) throw new Error(`redaction wrote ${o} of ${length} bytes`);
  return over ? out.subarray(0, length) : out;
}

/** `buf[s, e)` written at `o` of `out` (`over`: `out` is `buf` itself); the offset after it. */
function keepSpan(out: Buffer, buf: Uint8Array, over: boolean, s: number, e: number, o: number): number {
  if (e <= s) return o;
  if (!over) out.set(buf.subarray(s, e), o);
  else if (o !== s) out.copyWithin(o, s, e);
  return o + e - s;
}

/**
 * Applies replacements for all items; returns null when nothing changed (R7: the caller keeps the
 * input). The output is a buffer from `alloc` (of exactly the output's length, every byte written),
 * by default a new one.
 */
export function applyRedactions(
  buf: Uint8Array,
  items: readonly ScanItem[],
  replace: ReplaceFn,
  suspect: (start: number, end: number) => string,
  options?: RedactionOutput,
): Uint8Array | null {
  return redactList(buf, items, replace, suspect, false, options);
}

const B64RUN = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_')
  B64RUN[c.charCodeAt(0)] = 1;

/** R6 masking: every run of 16 or more base64/base64url characters (dots and '=' included) is replaced. */
export function maskRuns(buf: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const marker = Buffer.from(MASKED_RUN, 'latin1');
  let pos = 0;
  let i = 0;
  while (i < buf.length) {
    if (B64RUN[buf[i]!] !== 1) {
      i++;
      continue;
    }
    let j = i;
    while (j < buf.length && (B64RUN[buf[j]!] === 1 || buf[j] === 0x2e || buf[j] === 0x3d)) j++;
    if (j - i >= 16) {
      parts.push(buf.subarray(pos, i), marker);
      pos = j;
    }
    i = j;
  }
  parts.push(buf.subarray(pos));
  return Buffer.concat(parts);
}

export type ClaimTreatment = 'keep' | 'hash' | 'remove';

const MAX_CLAIM_DEPTH = 32;

/** True when a claim or header value holds a JOSE token anywhere inside it. */
export function holdsToken(value: unknown): boolean {
  // The scanner only reports items around its needles: a text without one holds no token.
  if (typeof value === 'string')
    return value.length >= 16 && mayHoldToken(value) && scan(Buffer.from(value, 'utf8')).items.length > 0;
  if (value === null || typeof value !== 'object') return false;
  const text = JSON.stringify(value);
  return text.length >= 16 && mayHoldToken(text) && scan(Buffer.from(text, 'utf8')).items.length > 0;
}

function escapePointer(s: string): string {
  return s.includes('~') || s.includes('/') ? s.replaceAll('~', '~0').replaceAll('/', '~1') : s;
}

/**
 * Claims as they may leave the process (R2): each value kept, replaced by `hmac:<keyid>:<fp>`
 * or removed, by the treatment of its category. Top-level claims are looked up by name,
 * nested ones by JSON pointer; an object holding classified members is walked, anything else
 * takes the treatment of its own category, and a value with no category counts as sensitive.
 */
export function protectClaims(
  claims: JsonObject,
  categories: Readonly<Record<string, string>>,
  treatment: (category: string) => ClaimTreatment,
  fp: Fingerprinter,
): JsonObject {
  // Every pointer's proper prefixes at segment boundaries: hasNested(prefix) is true exactly when
  // some pointer key starts with `${prefix}/`. Made on the first object claim only.
  let prefixes: Set<string> | undefined;
  const hasNested = (prefix: string) => {
    if (prefixes === undefined) {
      prefixes = new Set();
      for (const k of Object.keys(categories)) {
        if (k.charCodeAt(0) !== 0x2f) continue;
        for (let i = k.indexOf('/', 1); i > 0; i = k.indexOf('/', i + 1)) prefixes.add(k.slice(0, i));
      }
    }
    return prefixes.has(prefix);
  };
  const protect = (value: JsonValue, category: string | undefined): JsonValue | undefined => {
    const t = treatment(category ?? 'unclassified');
    // A value kept in clear must not carry a token of its own (R1), whatever its category says.
    if (t === 'keep' && !holdsToken(value)) return value;
    if (t === 'remove') return undefined;
    return fp.claimHash(typeof value === 'string' ? value : JSON.stringify(value));
  };
  const walk = (obj: JsonObject, prefix: string, depth: number): JsonObject => {
    const out: JsonObject = {};
    for (const name of Object.keys(obj)) {
      const value = obj[name]!;
      const pointer = `${prefix}/${escapePointer(name)}`;
      const category = categories[pointer] ?? (depth === 0 ? categories[name] : undefined);
      let v: JsonValue | undefined;
      if (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        depth < MAX_CLAIM_DEPTH &&
        hasNested(pointer)
      ) {
        v = walk(value, pointer, depth + 1);
      } else v = protect(value, category);
      if (v !== undefined) out[name] = v;
    }
    return out;
  };
  return walk(claims, '', 0);
}
