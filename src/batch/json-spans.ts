// Finds the byte spans of selected string values in a complete JSON buffer, without building the
// document: only the subtrees `descend` opens are walked, everything else is skipped bracket by bracket.
// Keys are compared as bytes against the few names of interest (no string is made for the others).
// Used on HAR entries (bounded size) to locate `response.content.text` and `.encoding`.

/** A path segment: an array index, one of the names asked for, or null for any other key. */
export type Segment = number | string | null;
export type JsonPath = readonly Segment[];

export interface StringSpan {
  path: JsonPath;
  /** Offset of the opening quote. */
  start: number;
  /** Offset after the closing quote. */
  end: number;
}

const QUOTE = 0x22;
const BSLASH = 0x5c;

export class JsonSpanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonSpanError';
  }
}

/**
 * Strings whose path satisfies `want`, in document order. `descend(path)` decides whether the container
 * at `path` is walked at all (the root always is). Keys other than `names` appear as null in paths.
 */
export function collectStrings(
  bytes: Uint8Array,
  names: readonly string[],
  descend: (path: JsonPath) => boolean,
  want: (path: JsonPath) => boolean,
): StringSpan[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = names.map((n) => Buffer.from(n));
  const found: StringSpan[] = [];
  const path: Segment[] = [];

  const keyOf = (start: number, end: number): Segment => {
    // start/end: inside the quotes
    const len = end - start;
    for (let k = 0; k < raw.length; k++) {
      const name = raw[k]!;
      if (name.length === len && buf.compare(name, 0, len, start, end) === 0) return names[k]!;
    }
    for (let i = start; i < end; i++) {
      if (buf[i] === BSLASH) {
        // An escaped key (rare): decode it to compare.
        const decoded = JSON.parse(buf.toString('utf8', start - 1, end + 1)) as string;
        return names.includes(decoded) ? decoded : null;
      }
    }
    return null;
  };
  const ws = (i: number): number => {
    while (i < buf.length) {
      const c = buf[i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    return i;
  };
  // Byte loops rather than Buffer#indexOf: HAR strings are short and many, and a native call per
  // string costs more than looking at its bytes.
  const stringEnd = (i: number): number => {
    // i at the opening quote; returns the offset after the closing quote
    for (let j = i + 1; j < buf.length; j++) {
      const c = buf[j];
      if (c === QUOTE) return j + 1;
      if (c === BSLASH) j++;
    }
    throw new JsonSpanError('unterminated string');
  };
  const skip = (i: number): number => {
    const c = buf[i];
    if (c === QUOTE) return stringEnd(i);
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      let inString = false;
      for (let j = i; j < buf.length; j++) {
        const d = buf[j];
        if (inString) {
          if (d === BSLASH) j++;
          else if (d === QUOTE) inString = false;
        } else if (d === QUOTE) inString = true;
        else if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) {
          depth--;
          if (depth === 0) return j + 1;
        }
      }
      throw new JsonSpanError('unterminated container');
    }
    let j = i;
    while (j < buf.length) {
      const d = buf[j]!;
      if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09)
        break;
      j++;
    }
    if (j === i) throw new JsonSpanError(`unexpected byte at ${i}`);
    return j;
  };
  const value = (i: number): number => {
    i = ws(i);
    const c = buf[i];
    if (c === QUOTE) {
      const end = stringEnd(i);
      if (want(path)) found.push({ path: [...path], start: i, end });
      return end;
    }
    if ((c === 0x7b || c === 0x5b) && (path.length === 0 || descend(path))) {
      return c === 0x7b ? object(i) : array(i);
    }
    return skip(i);
  };
  const object = (i: number): number => {
    i = ws(i + 1);
    if (buf[i] === 0x7d) return i + 1;
    for (;;) {
      if (buf[i] !== QUOTE) throw new JsonSpanError(`expected a key at ${i}`);
      const keyEnd = stringEnd(i);
      path.push(keyOf(i + 1, keyEnd - 1));
      i = ws(keyEnd);
      if (buf[i] !== 0x3a) throw new JsonSpanError(`expected : at ${i}`);
      i = ws(value(i + 1));
      path.pop();
      if (buf[i] === 0x2c) {
        i = ws(i + 1);
        continue;
      }
      if (buf[i] === 0x7d) return i + 1;
      throw new JsonSpanError(`expected , or } at ${i}`);
    }
  };
  const array = (i: number): number => {
    i = ws(i + 1);
    if (buf[i] === 0x5d) return i + 1;
    for (let index = 0; ; index++) {
      path.push(index);
      i = ws(value(i));
      path.pop();
      if (buf[i] === 0x2c) {
        i++;
        continue;
      }
      if (buf[i] === 0x5d) return i + 1;
      throw new JsonSpanError(`expected , or ] at ${i}`);
    }
  };
  value(0);
  return found;
}
