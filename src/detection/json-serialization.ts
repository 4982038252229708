// JSON serializations (RFC 7515 section 7.2, RFC 7516 section 7.2), general and flattened.
// The scanner hands us the position of a `signature(s)` or `ciphertext` member name; we find
// the enclosing object, parse it and check that it has the shape of a JWS or JWE.
import type { Encoding, JoseHeader, Serialization, TokenKind } from '../model.ts';
import type { Budget } from './budget.ts';
import { decodeBase64, endsWithAscii, parseJsonObject, startsWithAscii, utf8OrNull } from './bytes.ts';
import { type Unwrapped, unescapeHtml, unescapeJson, unescapePercent, unwrapLevels } from './layers.ts';
import type { Quoting, TokenItem } from './types.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** How the member name at `keyStart` is quoted, read from the bytes before it. */
export function quotingBefore(buf: Uint8Array, keyStart: number): Quoting | null {
  if (buf[keyStart - 1] === QUOTE) {
    let n = 0;
    while (keyStart - 2 - n >= 0 && buf[keyStart - 2 - n] === BACKSLASH) n++;
    if (n === 0) return { kind: 'plain' };
    const level = Math.log2(n + 1);
    return Number.isInteger(level) && level <= 3 ? { kind: 'json-escape', level } : null;
  }
  if (
    endsWithAscii(buf, keyStart, '&quot;') ||
    endsWithAscii(buf, keyStart, '&#34;') ||
    endsWithAscii(buf, keyStart, '&#x22;')
  ) {
    return { kind: 'html' };
  }
  if (endsWithAscii(buf, keyStart, '%2522')) return { kind: 'percent', level: 2 };
  if (endsWithAscii(buf, keyStart, '%22')) return { kind: 'percent', level: 1 };
  return null;
}

export function quotingEncodings(q: Quoting): Encoding[] {
  switch (q.kind) {
    case 'plain':
      return [];
    case 'json-escape':
      return Array<Encoding>(q.level).fill('json-escape');
    case 'html':
      return ['html-entity'];
    case 'percent':
      return Array<Encoding>(q.level).fill('percent');
  }
}

function unwrap(buf: Uint8Array, s: number, e: number, q: Quoting): Unwrapped {
  switch (q.kind) {
    case 'json-escape':
      return unwrapLevels(buf, s, e, q.level, unescapeJson);
    case 'percent':
      return unwrapLevels(buf, s, e, q.level, unescapePercent);
    case 'html':
      return unescapeHtml(buf, s, e);
    case 'plain': {
      const map = new Int32Array(e - s + 1);
      for (let i = 0; i <= e - s; i++) map[i] = s + i;
      return { bytes: buf.subarray(s, e), map };
    }
  }
}

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function decodeHeaderMember(value: unknown): JoseHeader | null {
  if (value === undefined) return {};
  if (typeof value !== 'string') return null;
  const bytes = Buffer.from(value, 'latin1');
  const raw = decodeBase64(bytes, 0, bytes.length);
  if (raw === null) return null;
  const text = utf8OrNull(raw);
  return text === null ? null : (parseJsonObject(text) as JoseHeader | null);
}

function plainObject(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export interface JoseJsonShape {
  kind: TokenKind;
  serialization: Serialization;
  /** Merged header of the first signature or recipient. */
  header: JoseHeader;
}

/** The JWS/JWE shape of a parsed JSON object, or null when it is not a JOSE JSON serialization. */
export function joseJsonShape(obj: Record<string, unknown>): JoseJsonShape | null {
  const protectedHeader = decodeHeaderMember(obj.protected);
  if (protectedHeader === null) return null;
  if (typeof obj.ciphertext === 'string') {
    const unprotected = obj.unprotected === undefined ? {} : plainObject(obj.unprotected);
    if (unprotected === null) return null;
    let perRecipient: Record<string, unknown> | null;
    let serialization: Serialization;
    if (Array.isArray(obj.recipients)) {
      const first = plainObject(obj.recipients[0]);
      if (first === null) return null;
      perRecipient = first.header === undefined ? {} : plainObject(first.header);
      serialization = 'json';
    } else {
      perRecipient = obj.header === undefined ? {} : plainObject(obj.header);
      serialization = 'json_flat';
    }
    if (perRecipient === null) return null;
    const header = { ...unprotected, ...perRecipient, ...protectedHeader } as JoseHeader;
    if (typeof header.alg !== 'string' || typeof header.enc !== 'string') return null;
    return { kind: 'jwe', serialization, header };
  }
  if (obj.payload !== undefined && typeof obj.payload !== 'string') return null;
  let sigEntry: Record<string, unknown> | null;
  let serialization: Serialization;
  if (Array.isArray(obj.signatures)) {
    sigEntry = plainObject(obj.signatures[0]);
    serialization = 'json';
  } else if (typeof obj.signature === 'string') {
    sigEntry = obj;
    serialization = 'json_flat';
  } else return null;
  if (sigEntry === null || typeof sigEntry.signature !== 'string') return null;
  const entryProtected = serialization === 'json' ? decodeHeaderMember(sigEntry.protected) : protectedHeader;
  const unprotected = sigEntry.header === undefined ? {} : plainObject(sigEntry.header);
  if (entryProtected === null || unprotected === null) return null;
  if (sigEntry.protected === undefined && sigEntry.header === undefined) return null;
  const header = { ...unprotected, ...entryProtected } as JoseHeader;
  if (typeof header.alg !== 'string') return null;
  const kind: TokenKind = header.alg.toLowerCase() === 'none' ? 'unsecured' : 'jws';
  return { kind, serialization, header };
}

/** What earlier anchors in the same scan learnt, so that later ones do not walk the same bytes again. */
export interface JsonAnchorMemo {
  /** Anchors before this offset sit in an object already examined. */
  examinedUntil: number;
  /** A backward walk from `noneFrom` found no enclosing opener down to `noneFloor`. */
  noneFrom: number;
  noneFloor: number;
}

export function newJsonAnchorMemo(): JsonAnchorMemo {
  return { examinedUntil: -1, noneFrom: -1, noneFloor: Number.POSITIVE_INFINITY };
}

/**
 * Quote delimiters at JSON-escape level L (0 = plain JSON): a quote preceded by n backslashes
 * delimits a string at this level when n mod 2^(L+1) = 2^L - 1 (plain: even n; inside a JSON
 * string: `\"`; two levels deep: `\\\"`).
 */
function delimiterAt(level: number): (b: Uint8Array, i: number) => boolean {
  const mod = 2 ** (level + 1);
  const want = 2 ** level - 1;
  return (b, i) => {
    if (b[i] !== QUOTE) return false;
    let n = 0;
    while (i - 1 - n >= 0 && b[i - 1 - n] === BACKSLASH) n++;
    return n % mod === want;
  };
}

interface Walk {
  at: number;
  /** Bytes looked at. */
  cost: number;
}

/** The unmatched `{`/`[` enclosing `from`, walking back no further than `lo`; strings skipped. */
function enclosingRaw(
  b: Uint8Array,
  from: number,
  lo: number,
  delim: (b: Uint8Array, i: number) => boolean,
): Walk {
  let depth = 0;
  let i = from - 1;
  for (; i >= lo; i--) {
    const c = b[i];
    if (c === QUOTE && delim(b, i)) {
      // skip back to the string's opening delimiter
      for (i--; i >= lo && !(b[i] === QUOTE && delim(b, i)); i--) {}
      if (i < lo) break;
    } else if (c === 0x7d || c === 0x5d) depth++;
    else if (c === 0x7b || c === 0x5b) {
      if (depth === 0) return { at: i, cost: from - i };
      depth--;
    }
  }
  return { at: -1, cost: from - Math.max(i, lo) };
}

/** Index just past the value opened at `open`, scanning no further than `hi`; -1 if it does not close. */
function closeRaw(
  b: Uint8Array,
  open: number,
  hi: number,
  delim: (b: Uint8Array, i: number) => boolean,
): Walk {
  let depth = 0;
  let i = open;
  for (; i < hi; i++) {
    const c = b[i];
    if (c === QUOTE && delim(b, i)) {
      for (i++; i < hi && !(b[i] === QUOTE && delim(b, i)); i++) {}
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return { at: i + 1, cost: i + 1 - open };
    }
  }
  return { at: -1, cost: i - open };
}

function tokenFrom(
  obj: Record<string, unknown>,
  start: number,
  end: number,
  quoting: Quoting,
): TokenItem | null {
  const shape = joseJsonShape(obj);
  if (shape === null) return null;
  return {
    type: 'token',
    start,
    end,
    kind: shape.kind,
    serialization: shape.serialization,
    encoding: quotingEncodings(quoting),
    context: 'json',
    token: JSON.stringify(obj),
    json: obj,
    header: shape.header,
    quoting,
  };
}

/**
 * Detects a JSON-serialized JWS/JWE around the member name starting at `keyStart`
 * (`signature`, `signatures` or `ciphertext`), within buf[floor, limit). Plain and JSON-escaped
 * text is walked in place; HTML- and percent-encoded text is unwrapped around the anchor first.
 */
export function detectJsonSerialization(
  buf: Uint8Array,
  keyStart: number,
  floor: number,
  limit: number,
  maxTokenLength: number,
  budget: Budget,
  memo: JsonAnchorMemo = newJsonAnchorMemo(),
): TokenItem | null {
  if (keyStart < memo.examinedUntil) return null;
  const quoting = quotingBefore(buf, keyStart);
  if (quoting === null) return null;
  const anchor: Anchor = { buf, keyStart, floor, limit, maxTokenLength, budget, memo, quoting };
  return quoting.kind === 'plain' || quoting.kind === 'json-escape'
    ? detectInPlace(anchor)
    : detectUnwrapped(anchor);
}

/** One member-name hit and what bounds the work around it. */
interface Anchor {
  buf: Uint8Array;
  keyStart: number;
  floor: number;
  limit: number;
  maxTokenLength: number;
  budget: Budget;
  memo: JsonAnchorMemo;
  quoting: Quoting;
}

/**
 * The objects to try, outermost first. A general JWS's signature entries look like flattened
 * detached JWS: when the key is a singular `signature` in an array element, the object holding
 * that array is tried before the entry itself.
 */
function candidates(
  b: Uint8Array,
  inner: number,
  lo: number,
  delim: (b: Uint8Array, i: number) => boolean,
  singular: boolean,
): { opens: number[]; cost: number } {
  if (!singular) return { opens: [inner], cost: 0 };
  let p = inner - 1;
  while (p >= lo && isWs(b[p])) p--;
  if (b[p] !== 0x5b && b[p] !== 0x2c) return { opens: [inner], cost: 0 };
  const arr = enclosingRaw(b, inner, lo, delim);
  const outer = arr.at >= 0 && b[arr.at] === 0x5b ? enclosingRaw(b, arr.at, lo, delim) : { at: -1, cost: 0 };
  const opens = outer.at >= 0 && b[outer.at] === 0x7b ? [outer.at, inner] : [inner];
  return { opens, cost: arr.cost + outer.cost };
}

function detectInPlace(anchor: Anchor): TokenItem | null {
  const { buf, keyStart, floor, limit, maxTokenLength, budget, memo, quoting } = anchor;
  const level = quoting.kind === 'json-escape' ? quoting.level : 0;
  const delim = delimiterAt(level);
  const quoteLen = 2 ** level; // backslashes + quote
  const keyQuote = keyStart - 1;
  let lo = Math.max(floor, keyStart - maxTokenLength);
  const hi = Math.min(limit, keyStart + maxTokenLength);
  const known = memo.noneFrom <= keyQuote && memo.noneFrom >= lo && memo.noneFloor <= lo;
  if (known) lo = Math.max(lo, memo.noneFrom);
  const inner = enclosingRaw(buf, keyQuote - (quoteLen - 1), lo, delim);
  if (!budget.spend(inner.cost)) return null;
  if (inner.at < 0 || buf[inner.at] !== 0x7b) {
    if (inner.at < 0) {
      memo.noneFrom = keyQuote;
      memo.noneFloor = known ? memo.noneFloor : lo;
    }
    return null;
  }
  const singular = startsWithAscii(buf, keyStart, 'signature') && buf[keyStart + 9] !== 0x73;
  const tries = candidates(buf, inner.at, lo, delim, singular);
  if (!budget.spend(tries.cost)) return null;
  for (const open of tries.opens) {
    const close = closeRaw(buf, open, hi, delim);
    if (!budget.spend(close.cost)) return null;
    if (close.at < 0) {
      memo.examinedUntil = Math.max(memo.examinedUntil, open + close.cost);
      continue;
    }
    memo.examinedUntil = Math.max(memo.examinedUntil, close.at);
    const bytes =
      level === 0
        ? buf.subarray(open, close.at)
        : unwrapLevels(buf, open, close.at, level, unescapeJson).bytes;
    const text = utf8OrNull(bytes);
    const obj = text === null ? null : parseJsonObject(text);
    if (obj === null) continue;
    const item = tokenFrom(obj, open, close.at, quoting);
    if (item !== null) return item;
  }
  return null;
}

function detectUnwrapped(anchor: Anchor): TokenItem | null {
  const { buf, keyStart, floor, limit, maxTokenLength, budget, memo, quoting } = anchor;
  const ws = Math.max(floor, keyStart - maxTokenLength);
  const we = Math.min(limit, keyStart + maxTokenLength);
  if (!budget.spend(we - ws)) return null;
  const u = unwrap(buf, ws, we, quoting);
  // Position of the key's opening quote in the plain bytes.
  let k = 0;
  while (k < u.bytes.length && u.map[k + 1]! <= keyStart - 1) k++;
  if (u.bytes[k] !== QUOTE) return null;
  const plain = delimiterAt(0);
  const inner = enclosingRaw(u.bytes, k, 0, plain);
  if (inner.at < 0 || u.bytes[inner.at] !== 0x7b) {
    memo.examinedUntil = Math.max(memo.examinedUntil, keyStart + 1);
    return null;
  }
  const tries = candidates(u.bytes, inner.at, 0, plain, startsWithAscii(u.bytes, k + 1, 'signature"'));
  for (const open of tries.opens) {
    const close = closeRaw(u.bytes, open, u.bytes.length, plain);
    if (close.at < 0) continue;
    memo.examinedUntil = Math.max(memo.examinedUntil, u.map[close.at]!);
    const text = utf8OrNull(u.bytes.subarray(open, close.at));
    const obj = text === null ? null : parseJsonObject(text);
    if (obj === null) continue;
    const item = tokenFrom(obj, u.map[open]!, u.map[close.at]!, quoting);
    if (item !== null) return item;
  }
  // Anchors up to the end of what was unwrapped around this one gain nothing from another try.
  memo.examinedUntil = Math.max(memo.examinedUntil, Math.min(we, keyStart + 1));
  return null;
}
