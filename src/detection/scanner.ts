// The scanner: finds every JOSE object in a byte buffer in time linear in its length.
//
// Every JWS/JWE header holds the member name "alg", so the base64url of a header holds one
// of three fixed strings, one per alignment of `"alg"` in the decoded bytes (`ImFsZy`,
// `JhbGci`, `iYWxnI`). Base64 of a token (Kubernetes Secret data, HAR bodies) holds the base64
// of those at three alignments again: nine more needles. JSON serializations are found by
// their `signature(s)`/`ciphertext` member names. Needles are searched with Buffer#indexOf
// (native, vectorised); only around a hit do we decode and parse, and that work is paid from
// a budget proportional to the input, so hostile input cannot make a scan super-linear.
import type { Encoding, TokenContext } from '../model.ts';
import { B64ANY, decodeBase64, EQ, runBackward, runForward, startsWithAscii, utf8OrNull } from './bytes.ts';
import { Budget } from './budget.ts';
import { detectCompact } from './compact.ts';
import { detectJsonSerialization } from './json-serialization.ts';
import { DEFAULT_SCAN_OPTIONS, type ScanItem, type ScanOptions, type ScanResult, type TokenItem } from './types.ts';

type NeedleKind = 'alg' | 'json' | 'b64';
interface Needle {
  bytes: Buffer;
  kind: NeedleKind;
  /** Offset from the needle's match to the position handed to the detector. */
  back: number;
}

function needle(text: string, kind: NeedleKind, back = 0): Needle {
  return { bytes: Buffer.from(text, 'latin1'), kind, back };
}

// Needles start with an uncommon character where there is a choice: indexOf skips ahead on
// the first byte, so `YWxnI` (for `iYWxnI`) is several times faster than the full string.
const NEEDLES: readonly Needle[] = [
  needle('JhbGci', 'alg'),
  needle('ImFsZy', 'alg'),
  needle('YWxnI', 'alg'),
  needle('gnature', 'json', 2), // "signature", "signatures"
  needle('phertext', 'json', 2), // "ciphertext"
  // base64 of the three alg needles at the three byte alignments (see scripts in test/unit/detection).
  needle('SmhiR2Np', 'b64'),
  needle('Ykdja', 'b64'),
  needle('KaGJHY2', 'b64'),
  needle('SW1Gc1p5', 'b64'),
  needle('RnNae', 'b64'),
  needle('JbUZzWn', 'b64'),
  needle('VlXeG5J', 'b64'),
  needle('ZV3huS', 'b64'),
  needle('WVd4bk', 'b64'),
];

interface Hit {
  at: number;
  needle: Needle;
}

function collectHits(buf: Uint8Array, view: Buffer, includeB64: boolean): Hit[] {
  const hits: Hit[] = [];
  for (const n of NEEDLES) {
    if (n.kind === 'b64' && !includeB64) continue;
    let i = view.indexOf(n.bytes, 0);
    while (i !== -1) {
      hits.push({ at: i - n.back, needle: n });
      i = view.indexOf(n.bytes, i + 1);
    }
  }
  if (hits.length > 1) hits.sort((a, b) => a.at - b.at);
  void buf;
  return hits;
}

const MIN_BASE64_RUN = 32;

/** Context of a compact token from the bytes before it: HTTP placement and wrapping. */
function compactContext(buf: Uint8Array, start: number): { context: TokenContext; encoding: Encoding[] } {
  const encoding: Encoding[] = [];
  if (startsWithAscii(buf, start - 5, '%2522')) encoding.push('percent', 'percent');
  else if (startsWithAscii(buf, start - 3, '%22') || startsWithAscii(buf, start - 3, '%3D') || startsWithAscii(buf, start - 3, '%20')) {
    encoding.push('percent');
  } else if (startsWithAscii(buf, start - 2, '\\"') || startsWithAscii(buf, start - 6, '\\u0022')) encoding.push('json-escape');
  else if (startsWithAscii(buf, start - 6, '&quot;') || startsWithAscii(buf, start - 5, '&#34;')) encoding.push('html-entity');

  const from = Math.max(0, start - 48);
  const before = Buffer.from(buf.buffer, buf.byteOffset + from, start - from).toString('latin1').toLowerCase();
  let context: TokenContext = 'text';
  if (/bearer[ +]$|bearer%20$/.test(before)) context = 'bearer';
  else if (/dpop[ +]$|dpop%20$/.test(before)) context = 'dpop';
  else if (/(?:^|[\s;])(?:set-)?cookie:[^\n]*$/.test(before) || /; ?[\w.-]+=$/.test(before)) context = 'cookie';
  else if (/(?:^|[\s&?])(?:assertion|client_assertion|id_token|access_token|refresh_token|logout_token|subject_token|actor_token)=$/.test(before) && !/[?][^\s]*$/.test(before)) {
    context = 'form';
  } else if (/[?&][\w.%-]+=$/.test(before)) context = 'query';
  else if (/(?:authorization|x-[\w-]+|proxy-authorization)["']?\s*[:=]\s*["']?$/.test(before)) context = 'header';
  else if (/"\s*:\s*\\?"$/.test(before)) context = 'json';
  return { context, encoding };
}

interface ScanState {
  opts: ScanOptions;
  budget: Budget;
}

function scanRange(buf: Uint8Array, floor: number, limit: number, depth: number, state: ScanState): ScanItem[] {
  const view = Buffer.from(buf.buffer, buf.byteOffset + floor, limit - floor);
  const hits = collectHits(buf, view, depth < state.opts.maxBase64Depth);
  const items: ScanItem[] = [];
  let claimed = floor; // nothing before this offset is looked at again
  const { maxTokenLength } = state.opts;

  for (const hit of hits) {
    const at = hit.at + floor;
    if (at < claimed || state.budget.exceeded) continue;
    if (hit.needle.kind === 'alg') {
      const r = detectCompact(buf, at, claimed, limit, maxTokenLength, state.budget);
      if (r.type === 'none') continue;
      if (r.type === 'compact') {
        const token = Buffer.from(buf.buffer, buf.byteOffset + r.start, r.end - r.start).toString('latin1');
        const { context, encoding } = compactContext(buf, r.start);
        items.push({
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
      } else items.push(r);
      claimed = r.end;
    } else if (hit.needle.kind === 'json') {
      const keyStart = at;
      if (!startsWithAscii(buf, keyStart, 'sig') && !startsWithAscii(buf, keyStart, 'cip')) continue;
      const r = detectJsonSerialization(buf, keyStart, claimed, limit, maxTokenLength, state.budget);
      if (r === null) continue;
      // An earlier compact item inside this object (a JWS payload holding a dotted token)
      // belongs to the object: drop it, the object is redacted whole.
      while (items.length > 0 && items[items.length - 1]!.start >= r.start) items.pop();
      if (items.length > 0 && items[items.length - 1]!.end > r.start) continue;
      items.push(r);
      claimed = r.end;
    } else {
      const item = scanBase64Run(buf, at, claimed, limit, depth, state);
      if (item === null) continue;
      items.push(item);
      claimed = item.end;
    }
  }
  return items;
}

function scanBase64Run(
  buf: Uint8Array,
  at: number,
  floor: number,
  limit: number,
  depth: number,
  state: ScanState,
): ScanItem | null {
  const runStart = runBackward(buf, at, floor, B64ANY);
  const runEnd = runForward(buf, at, limit, B64ANY);
  if (runEnd - runStart < MIN_BASE64_RUN) return null;
  // Decode a window around the hit, aligned to 4-character quanta of the run.
  const span = Math.ceil((state.opts.maxTokenLength * 4) / 3) + 8;
  let ws = Math.max(runStart, at - span);
  ws -= (ws - runStart) & 3;
  let we = Math.min(runEnd, at + span);
  if (we < runEnd) we -= (we - runStart) & 3;
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
  const opts = { ...DEFAULT_SCAN_OPTIONS, ...options };
  const state: ScanState = { opts, budget: new Budget(buf.length, opts.workPerByte) };
  const items = scanRange(buf, 0, buf.length, 0, state);
  return { items, budgetExceeded: state.budget.exceeded };
}

/** Flattens base64 layers: every token with its full encoding list, spans in the outer buffer. */
export function tokensOf(items: readonly ScanItem[]): TokenItem[] {
  const out: TokenItem[] = [];
  const walk = (list: readonly ScanItem[], outer: { start: number; end: number } | null, layers: Encoding[]) => {
    for (const it of list) {
      if (it.type === 'token') {
        out.push(
          outer === null
            ? it
            : { ...it, start: outer.start, end: outer.end, encoding: [...layers, ...it.encoding] },
        );
      } else if (it.type === 'base64') {
        walk(it.inner, outer ?? { start: it.start, end: it.end }, [...layers, it.alphabet === 'std' ? 'base64' : 'base64url']);
      }
    }
  };
  walk(items, null, []);
  return out;
}

export { utf8OrNull };
