// A linear, iterative JSON walker: validates a document and tells, for byte offsets inside
// it, the RFC 6901 pointer of the innermost value there. Iterative on purpose: a record
// nested 100,000 deep must not overflow the stack.
//
// Per-record cost matters (every Kafka record and JSONL line with a token is walked): string
// bodies are skipped with a byte-class table, member names are kept as byte ranges and decoded
// only when a pointer through them is asked for (JSON.parse only for names with an escape, which
// must be checked where they are met), and scalars are matched on bytes, not via a string.
import { mayHoldToken, scan, type TokenItem } from '../detection/index.ts';

interface Frame {
  array: boolean;
  /** This container's segment in its parent (escaped lazily: pointers are built only when asked for):
   * an array index, a decoded member name, or (-1) the name held as bytes [segStart, segEnd). */
  seg: string | number | null;
  segStart: number;
  segEnd: number;
  index: number;
  /** The current member name: decoded, or null with the bytes of a name without escapes [keyStart, keyEnd). */
  key: string | null;
  keyStart: number;
  keyEnd: number;
  /** In an object: a key is expected next (true) or a value (false). */
  expectKey: boolean;
}

/** A member name as a pointer segment. A hostile document can put a token in a key, and
 * pointers go into findings (R1): such a key is shown as `JWTR~masked`. */
function escapeSegment(segment: string): string {
  // Under 16 characters no token fits (the shortest, an unsecured header alone, is 19); with
  // mayHoldToken false the scanner has no needle to start from. Either way it would find nothing.
  const safe =
    segment.length >= 16 && mayHoldToken(segment) && scan(Buffer.from(segment, 'utf8')).items.length > 0
      ? 'JWTR~masked'
      : segment;
  return safe.includes('~') || safe.includes('/') ? safe.replaceAll('~', '~0').replaceAll('/', '~1') : safe;
}

/**
 * The longest pointer a finding carries (UTF-16 units, the marker below included). Pointers go into
 * every finding of a document, so a hostile one turned them into an amplifier: 650 KB nested 100,000
 * deep with 4,000 tokens at the bottom gave each finding a 200 KB pointer, built in time quadratic in
 * the depth, and the scan ran out of memory (4 GB) after 54 s. A longer pointer keeps its whole
 * segments that fit, then says where the rest was left out.
 */
export const MAX_POINTER_LENGTH = 1024;
/**
 * The segment standing for the segments left out there, as it reads in a pointer: the member name
 * `JWTR~deep`, escaped. Like a member name holding a token (`JWTR~masked`, which reads `JWTR~0masked`),
 * the pointer stays RFC 6901, and resolves to nothing rather than to something else.
 */
export const ELIDED_SEGMENT = 'JWTR~0deep';
const ELIDED = `/${ELIDED_SEGMENT}`;

/** `p` when it is at most MAX_POINTER_LENGTH long; else its whole segments that fit, then ELIDED_SEGMENT. */
export function boundPointer(p: string): string {
  if (p.length <= MAX_POINTER_LENGTH) return p;
  const cut = p.lastIndexOf('/', MAX_POINTER_LENGTH - ELIDED.length);
  return `${cut > 0 ? p.slice(0, cut) : ''}${ELIDED}`;
}

/**
 * A pointer and a segment (escaped) below it, bounded. Below a pointer that already ends in
 * ELIDED_SEGMENT, the pointer itself: what is left out there includes this segment.
 */
export function childPointer(parent: string, segment: string): string {
  if (parent.endsWith(ELIDED)) return parent;
  return boundPointer(`${parent}/${segment.length > MAX_POINTER_LENGTH ? ELIDED_SEGMENT : segment}`);
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;

/** In a string body: 0 plain byte, 1 closing quote, 2 backslash, 3 control byte (invalid). */
const STR = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STR[c] = 3;
STR[0x22] = 1;
STR[0x5c] = 2;

/** Scalar terminators: whitespace, ',', ']' and '}'. */
const STOP = new Uint8Array(WS);
for (const c of [0x2c, 0x5d, 0x7d]) STOP[c] = 1;

/** Set by stringEnd: the literal it last measured holds a backslash. */
let sawEscape = false;

/**
 * Scans a string body from `j`, stopping at `stop`: the index of the closing quote (< stop), -1 at
 * a control byte, or an index >= stop (an escape may step one past it).
 */
function bodyScan(buf: Uint8Array, j0: number, stop: number): number {
  let j = j0;
  const last8 = stop - 8;
  while (j < stop) {
    // Eight plain bytes a step (string bodies are mostly long runs of them).
    while (
      j <= last8 &&
      (STR[buf[j]!]! |
        STR[buf[j + 1]!]! |
        STR[buf[j + 2]!]! |
        STR[buf[j + 3]!]! |
        STR[buf[j + 4]!]! |
        STR[buf[j + 5]!]! |
        STR[buf[j + 6]!]! |
        STR[buf[j + 7]!]!) ===
        0
    )
      j += 8;
    if (j >= stop) break;
    const k = STR[buf[j]!]!;
    if (k === 0) j++;
    else if (k === 1) return j;
    else if (k === 3) return -1;
    else {
      sawEscape = true;
      j += 2;
    }
  }
  return j;
}

/** Spans known to hold only plain string bytes: offsets[k] to ends[k] (-1: unknown), walked in order. */
interface Plain {
  starts: Float64Array;
  ends: Float64Array;
  /** First span not yet passed. */
  k: number;
}

/** End of the JSON string literal starting at `i` (the opening quote), or -1. Plain spans in it are jumped. */
function stringEnd(buf: Uint8Array, i: number, plain: Plain | null): number {
  const n = buf.length;
  sawEscape = false;
  let j = i + 1;
  for (;;) {
    let stop = n;
    if (plain !== null) {
      const { starts, ends } = plain;
      while (plain.k < starts.length && (ends[plain.k]! < 0 || starts[plain.k]! < j)) plain.k++;
      if (plain.k < starts.length) stop = starts[plain.k]!;
    }
    const r = bodyScan(buf, j, stop);
    if (r === -1) return -1;
    if (r < stop) return r + 1;
    if (stop === n) return -1;
    // At a plain span (a compact token or a base64 run): nothing in it can end the string.
    const end = plain!.ends[plain!.k]!;
    j = Math.max(r, end);
    plain!.k++;
  }
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** The bytes buf[i, j) equal `word` (ASCII). */
function bytesAre(buf: Uint8Array, i: number, j: number, word: string): boolean {
  if (j - i !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (buf[i + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** buf[i, j) is a JSON number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
function isNumber(buf: Uint8Array, i: number, j: number): boolean {
  let k = i;
  if (buf[k] === 0x2d) k++;
  if (k >= j) return false;
  if (buf[k] === 0x30) k++;
  else if (buf[k]! >= 0x31 && buf[k]! <= 0x39) while (k < j && isDigit(buf[k])) k++;
  else return false;
  if (k < j && buf[k] === 0x2e) {
    k++;
    const d = k;
    while (k < j && isDigit(buf[k])) k++;
    if (k === d) return false;
  }
  if (k < j && (buf[k] === 0x65 || buf[k] === 0x45)) {
    k++;
    if (k < j && (buf[k] === 0x2b || buf[k] === 0x2d)) k++;
    const d = k;
    while (k < j && isDigit(buf[k])) k++;
    if (k === d) return false;
  }
  return k === j;
}

function scalarEnd(buf: Uint8Array, i: number): number {
  let j = i;
  const n = buf.length;
  while (j < n && STOP[buf[j]!] !== 1) j++;
  if (bytesAre(buf, i, j, 'true') || bytesAre(buf, i, j, 'false') || bytesAre(buf, i, j, 'null')) return j;
  return isNumber(buf, i, j) ? j : -1;
}

/** A member name without escapes, from its bytes (quotes excluded). */
function nameAt(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

/** The end of a token's span when its bytes cannot end or escape a JSON string (base64url, dots,
 * '=', or the base64 run holding it), else -1. A compact JWS with an unencoded payload (b64: false)
 * can hold any printable byte. */
export function plainEnd(t: TokenItem): number {
  return t.serialization === 'compact' && t.header?.b64 !== false ? t.end : -1;
}

export interface JsonPaths {
  valid: boolean;
  /** Pointer for each requested offset (same order); undefined where the document was not valid up to it. */
  pointers: (string | undefined)[];
}

/** A member name from its bytes, as a segment; ELIDED_SEGMENT when too long for any pointer (not decoded). */
function nameSegment(buf: Uint8Array, start: number, end: number): string {
  return end - start > MAX_POINTER_LENGTH ? ELIDED_SEGMENT : escapeSegment(nameAt(buf, start, end));
}

/** A decoded member name as a segment; ELIDED_SEGMENT when too long for any pointer. */
function keySegment(key: string): string {
  return key.length > MAX_POINTER_LENGTH ? ELIDED_SEGMENT : escapeSegment(key);
}

function segmentText(buf: Uint8Array, f: Frame): string {
  return typeof f.seg === 'number'
    ? String(f.seg)
    : f.seg === null
      ? nameSegment(buf, f.segStart, f.segEnd)
      : keySegment(f.seg);
}

/**
 * Pointer of the container stack[depth - 1]. Built on demand only, and only as far as it can be
 * long (boundPointer): a document nested 100,000 deep must not build 100,000 growing strings, nor
 * one of 200 KB for each token in it.
 */
function topPointer(buf: Uint8Array, stack: readonly Frame[], depth: number): string {
  let p = '';
  for (let d = 0; d < depth; d++) {
    const f = stack[d]!;
    if (f.seg !== null || f.segStart >= 0) {
      p += `/${segmentText(buf, f)}`;
      if (p.length > MAX_POINTER_LENGTH) return boundPointer(p);
    }
  }
  return p;
}

/** Pointer of the value about to be read in stack[depth - 1] (the root's when depth is 0). */
function valuePointer(buf: Uint8Array, stack: readonly Frame[], depth: number): string {
  if (depth === 0) return '';
  const top = stack[depth - 1]!;
  const parent = topPointer(buf, stack, depth);
  if (top.array) return childPointer(parent, String(top.index));
  const segment =
    top.key !== null
      ? keySegment(top.key)
      : top.keyStart >= 0
        ? nameSegment(buf, top.keyStart, top.keyEnd)
        : '';
  return childPointer(parent, segment);
}

/** Gives offsets[next...] below `end` the pointer `p`; returns the next offset to resolve. */
function resolve(
  offsets: Float64Array,
  pointers: (string | undefined)[],
  next0: number,
  end: number,
  p: string,
): number {
  let next = next0;
  while (next < offsets.length && offsets[next]! < end) {
    pointers[next] = p;
    next++;
  }
  return next;
}

function afterValue(stack: readonly Frame[], depth: number): void {
  if (depth === 0) return;
  const top = stack[depth - 1]!;
  if (top.array) top.index++;
  else top.expectKey = true;
}

/**
 * Walks `buf` as one JSON document. `offsets` must be sorted ascending.
 * The walk reads offsets and ends from Float64Arrays made here: callers' arrays come with small-int or
 * double elements, packed or holey (token offsets are sometimes stored as doubles), and every new kind
 * the optimized walk met deoptimized it (a worker thread compiled jsonPaths six times over a scan).
 * A typed array has one map.
 * The pointer of an offset is that of the innermost value whose bytes contain it.
 * `ends` (optional, same order): where offsets[k] starts bytes that hold no quote, backslash or
 * control byte up to ends[k] (see plainEnd), else -1; such spans are not read inside strings.
 */
export function jsonPaths(
  buf: Uint8Array,
  offsetList: readonly number[],
  ends?: readonly number[],
): JsonPaths {
  const offsets = new Float64Array(offsetList);
  const plain: Plain | null =
    ends === undefined ? null : { starts: offsets, ends: new Float64Array(ends), k: 0 };
  const pointers: (string | undefined)[] = new Array(offsets.length).fill(undefined);
  const next = walk(buf, offsets, pointers, plain);
  if (next < 0) return { valid: false, pointers };
  resolve(offsets, pointers, next, Number.POSITIVE_INFINITY, '');
  return { valid: true, pointers };
}

/**
 * The walk of jsonPaths: fills `pointers` and returns the first offset left to resolve (those past
 * the root value), or -1 when the bytes are not one JSON value. Apart from jsonPaths for V8: a long
 * walk is compiled while it runs (on-stack replacement), before the code after its loop has ever run
 * and told V8 its types; that code, when it held a compare, a property read or an object literal,
 * threw the optimized walk out at the end of every call (hundreds of times a scan, in every thread).
 * The walk now ends in a test and a return, which need no such feedback, and jsonPaths is small.
 */
function walk(
  buf: Uint8Array,
  offsets: Float64Array,
  pointers: (string | undefined)[],
  plain: Plain | null,
): number {
  const count = offsets.length;
  let next = 0; // next offset to resolve
  const stack: Frame[] = [];
  let depth = 0; // frames in use: stack[0, depth) (popped frames are reused)
  let i = 0;
  let seenRoot = false;
  const n = buf.length;

  while (i < n) {
    const c = buf[i]!;
    if (WS[c] === 1) {
      i++;
      continue;
    }
    const top = depth === 0 ? undefined : stack[depth - 1]!;
    if (top === undefined && seenRoot) return -1;
    // Offsets before this position that were not inside a value belong to the container.
    if (next < count && offsets[next]! < i)
      next = resolve(offsets, pointers, next, i, topPointer(buf, stack, depth));
    if (c === 0x2c) {
      if (top === undefined) return -1;
      i++;
      continue;
    }
    if (c === 0x3a) {
      if (top === undefined || top.array || top.expectKey) return -1;
      i++;
      continue;
    }
    if (c === 0x7d || c === 0x5d) {
      if (top === undefined || top.array !== (c === 0x5d)) return -1;
      i++;
      if (next < count && offsets[next]! < i)
        next = resolve(offsets, pointers, next, i, topPointer(buf, stack, depth));
      depth--;
      afterValue(stack, depth);
      continue;
    }
    if (top !== undefined && !top.array && top.expectKey) {
      if (c !== 0x22) return -1;
      const end = stringEnd(buf, i, plain);
      if (end < 0) return -1;
      if (sawEscape) {
        let key: string;
        try {
          key = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + i, end - i).toString('utf8')) as string;
        } catch {
          return -1;
        }
        top.key = key;
      } else {
        top.key = null;
        top.keyStart = i + 1;
        top.keyEnd = end - 1;
      }
      top.expectKey = false;
      if (next < count && offsets[next]! < end)
        next = resolve(offsets, pointers, next, end, topPointer(buf, stack, depth));
      i = end;
      continue;
    }
    // A value.
    seenRoot = true;
    if (c === 0x7b || c === 0x5b) {
      // Offsets at the opening brace belong to the container value itself.
      if (next < count && offsets[next]! < i + 1)
        next = resolve(offsets, pointers, next, i + 1, valuePointer(buf, stack, depth));
      let f = stack[depth];
      if (f === undefined) {
        f = {
          array: false,
          seg: null,
          segStart: -1,
          segEnd: -1,
          index: 0,
          key: null,
          keyStart: -1,
          keyEnd: -1,
          expectKey: false,
        };
        stack.push(f);
      }
      // This container's segment in its parent: null at the root, else the parent's index or key.
      f.seg = null;
      f.segStart = -1;
      if (top !== undefined) {
        if (top.array) f.seg = top.index;
        else if (top.key !== null) f.seg = top.key;
        else if (top.keyStart >= 0) {
          f.segStart = top.keyStart;
          f.segEnd = top.keyEnd;
        } else f.seg = '';
      }
      f.array = c === 0x5b;
      f.index = 0;
      f.key = null;
      f.keyStart = -1;
      f.keyEnd = -1;
      f.expectKey = c === 0x7b;
      depth++;
      i++;
      continue;
    }
    const end = c === 0x22 ? stringEnd(buf, i, plain) : scalarEnd(buf, i);
    if (end < 0) return -1;
    if (next < count && offsets[next]! < end)
      next = resolve(offsets, pointers, next, end, valuePointer(buf, stack, depth));
    i = end;
    afterValue(stack, depth);
  }
  return seenRoot && !depth ? next : -1;
}

/** True when the bytes start like a JSON object or array (cheap pre-check before walking). */
export function looksLikeJson(buf: Uint8Array): boolean {
  let i = 0;
  while (i < buf.length && WS[buf[i]!] === 1) i++;
  return buf[i] === 0x7b || buf[i] === 0x5b;
}
