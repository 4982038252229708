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

/** Start of the string whose closing quote is at `close`, scanning backward; -1 if none. */
function stringStartBackward(u: Uint8Array, close: number): number {
  for (let i = close - 1; i >= 0; i--) {
    if (u[i] !== QUOTE) continue;
    let n = 0;
    while (i - 1 - n >= 0 && u[i - 1 - n] === BACKSLASH) n++;
    if ((n & 1) === 0) return i;
  }
  return -1;
}

/** Position of the unmatched `{` or `[` that encloses position `from` (exclusive), or -1. */
function enclosingOpener(u: Uint8Array, from: number): number {
  let depth = 0;
  for (let i = from - 1; i >= 0; i--) {
    const c = u[i];
    if (c === QUOTE) {
      i = stringStartBackward(u, i);
      if (i < 0) return -1;
    } else if (c === 0x7d || c === 0x5d) depth++;
    else if (c === 0x7b || c === 0x5b) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** Index just past the value that starts with the opener at `open`, or -1. */
function matchingClose(u: Uint8Array, open: number): number {
  let depth = 0;
  for (let i = open; i < u.length; i++) {
    const c = u[i];
    if (c === QUOTE) {
      for (i++; i < u.length && u[i] !== QUOTE; i++) if (u[i] === BACKSLASH) i++;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
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

/**
 * Detects a JSON-serialized JWS/JWE around the member name starting at `keyStart`
 * (`signature`, `signatures` or `ciphertext`), within buf[floor, limit).
 */
export function detectJsonSerialization(
  buf: Uint8Array,
  keyStart: number,
  floor: number,
  limit: number,
  maxTokenLength: number,
  budget: Budget,
): TokenItem | null {
  const quoting = quotingBefore(buf, keyStart);
  if (quoting === null) return null;
  const ws = Math.max(floor, keyStart - maxTokenLength);
  const we = Math.min(limit, keyStart + maxTokenLength);
  if (!budget.spend(we - ws)) return null;
  const u = unwrap(buf, ws, we, quoting);
  // Position of the key's opening quote in the plain bytes.
  let k = 0;
  while (k < u.bytes.length && u.map[k + 1]! <= keyStart - 1) k++;
  if (u.bytes[k] !== QUOTE) return null;

  const candidates: number[] = [];
  const inner = enclosingOpener(u.bytes, k);
  if (inner < 0 || u.bytes[inner] !== 0x7b) return null;
  const isSingularSignature =
    startsWithAscii(u.bytes, k + 1, 'signature"') || startsWithAscii(u.bytes, k + 1, 'signature\\');
  if (isSingularSignature) {
    // A general JWS's signature entries look like flattened detached JWS: prefer the outer object.
    let p = inner - 1;
    while (p >= 0 && isWs(u.bytes[p])) p--;
    if (u.bytes[p] === 0x5b || u.bytes[p] === 0x2c) {
      const arr = enclosingOpener(u.bytes, inner);
      if (arr >= 0 && u.bytes[arr] === 0x5b) {
        const outer = enclosingOpener(u.bytes, arr);
        if (outer >= 0 && u.bytes[outer] === 0x7b) candidates.push(outer);
      }
    }
  }
  candidates.push(inner);

  for (const open of candidates) {
    const close = matchingClose(u.bytes, open);
    if (close < 0) continue;
    const text = utf8OrNull(u.bytes.subarray(open, close));
    if (text === null) continue;
    const obj = parseJsonObject(text);
    if (obj === null) continue;
    const shape = joseJsonShape(obj);
    if (shape === null) continue;
    return {
      type: 'token',
      start: u.map[open]!,
      end: u.map[close]!,
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
  return null;
}
