// Compact serialization (RFC 7515 section 7.1, RFC 7516 section 7.1): header.payload.signature
// and header.encrypted_key.iv.ciphertext.tag. The scanner hands us a position inside a header
// segment (where the base64 of `"alg"` was seen); we find where the token starts and ends.
import type { JoseHeader } from '../model.ts';
import type { Budget } from './budget.ts';
import {
  B64URL,
  DOT,
  decodeBase64,
  firstDecodedByte,
  lastDecodedByte,
  latin1,
  parseJsonObject,
  runBackward,
  runForward,
  skipPadding,
  startsWithAscii,
  utf8OrNull,
} from './bytes.ts';
import type { SanitizedItem, SuspectItem } from './types.ts';

/** The literal that starts our own sanitized-signature marker (see redaction). */
export const SANITIZED_MARKER = 'JWTR~sanitized~';

/** Header candidates tried per segment before the segment is masked as suspect. */
const MAX_HEADER_ATTEMPTS = 16;

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

/** IV and tag lengths (bytes) each content encryption algorithm requires (RFC 7518 section 5). */
const ENC_LENGTHS: Record<string, { iv: number; tag: number }> = {
  A128GCM: { iv: 12, tag: 16 },
  A192GCM: { iv: 12, tag: 16 },
  A256GCM: { iv: 12, tag: 16 },
  'A128CBC-HS256': { iv: 16, tag: 16 },
  'A192CBC-HS384': { iv: 16, tag: 24 },
  'A256CBC-HS512': { iv: 16, tag: 32 },
};

export interface CompactMatch {
  type: 'compact';
  start: number;
  end: number;
  /** End of the header segment (the first dot). */
  headerEnd: number;
  header: JoseHeader;
  kind: 'jws' | 'jwe' | 'unsecured';
}

export type CompactResult =
  | CompactMatch
  | SuspectItem
  | SanitizedItem
  /** Not a token; `resume` is where scanning may go on. */
  | { type: 'none'; resume: number };

// One issuer's tokens share a header segment: remember the last parsed ones. Headers are
// frozen so that sharing them between tokens is safe.
const HEADER_CACHE_SIZE = 512;
const headerCache = new Map<string, JoseHeader | null>();

/** Parses the header segment buf[s, e) into a JOSE header with `alg`, or null. */
function parseHeader(buf: Uint8Array, s: number, e: number): JoseHeader | null {
  if (e - s > 1024) return parseHeaderUncached(buf, s, e);
  const key = latin1(buf, s, e);
  const hit = headerCache.get(key);
  if (hit !== undefined) return hit;
  const header = parseHeaderUncached(buf, s, e);
  if (headerCache.size >= HEADER_CACHE_SIZE) headerCache.delete(headerCache.keys().next().value as string);
  headerCache.set(key, header === null ? null : Object.freeze(header));
  return header;
}

function parseHeaderUncached(buf: Uint8Array, s: number, e: number): JoseHeader | null {
  const bytes = decodeBase64(buf, s, e);
  if (bytes === null) return null;
  const text = utf8OrNull(bytes);
  if (text === null) return null;
  const obj = parseJsonObject(text);
  if (obj === null || typeof obj.alg !== 'string') return null;
  if ('enc' in obj && typeof obj.enc !== 'string') return null;
  return obj as JoseHeader;
}

/** A segment: base64url run, then up to two '=' padding characters. Returns its end. */
function segment(buf: Uint8Array, i: number, limit: number): { end: number; chars: number } {
  const run = runForward(buf, i, limit);
  return { end: skipPadding(buf, run, limit), chars: run - i };
}

function b64Bytes(chars: number): number {
  return Math.floor((chars * 3) / 4);
}

/**
 * Tries to read a compact token whose header segment contains position `hit`.
 * `floor` and `limit` bound the bytes this call may look at.
 */
export function detectCompact(
  buf: Uint8Array,
  hit: number,
  floor: number,
  limit: number,
  maxTokenLength: number,
  budget: Budget,
): CompactResult {
  const segStart = runBackward(buf, hit, Math.max(floor, hit - maxTokenLength));
  const runEnd = runForward(buf, hit, Math.min(limit, hit + maxTokenLength));
  const segEnd = skipPadding(buf, runEnd, limit);
  if (buf[segEnd] !== DOT) return { type: 'none', resume: segEnd };
  const bodyEnd = runEnd; // header characters end here, padding excluded

  let attempts = 0;
  for (let s = segStart; s <= hit && s < bodyEnd - 1; s++) {
    const first = firstDecodedByte(buf, s);
    if (first !== LBRACE && WS[first] !== 1) continue;
    const last = lastDecodedByte(buf, s, bodyEnd);
    if (last !== RBRACE && WS[last] !== 1) continue;
    if (++attempts > MAX_HEADER_ATTEMPTS) {
      return {
        type: 'suspect',
        start: segStart,
        end: dottedRunEnd(buf, segEnd, limit),
        reason: 'header-attempts',
      };
    }
    if (!budget.spend(bodyEnd - s)) return { type: 'none', resume: segEnd };
    const header = parseHeader(buf, s, bodyEnd);
    if (header === null) continue;
    return readBody(buf, s, segEnd, header, limit, maxTokenLength);
  }
  return { type: 'none', resume: segEnd };
}

function dottedRunEnd(buf: Uint8Array, i: number, limit: number): number {
  let j = i;
  while (j < limit && (B64URL[buf[j]!] === 1 || buf[j] === DOT || buf[j] === 0x3d)) j++;
  return j;
}

function readBody(
  buf: Uint8Array,
  start: number,
  headerEnd: number,
  header: JoseHeader,
  limit0: number,
  maxTokenLength: number,
): CompactResult {
  const limit = Math.min(limit0, start + maxTokenLength);
  // A header that decodes but a body running past the length limit: too long to read, never
  // passed through (fail closed, masked as suspect).
  const tooLong = (end: number): SuspectItem | null =>
    end >= limit && limit < limit0 && (B64URL[buf[end]!] === 1 || buf[end] === DOT)
      ? { type: 'suspect', start, end: dottedRunEnd(buf, end, limit0), reason: 'token-too-long' }
      : null;
  let pos = headerEnd + 1;
  if (typeof header.enc === 'string') {
    // JWE: encrypted_key . iv . ciphertext . tag
    const parts: { end: number; chars: number }[] = [];
    for (let k = 0; k < 4; k++) {
      const seg = segment(buf, pos, limit);
      const long = tooLong(seg.end);
      if (long !== null) return long;
      parts.push(seg);
      if (k < 3) {
        if (buf[seg.end] !== DOT) return { type: 'none', resume: seg.end };
        pos = seg.end + 1;
      }
    }
    const [, iv, ciphertext, tag] = parts as [
      unknown,
      { chars: number },
      { chars: number },
      { end: number; chars: number },
    ];
    if (ciphertext.chars === 0 || iv.chars === 0 || tag.chars === 0) return { type: 'none', resume: tag.end };
    const want = ENC_LENGTHS[header.enc];
    if (want !== undefined && (b64Bytes(iv.chars) !== want.iv || b64Bytes(tag.chars) !== want.tag)) {
      return { type: 'none', resume: tag.end };
    }
    return { type: 'compact', start, end: tag.end, headerEnd, header, kind: 'jwe' };
  }

  // JWS: payload . signature
  let payloadEnd: number;
  if (header.b64 === false) {
    // RFC 7797: the payload is raw; in compact form it cannot hold a dot. Printable ASCII only.
    let j = pos;
    while (j < limit && buf[j] !== DOT && buf[j]! >= 0x20 && buf[j]! < 0x7f) j++;
    payloadEnd = j;
  } else {
    payloadEnd = segment(buf, pos, limit).end;
  }
  const longPayload = tooLong(payloadEnd);
  if (longPayload !== null) return longPayload;
  if (buf[payloadEnd] !== DOT) return { type: 'none', resume: payloadEnd };
  const sigStart = payloadEnd + 1;
  if (startsWithAscii(buf, sigStart, SANITIZED_MARKER)) {
    // Our own sanitized token (R5): its signature was replaced; nothing here can verify.
    return { type: 'sanitized', start, end: runForward(buf, sigStart, limit0, MARKER) };
  }
  const sig = segment(buf, sigStart, limit);
  const longSig = tooLong(sig.end);
  if (longSig !== null) return longSig;
  const unsecured = (header.alg ?? '').toLowerCase() === 'none';
  return { type: 'compact', start, end: sig.end, headerEnd, header, kind: unsecured ? 'unsecured' : 'jws' };
}

/** Characters of a placeholder or marker: base64url plus '~'. */
const MARKER = new Uint8Array(B64URL);
MARKER[0x7e] = 1;
