// Text wrappings a token can sit in: JSON string escapes, HTML entities, percent-encoding.
// Each unwrap yields the plain bytes plus, for every plain byte, the offset of the wrapped
// byte it came from, so a span found in plain text maps back to exact original offsets.

export interface Unwrapped {
  bytes: Uint8Array;
  /** map[i] = offset in the wrapped input where plain byte i starts; map[bytes.length] = end. */
  map: Int32Array;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function unwrapWith(
  buf: Uint8Array,
  s: number,
  e: number,
  step: (buf: Uint8Array, i: number, e: number) => { byte: number; len: number },
): Unwrapped {
  const bytes = new Uint8Array(e - s);
  const map = new Int32Array(e - s + 1);
  let o = 0;
  let i = s;
  while (i < e) {
    const { byte, len } = step(buf, i, e);
    bytes[o] = byte;
    map[o] = i;
    o++;
    i += len;
  }
  map[o] = e;
  return { bytes: bytes.subarray(0, o), map: map.subarray(0, o + 1) };
}

const JSON_SIMPLE: Record<number, number> = {
  34: 0x22,
  92: 0x5c,
  47: 0x2f,
  98: 0x08,
  102: 0x0c,
  110: 0x0a,
  114: 0x0d,
  116: 0x09,
};

/** One level of JSON string escapes (`\"`, `\\`, `\/`, `\n`, `\u00xx` ...). Non-ASCII escapes become '?'. */
export function unescapeJson(buf: Uint8Array, s: number, e: number): Unwrapped {
  return unwrapWith(buf, s, e, (b, i, end) => {
    if (b[i] !== 0x5c || i + 1 >= end) return { byte: b[i]!, len: 1 };
    const c = b[i + 1]!;
    const simple = JSON_SIMPLE[c];
    if (simple !== undefined) return { byte: simple, len: 2 };
    if (c === 0x75 && i + 5 < end) {
      let v = 0;
      for (let k = 2; k < 6; k++) {
        const h = hexVal(b[i + k]!);
        if (h < 0) return { byte: b[i]!, len: 1 };
        v = (v << 4) | h;
      }
      return { byte: v < 0x80 ? v : 0x3f, len: 6 };
    }
    return { byte: b[i]!, len: 1 };
  });
}

const NAMED: Record<string, number> = {
  quot: 0x22,
  amp: 0x26,
  lt: 0x3c,
  gt: 0x3e,
  apos: 0x27,
  colon: 0x3a,
  comma: 0x2c,
  lbrace: 0x7b,
  rbrace: 0x7d,
  sol: 0x2f,
};

/** HTML character references: named (`&quot;` ...), decimal and hex. */
export function unescapeHtml(buf: Uint8Array, s: number, e: number): Unwrapped {
  return unwrapWith(buf, s, e, (b, i, end) => {
    if (b[i] !== 0x26) return { byte: b[i]!, len: 1 };
    let j = i + 1;
    while (j < end && j - i <= 10 && b[j] !== 0x3b) j++;
    if (b[j] !== 0x3b) return { byte: b[i]!, len: 1 };
    const name = String.fromCharCode(...b.subarray(i + 1, j));
    let v: number | undefined;
    if (name.startsWith('#x') || name.startsWith('#X')) v = Number.parseInt(name.slice(2), 16);
    else if (name.startsWith('#')) v = Number.parseInt(name.slice(1), 10);
    else v = NAMED[name];
    if (v === undefined || Number.isNaN(v)) return { byte: b[i]!, len: 1 };
    return { byte: v < 0x80 ? v : 0x3f, len: j + 1 - i };
  });
}

/** Percent-decoding (`%22`, and `+` as space as in form bodies). */
export function unescapePercent(buf: Uint8Array, s: number, e: number): Unwrapped {
  return unwrapWith(buf, s, e, (b, i, end) => {
    if (b[i] === 0x2b) return { byte: 0x20, len: 1 };
    if (b[i] !== 0x25 || i + 2 >= end) return { byte: b[i]!, len: 1 };
    const h = hexVal(b[i + 1]!);
    const l = hexVal(b[i + 2]!);
    if (h < 0 || l < 0) return { byte: b[i]!, len: 1 };
    return { byte: (h << 4) | l, len: 3 };
  });
}

/** Applies `unwrap` `levels` times, composing the offset maps. */
export function unwrapLevels(
  buf: Uint8Array,
  s: number,
  e: number,
  levels: number,
  unwrap: (buf: Uint8Array, s: number, e: number) => Unwrapped,
): Unwrapped {
  let cur = unwrap(buf, s, e);
  for (let l = 1; l < levels; l++) {
    const next = unwrap(cur.bytes, 0, cur.bytes.length);
    const map = new Int32Array(next.map.length);
    for (let i = 0; i < next.map.length; i++) map[i] = cur.map[next.map[i]!]!;
    cur = { bytes: next.bytes, map };
  }
  return cur;
}
