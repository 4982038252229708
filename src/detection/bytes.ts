// Byte classes and base64 helpers shared by the detectors. Everything works on bytes:
// tokens are ASCII, and scanning bytes keeps offsets exact for in-place redaction.

/** 1 for A-Z a-z 0-9 - _ (the base64url alphabet). */
export const B64URL = new Uint8Array(256);
/** 1 for A-Z a-z 0-9 + / - _ (either base64 alphabet). */
export const B64ANY = new Uint8Array(256);
/** Sextet value of a base64 or base64url character, 255 otherwise. */
export const DEC = new Uint8Array(256).fill(255);

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
for (let i = 0; i < STD.length; i++) {
  const c = STD.charCodeAt(i);
  B64URL[c] = 1;
  B64ANY[c] = 1;
  DEC[c] = i;
}
for (const [ch, v] of [
  ['-', 62],
  ['_', 63],
  ['+', 62],
  ['/', 63],
] as const) {
  const c = ch.charCodeAt(0);
  B64ANY[c] = 1;
  DEC[c] = v;
  if (ch === '-' || ch === '_') B64URL[c] = 1;
}

export const DOT = 0x2e;

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
const LATIN1_SLICE = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;

/** buf[s, e) as a latin1 string: Buffer#latin1Slice straight on the bytes (no Buffer view made per call;
 * it takes any Uint8Array), else through a Buffer view. */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  if (LATIN1_SLICE !== undefined) return LATIN1_SLICE.call(buf, s, e);
  return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
}
export const EQ = 0x3d;

/** Length of the run of base64url characters starting at `i` (stops at `limit`). */
export function runForward(buf: Uint8Array, i: number, limit: number, table: Uint8Array = B64URL): number {
  let j = i;
  // Eight bytes a step while all are in the class (tables hold 0 or 1): a token's payload and
  // signature are walked here, ~1/3 less time per byte than one byte a step.
  const last8 = limit - 8;
  while (
    j <= last8 &&
    (table[buf[j]!]! &
      table[buf[j + 1]!]! &
      table[buf[j + 2]!]! &
      table[buf[j + 3]!]! &
      table[buf[j + 4]!]! &
      table[buf[j + 5]!]! &
      table[buf[j + 6]!]! &
      table[buf[j + 7]!]!) ===
      1
  )
    j += 8;
  while (j < limit && table[buf[j]!] === 1) j++;
  return j;
}

/** Start of the run of `table` characters that ends just before `i` (stops at `floor`). */
export function runBackward(buf: Uint8Array, i: number, floor: number, table: Uint8Array = B64URL): number {
  let j = i;
  while (j > floor && table[buf[j - 1]!] === 1) j--;
  return j;
}

/** Skips up to two '=' padding characters. */
export function skipPadding(buf: Uint8Array, i: number, limit: number): number {
  let j = i;
  while (j < limit && j - i < 2 && buf[j] === EQ) j++;
  return j;
}

/** Number of bytes a base64 text of `chars` significant characters decodes to, or -1 when no length fits. */
export function decodedLength(chars: number): number {
  const rem = chars & 3;
  if (rem === 1) return -1;
  return (chars >> 2) * 3 + (rem === 0 ? 0 : rem - 1);
}

/**
 * Decodes base64 or base64url characters buf[s, e) (no padding inside) into bytes.
 * Returns null when a character is outside both alphabets or the length cannot be base64.
 */
export function decodeBase64(buf: Uint8Array, s: number, e: number): Uint8Array | null {
  const len = decodedLength(e - s);
  if (len < 0) return null;
  const out = new Uint8Array(len);
  let o = 0;
  let i = s;
  const full = s + ((e - s) & ~3);
  while (i < full) {
    const a = DEC[buf[i]!]!;
    const b = DEC[buf[i + 1]!]!;
    const c = DEC[buf[i + 2]!]!;
    const d = DEC[buf[i + 3]!]!;
    if ((a | b | c | d) === 255) return null;
    out[o++] = (a << 2) | (b >> 4);
    out[o++] = ((b & 15) << 4) | (c >> 2);
    out[o++] = ((c & 3) << 6) | d;
    i += 4;
  }
  const rem = e - i;
  if (rem >= 2) {
    const a = DEC[buf[i]!]!;
    const b = DEC[buf[i + 1]!]!;
    if ((a | b) === 255) return null;
    out[o++] = (a << 2) | (b >> 4);
    if (rem === 3) {
      const c = DEC[buf[i + 2]!]!;
      if (c === 255) return null;
      out[o++] = ((b & 15) << 4) | (c >> 2);
    }
  }
  return out;
}

/** First decoded byte of base64 text starting at s (needs two characters). */
export function firstDecodedByte(buf: Uint8Array, s: number): number {
  return ((DEC[buf[s]!]! << 2) | (DEC[buf[s + 1]!]! >> 4)) & 255;
}

/** Last decoded byte of base64 text buf[s, e), or -1 when the length cannot be base64. */
export function lastDecodedByte(buf: Uint8Array, s: number, e: number): number {
  switch ((e - s) & 3) {
    case 0:
      return ((DEC[buf[e - 2]!]! & 3) << 6) | DEC[buf[e - 1]!]!;
    case 2:
      return ((DEC[buf[e - 2]!]! << 2) | (DEC[buf[e - 1]!]! >> 4)) & 255;
    case 3:
      return (((DEC[buf[e - 2]!]! & 15) << 4) | (DEC[buf[e - 1]!]! >> 2)) & 255;
    default:
      return -1;
  }
}

const STD_ENC = `${STD}+/`;
const URL_ENC = `${STD}-_`;

/** Encodes bytes as base64 (`std`, padded) or base64url (`url`, unpadded unless `pad`). */
export function encodeBase64(bytes: Uint8Array, alphabet: 'std' | 'url', pad: boolean): string {
  const table = alphabet === 'std' ? STD_ENC : URL_ENC;
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += table[n >> 18]! + table[(n >> 12) & 63]! + table[(n >> 6) & 63]! + table[n & 63]!;
  }
  const rem = bytes.length - i;
  if (rem === 1) {
    const n = bytes[i]! << 16;
    out += table[n >> 18]! + table[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rem === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += table[n >> 18]! + table[(n >> 12) & 63]! + table[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decode; null on invalid bytes. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Parses a JSON object (not array or scalar) or returns null. */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function startsWithAscii(buf: Uint8Array, at: number, ascii: string): boolean {
  if (at < 0 || at + ascii.length > buf.length) return false;
  for (let i = 0; i < ascii.length; i++) if (buf[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

export function endsWithAscii(buf: Uint8Array, end: number, ascii: string): boolean {
  return startsWithAscii(buf, end - ascii.length, ascii);
}
