// The scanner: finds every JOSE object in a byte buffer in time linear in its length.
//
// Every JWS/JWE header holds the member name "alg", so the base64url of a header holds one
// of three fixed strings, one per alignment of `"alg"` in the decoded bytes (`ImFsZy`,
// `JhbGci`, `iYWxnI`). Base64 of a token (Kubernetes Secret data, HAR bodies) holds the base64
// of those at three alignments again: nine more needles; base64 of base64 of a token (the
// `auth` field of a dockerconfigjson Secret, base64 in base64) holds the base64 of those nine at
// three alignments: 27 more (MAX_BASE64_DEPTH). JSON serializations are found by
// their `signature(s)`/`ciphertext` member names. All needles are found in one WebAssembly SIMD
// pass (teddy.ts), or with one Buffer#indexOf pass each where WebAssembly SIMD is unavailable;
// only around a hit do we decode and parse, and that work is paid from a budget proportional
// to the input, so hostile input cannot make a scan super-linear.
import type { Encoding, TokenContext } from '../model.ts';
import { Budget } from './budget.ts';
import {
  B64ANY,
  B64URL,
  decodeBase64,
  EQ,
  latin1,
  runBackward,
  runForward,
  startsWithAscii,
  utf8OrNull,
} from './bytes.ts';
import { detectCompact } from './compact.ts';
import { detectJsonSerialization, newJsonAnchorMemo } from './json-serialization.ts';
import { createTeddy, type Hits, type Teddy } from './teddy.ts';
import {
  DEFAULT_SCAN_OPTIONS,
  type ScanItem,
  type ScanOptions,
  type ScanResult,
  type TokenItem,
} from './types.ts';

type NeedleKind = 'alg' | 'json' | 'b64' | 'b64b64';
interface Needle {
  bytes: Buffer;
  kind: NeedleKind;
  /** Offset from the needle's match to the position handed to the detector. */
  back: number;
  /** Teddy bucket (teddy.ts): needles sharing one share bytes at the start, for fewer false candidates. */
  bucket: number;
  /** Position in NEEDLES. */
  index: number;
  /**
   * Base64 needles: where the needle starts within a 4-character quantum of a genuine encoding
   * (from the alignment it was derived at). Aligns a window cut out of an outer layer, where the
   * start of the run is not the start of the encoding.
   */
  phase: number;
}

let needleCount = 0;
// Quantum phase of the base64 needles (see Needle.phase): the needle's offset in its determined
// text plus the characters left undetermined before it (0, 2, 3 for byte alignments 0, 1, 2).
const B64_PHASE: Record<string, number> = {
  R2Np: 0,
  Ykdja: 0,
  KaGJHY2: 3,
  W1Gc1p: 1,
  RnNae: 0,
  UZzWn: 1,
  VlXeG5J: 1,
  V3huS: 0,
  WVd4bk: 0,
};
function needle(text: string, kind: NeedleKind, bucket: number, back = 0): Needle {
  return {
    bytes: Buffer.from(text, 'latin1'),
    kind,
    back,
    bucket,
    index: needleCount++,
    phase: B64_PHASE[text] ?? 0,
  };
}

// Which substring of each needle is searched was chosen by measurement on log text: Node's
// indexOf speed depends on the needle's characters (from ~1 to ~28 GB/s), and any substring
// that still pins the alignment will do, since the detectors re-read the bytes around a hit.
// Buckets (third argument) were chosen by counting false candidates on log text and base64.
const NEEDLES: readonly Needle[] = [
  needle('bGci', 'alg', 0), // JhbGci
  needle('ImFsZy', 'alg', 1),
  needle('YWxnI', 'alg', 2), // iYWxnI
  needle('gnature', 'json', 3, 2), // "signature", "signatures"
  needle('hertext', 'json', 4, 3), // "ciphertext"
  // base64 of the three alg needles at the three byte alignments (see test/unit/detection/needles.test.ts).
  needle('R2Np', 'b64', 5), // SmhiR2Np
  needle('Ykdja', 'b64', 2), // poYkdja
  needle('KaGJHY2', 'b64', 1),
  needle('W1Gc1p', 'b64', 7), // SW1Gc1p5
  needle('RnNae', 'b64', 5), // ltRnNae
  needle('UZzWn', 'b64', 6), // JbUZzWn (J is every third byte of a run of eyJ)
  needle('VlXeG5J', 'b64', 6), // aVlXeG5J
  needle('V3huS', 'b64', 6), // lZV3huS
  needle('WVd4bk', 'b64', 7), // pWVd4bk
  // base64 of the nine base64 needles' determined text at the three byte alignments: the outer
  // layer of base64 in base64 (see test/unit/detection/needles.test.ts). All alphanumeric, so
  // they hold for both alphabets at both levels; substrings and buckets chosen by counting
  // false candidates on log text and random base64, as for the others.
  needle('1oaVIy', 'b64b64', 3), // U21oaVIyTn
  needle('aGlSMk', 'b64b64', 0), // NtaGlSMk5w
  needle('bWhpUj', 'b64b64', 0), // TbWhpUjJOc
  needle('9Za2Rq', 'b64b64', 3), // cG9Za2RqY
  needle('WWtkam', 'b64b64', 2), // BvWWtkam
  needle('b1lrZG', 'b64b64', 5), // wb1lrZGph
  needle('S2FHSk', 'b64b64', 1), // S2FHSkhZM
  needle('R0pIWT', 'b64b64', 5), // thR0pIWT
  needle('YUdKSF', 'b64b64', 2), // LYUdKSFky
  needle('U1cxR2', 'b64b64', 6), // U1cxR2MxcD
  needle('XMUdjM', 'b64b64', 4), // NXMUdjMXA1
  needle('TVzFHY', 'b64b64', 7), // TVzFHYzFwN
  needle('bHRSbk', 'b64b64', 0), // bHRSbk5hZ
  needle('Um5OYW', 'b64b64', 4), // x0Um5OYW
  needle('sdFJuT', 'b64b64', 1), // sdFJuTmFl
  needle('VWnpXb', 'b64b64', 2), // SmJVWnpXb
  needle('VVp6V2', 'b64b64', 2), // piVVp6V2
  needle('lVaeld', 'b64b64', 3), // KYlVaeldu
  needle('VZsWGV', 'b64b64', 6), // YVZsWGVHNU
  needle('bFhlRz', 'b64b64', 0), // FWbFhlRzVK
  needle('VmxYZU', 'b64b64', 6), // hVmxYZUc1S
  needle('WM2h1U', 'b64b64', 4), // bFpWM2h1U
  needle('aVjNod', 'b64b64', 0), // xaVjNodV
  needle('YzaHVT', 'b64b64', 3), // sWlYzaHVT
  needle('WZDRia', 'b64b64', 7), // cFdWZDRia
  needle('VmQ0Ym', 'b64b64', 6), // BXVmQ0Ym
  needle('V1ZkNG', 'b64b64', 6), // wV1ZkNGJr
];

/**
 * Deepest base64 nesting unwrapped by default: a token in base64 in base64. The prefilter has
 * needles for these two levels only, so deeper nesting is not found whatever maxBase64Depth says.
 */
export const MAX_BASE64_DEPTH = 2;

const NEEDLE_TEXTS = NEEDLES.map((n) => n.bytes.toString('latin1'));

/** Cheap pre-check for short strings (claim values): false means `scan` would find nothing. */
export function mayHoldToken(text: string): boolean {
  for (const n of NEEDLE_TEXTS) if (text.includes(n)) return true;
  return false;
}

const ALG_NEEDLES = NEEDLES.filter((n) => n.kind === 'alg');
const JSON_NEEDLES = NEEDLES.filter((n) => n.kind === 'json');
/** Gap needles by base64 layers still allowed below this one: 0, 1, 2 or more. */
const GAP_NEEDLES_BY_ROOM = [
  JSON_NEEDLES,
  NEEDLES.filter((n) => n.kind === 'json' || n.kind === 'b64'),
  NEEDLES.filter((n) => n.kind !== 'alg'),
];

interface Hit {
  at: number;
  needle: Needle;
}

// One WebAssembly SIMD pass finds every needle (teddy.ts); null where it cannot run, and then
// each needle is searched with Buffer#indexOf as before. Both give the same hits in the same order.
/** The prefilter's literals and their buckets, in needle order (also what teddy.test.ts runs on). */
export const PREFILTER_LITERALS: readonly string[] = NEEDLES.map((n) => n.bytes.toString('latin1'));
export const PREFILTER_BUCKETS: readonly number[] = NEEDLES.map((n) => n.bucket);
const TEDDY = createTeddy(PREFILTER_LITERALS, PREFILTER_BUCKETS);
let teddy: Teddy | null = TEDDY;

/** Tests only: false runs the indexOf path (as where WebAssembly SIMD is unavailable). */
export function usePrefilter(on: boolean): void {
  teddy = on ? TEDDY : null;
}

/** Whether the WebAssembly prefilter is in use. */
export function prefilterInUse(): boolean {
  return teddy !== null;
}

/** Hits of `needles` found by one Teddy pass over a range, searched again for sub-ranges. */
type HitSource = (s: number, e: number, needles: readonly Needle[]) => Hit[];

/** Needle masks by needle list (the lists are the few module constants above). */
const MASKS = new Map<readonly Needle[], Uint8Array>();

function maskOf(needles: readonly Needle[]): Uint8Array {
  let m = MASKS.get(needles);
  if (m === undefined) {
    m = new Uint8Array(NEEDLES.length);
    for (const n of needles) m[n.index] = 1;
    if (MASKS.size < 64) MASKS.set(needles, m);
  }
  return m;
}

/** A hit source over the hits of one Teddy pass, searched again for sub-ranges. */
function teddyHits(all: Hits): HitSource {
  return (s, e, needles) => {
    const { pos, lit } = all;
    // first hit at or after s
    let lo = 0;
    let hi = pos.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pos[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    const hits: Hit[] = [];
    if (lo === pos.length || pos[lo]! >= e) return hits;
    const wanted = maskOf(needles);
    for (let k = lo; k < pos.length && pos[k]! < e; k++) {
      const n = NEEDLES[lit[k]!]!;
      if (wanted[n.index] === 1 && pos[k]! + n.bytes.length <= e)
        hits.push({ at: pos[k]! - n.back, needle: n });
    }
    // the order hitsOf gives: by position handed to the detector, then by needle
    if (hits.length > 1) hits.sort((a, b) => a.at - b.at || a.needle.index - b.needle.index);
    return hits;
  };
}

/** Hits of `needles` in buf[s, e), sorted by position (absolute offsets). */
function hitsOf(buf: Uint8Array, s: number, e: number, needles: readonly Needle[]): Hit[] {
  const view = Buffer.from(buf.buffer, buf.byteOffset + s, e - s);
  const hits: Hit[] = [];
  for (const n of needles) {
    let i = view.indexOf(n.bytes, 0);
    while (i !== -1) {
      hits.push({ at: s + i - n.back, needle: n });
      i = view.indexOf(n.bytes, i + 1);
    }
  }
  if (hits.length > 1) hits.sort((a, b) => a.at - b.at);
  return hits;
}

const MIN_BASE64_RUN = 32;
const DOT = 0x2e;
const QUOTE = 0x22;
const PCT = 0x25;
const AMP = 0x26;

const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 0x41 && c <= 0x5a ? c + 32 : c;

/** The bytes before `end` equal `ascii` ignoring ASCII case. */
function endsWithCi(buf: Uint8Array, end: number, ascii: string): boolean {
  const s = end - ascii.length;
  if (s < 0) return false;
  for (let i = 0; i < ascii.length; i++) if (LOWER[buf[s + i]!] !== ascii.charCodeAt(i)) return false;
  return true;
}

const FORM_FIELDS = [
  'assertion=',
  'client_assertion=',
  'id_token=',
  'access_token=',
  'refresh_token=',
  'logout_token=',
  'subject_token=',
  'actor_token=',
];

/** Context of a compact token from the bytes before it: HTTP placement and wrapping. Cheap: no strings. */
function compactContext(buf: Uint8Array, start: number): { context: TokenContext; encoding: Encoding[] } {
  const encoding: Encoding[] = [];
  if (startsWithAscii(buf, start - 5, '%2522')) encoding.push('percent', 'percent');
  else if (
    startsWithAscii(buf, start - 3, '%22') ||
    startsWithAscii(buf, start - 3, '%3D') ||
    startsWithAscii(buf, start - 3, '%20')
  ) {
    encoding.push('percent');
  } else if (startsWithAscii(buf, start - 2, '\\"') || startsWithAscii(buf, start - 6, '\\u0022'))
    encoding.push('json-escape');
  else if (startsWithAscii(buf, start - 6, '&quot;') || startsWithAscii(buf, start - 5, '&#34;'))
    encoding.push('html-entity');

  let context: TokenContext = 'text';
  let p = start;
  if (encoding.length > 0 && encoding[0] === 'percent') p -= encoding.length === 2 ? 5 : 3;
  if (endsWithCi(buf, p, 'bearer ') || endsWithCi(buf, p, 'bearer+') || endsWithCi(buf, start, 'bearer%20'))
    context = 'bearer';
  else if (endsWithCi(buf, p, 'dpop ') || endsWithCi(buf, start, 'dpop%20')) context = 'dpop';
  else if (buf[p - 1] === 0x3d) {
    // name=token: a form field, a query parameter or a cookie, by what precedes the name.
    let n = p - 1;
    while (n > 0 && n > p - 128 && (B64URL[buf[n - 1]!] === 1 || buf[n - 1] === 0x2e || buf[n - 1] === 0x25))
      n--;
    const sep = buf[n - 1];
    const form = FORM_FIELDS.some((f) => endsWithCi(buf, p, f));
    if (sep === 0x3f || (sep === 0x26 && inUrl(buf, n))) context = 'query';
    else if (sep === 0x3b || isCookieLine(buf, n)) context = 'cookie';
    else if (form) context = 'form';
    else if (sep === 0x26) context = 'query';
  } else if (buf[p - 1] === 0x22 || buf[p - 1] === 0x27) {
    let q = p - 2;
    while (q > 0 && (buf[q] === 0x20 || buf[q] === 0x5c)) q--;
    if (buf[q] === 0x3a) context = 'json';
  }
  if (context === 'text' && (endsWithCi(buf, p, 'authorization: ') || endsWithCi(buf, p, 'authorization:')))
    context = 'header';
  return { context, encoding };
}

/** A '?' before `at` with no whitespace between: the parameter is in a URL's query. */
function inUrl(buf: Uint8Array, at: number): boolean {
  for (let i = at - 1; i >= 0 && at - i < 4096; i--) {
    const c = buf[i]!;
    if (c === 0x3f) return true;
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x22) return false;
  }
  return false;
}

/** The line holding offset `at` starts with a Cookie or Set-Cookie header. */
function isCookieLine(buf: Uint8Array, at: number): boolean {
  let i = at;
  while (i > 0 && at - i < 4096 && buf[i - 1] !== 0x0a) i--;
  while (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x22) i++;
  const head = (s: string) => {
    for (let k = 0; k < s.length; k++) if (LOWER[buf[i + k]!] !== s.charCodeAt(k)) return false;
    return true;
  };
  return head('cookie:') || head('set-cookie:');
}

interface ScanState {
  opts: ScanOptions;
  budget: Budget;
}

function scanRange(
  buf: Uint8Array,
  floor: number,
  limit: number,
  depth: number,
  state: ScanState,
  /** The prefilter's hits over [floor, limit), when the caller has them. */
  prefound?: Hits,
): ScanItem[] {
  const { maxTokenLength } = state.opts;
  // One prefilter pass over the range; no needle anywhere, nothing to find (most log records).
  let found: Hits | undefined = prefound;
  if (found === undefined && teddy !== null) found = teddy.find(buf, floor, limit);
  if (found !== undefined && found.pos.length === 0) return [];
  // Phase 1: compact tokens, from the base64 of "alg" in their headers.
  const compact: ScanItem[] = [];
  let claimed = floor; // nothing before this offset is looked at again
  const range = Buffer.from(buf.buffer, buf.byteOffset + floor, limit - floor);
  // No dot, no compact token; no quote of any kind, no JSON serialization. Both checks are
  // single-byte searches, far cheaper than the needles they spare (base64 blobs have neither).
  // With the one-pass prefilter there is nothing to spare: they are made only when a hit needs them.
  let dot: boolean | undefined;
  let quote: boolean | undefined;
  const hasDot = () => (dot ??= range.indexOf(DOT) !== -1);
  const hasQuote = () =>
    (quote ??= range.indexOf(QUOTE) !== -1 || range.indexOf(PCT) !== -1 || range.indexOf(AMP) !== -1);
  const hitsIn: HitSource =
    found === undefined ? (s, e, needles) => hitsOf(buf, s, e, needles) : teddyHits(found);
  let algHits: Hit[];
  if (found === undefined) algHits = hasDot() ? hitsIn(floor, limit, ALG_NEEDLES) : [];
  else {
    algHits = hitsIn(floor, limit, ALG_NEEDLES);
    if (algHits.length > 0 && !hasDot()) algHits = [];
  }
  for (const hit of algHits) {
    if (hit.at < claimed || state.budget.exceeded) continue;
    const r = detectCompact(buf, hit.at, claimed, limit, maxTokenLength, state.budget);
    if (r.type === 'none') continue;
    if (r.type === 'compact') {
      const token = latin1(buf, r.start, r.end);
      const { context, encoding } = compactContext(buf, r.start);
      compact.push({
        type: 'token',
        start: r.start,
        end: r.end,
        kind: r.kind,
        serialization: 'compact',
        encoding,
        context,
        token,
        header: r.header,
        quoting: { kind: 'plain' },
      });
    } else compact.push(r);
    claimed = r.end;
  }

  // Phase 2: JSON serializations and base64-wrapped tokens, searched only between compact
  // tokens: base64 is the slowest text for indexOf, and token bytes hold nothing more.
  const room = Math.min(Math.max(state.opts.maxBase64Depth - depth, 0), 2);
  const gapNeedles = GAP_NEEDLES_BY_ROOM[room]!;
  const needles =
    found === undefined ? gapNeedles.filter((n) => hasQuote() || n.kind !== 'json') : gapNeedles;
  const others: ScanItem[] = [];
  const memo = newJsonAnchorMemo();
  claimed = floor;
  let gapStart = floor;
  for (let g = 0; g <= compact.length; g++) {
    const gapEnd = g < compact.length ? compact[g]!.start : limit;
    const hits = gapEnd - gapStart >= 4 && needles.length > 0 ? hitsIn(gapStart, gapEnd, needles) : [];
    for (const hit of hits) {
      const at = hit.at;
      if (at < claimed || state.budget.exceeded) continue;
      let item: ScanItem | null;
      if (hit.needle.kind === 'json') {
        if (!hasQuote()) continue; // as if the needle had not been searched
        if (!startsWithAscii(buf, at, 'sig') && !startsWithAscii(buf, at, 'cip')) continue;
        item = detectJsonSerialization(buf, at, claimed, limit, maxTokenLength, state.budget, memo);
      } else item = scanBase64Run(buf, at, claimed, limit, depth, hit.needle, state);
      if (item === null) continue;
      others.push(item);
      claimed = item.end;
    }
    if (g < compact.length) gapStart = Math.max(gapStart, compact[g]!.end);
  }
  if (others.length === 0) return compact;
  if (compact.length === 0) return others;
  // A JSON serialization holding a compact item (a dotted token inside it) is redacted whole.
  const all = [...compact, ...others].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: ScanItem[] = [];
  for (const it of all) {
    const last = out[out.length - 1];
    if (last !== undefined && it.start < last.end) {
      if (it.end > last.end && it.type === 'token' && it.serialization !== 'compact')
        out[out.length - 1] = it;
      continue;
    }
    out.push(it);
  }
  return out;
}

function scanBase64Run(
  buf: Uint8Array,
  at: number,
  floor: number,
  limit: number,
  depth: number,
  hit: Needle,
  state: ScanState,
): ScanItem | null {
  const runStart = runBackward(buf, at, floor, B64ANY);
  const runEnd = runForward(buf, at, limit, B64ANY);
  if (runEnd - runStart < MIN_BASE64_RUN) return null;
  // Decode a window around the hit, aligned to 4-character quanta of the run; wide enough for the
  // longest token's encoding on either side, through `levels` layers of base64.
  let span = Math.ceil((state.opts.maxTokenLength * 4) / 3) + 8;
  if (hit.kind === 'b64b64') span = Math.ceil((span * 4) / 3) + 8;
  // Quanta count from the run's start; inside decoded bytes (depth > 0) the run may have been cut
  // by the outer window, so they count from the needle's own phase there.
  const base = depth > 0 && hit.kind === 'b64' ? at - hit.phase : runStart;
  let ws = Math.max(runStart, at - span);
  ws -= (((ws - base) % 4) + 4) % 4;
  if (ws < runStart) ws += 4;
  let we = Math.min(runEnd, at + span);
  if (we < runEnd) we -= (((we - base) % 4) + 4) % 4;
  else if ((we - ws) % 4 === 1) we -= 1;
  if (!state.budget.spend(we - ws)) return null;
  const decoded = decodeBase64(buf, ws, we);
  if (decoded === null) return null;
  const inner = scanRange(decoded, 0, decoded.length, depth + 1, state).filter((i) => i.type !== 'sanitized');
  if (inner.length === 0) return null;
  let end = we;
  let padded = false;
  if (we === runEnd) {
    while (end < limit && end - we < 2 && buf[end] === EQ) end++;
    padded = end > we;
  }
  // Ambiguous text (neither +/ nor -_) is taken as standard base64, the common case (Kubernetes Secrets).
  let alphabet: 'std' | 'url' = 'std';
  for (let i = ws; i < we; i++) {
    if (buf[i] === 0x2d || buf[i] === 0x5f) {
      alphabet = 'url';
      break;
    }
  }
  return { type: 'base64', start: ws, end, alphabet, padded, closed: we === runEnd, decoded, inner };
}

/** Scans a whole buffer. */
export function scan(buf: Uint8Array, options: Partial<ScanOptions> = {}): ScanResult {
  // The prefilter first: with no needle anywhere there is nothing to find and no work spent (most
  // log records), and no options, budget or state to make.
  const found = teddy === null ? undefined : teddy.find(buf, 0, buf.length);
  if (found !== undefined && found.pos.length === 0) return { items: [], budgetExceeded: false, work: 0 };
  const opts = { ...DEFAULT_SCAN_OPTIONS, ...options };
  const state: ScanState = { opts, budget: new Budget(buf.length, opts.workPerByte) };
  const items = scanRange(buf, 0, buf.length, 0, state, found);
  return { items, budgetExceeded: state.budget.exceeded, work: state.budget.spent };
}

/** Flattens base64 layers: every token with its full encoding list, spans in the outer buffer. */
export function tokensOf(items: readonly ScanItem[]): TokenItem[] {
  const out: TokenItem[] = [];
  const walk = (
    list: readonly ScanItem[],
    outer: { start: number; end: number } | null,
    layers: Encoding[],
  ) => {
    for (const it of list) {
      if (it.type === 'token') {
        out.push(
          outer === null
            ? it
            : { ...it, start: outer.start, end: outer.end, encoding: [...layers, ...it.encoding] },
        );
      } else if (it.type === 'base64') {
        walk(it.inner, outer ?? { start: it.start, end: it.end }, [
          ...layers,
          it.alphabet === 'std' ? 'base64' : 'base64url',
        ]);
      }
    }
  };
  walk(items, null, []);
  return out;
}

export { utf8OrNull };
