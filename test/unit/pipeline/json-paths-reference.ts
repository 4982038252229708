// The JSON pointer walk as it was before the faster one (commit c836c47), kept verbatim as the
// reference the property test compares src/pipeline/json-paths.ts against (acceptance and pointers).
import { scan } from '../../../src/detection/index.ts';

interface Frame {
  array: boolean;
  /** This container's segment in its parent (escaped lazily: pointers are built only when asked for). */
  seg: string | number | null;
  index: number;
  key: string | null;
  /** In an object: a key is expected next (true) or a value (false). */
  expectKey: boolean;
}

/** A member name as a pointer segment. A hostile document can put a token in a key, and
 * pointers go into findings (R1): such a key is shown as `JWTR~masked`. */
function escapeSegment(segment: string): string {
  const safe = scan(Buffer.from(segment, 'utf8')).items.length > 0 ? 'JWTR~masked' : segment;
  return safe.replaceAll('~', '~0').replaceAll('/', '~1');
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;

/** End of the JSON string literal starting at `i` (the opening quote), or -1. */
function stringEnd(buf: Uint8Array, i: number): number {
  let j = i + 1;
  while (j < buf.length) {
    const c = buf[j]!;
    if (c === 0x22) return j + 1;
    if (c === 0x5c) j += 2;
    else if (c < 0x20) return -1;
    else j++;
  }
  return -1;
}

function scalarEnd(buf: Uint8Array, i: number): number {
  let j = i;
  while (j < buf.length) {
    const c = buf[j]!;
    if (WS[c] === 1 || c === 0x2c || c === 0x5d || c === 0x7d) break;
    j++;
  }
  const text = Buffer.from(buf.buffer, buf.byteOffset + i, j - i).toString('latin1');
  if (text === 'true' || text === 'false' || text === 'null') return j;
  return /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text) ? j : -1;
}

export interface JsonPaths {
  valid: boolean;
  /** Pointer for each requested offset (same order); undefined where the document was not valid up to it. */
  pointers: (string | undefined)[];
}

/**
 * Walks `buf` as one JSON document. `offsets` must be sorted ascending.
 * The pointer of an offset is that of the innermost value whose bytes contain it.
 */
export function jsonPathsReference(buf: Uint8Array, offsets: readonly number[]): JsonPaths {
  const pointers: (string | undefined)[] = new Array(offsets.length).fill(undefined);
  let next = 0; // next offset to resolve
  const stack: Frame[] = [];
  let i = 0;
  let seenRoot = false;

  // Built on demand only: a document nested 100,000 deep must not build 100,000 growing strings.
  const containerPointer = (depth: number): string => {
    let p = '';
    for (let d = 0; d < depth; d++) {
      const seg = stack[d]!.seg;
      if (seg !== null) p += `/${typeof seg === 'number' ? seg : escapeSegment(seg)}`;
    }
    return p;
  };
  const topPointer = (): string => containerPointer(stack.length);
  const childSeg = (): string | number | null => {
    const top = stack[stack.length - 1];
    if (top === undefined) return null;
    return top.array ? top.index : (top.key ?? '');
  };
  const valuePointer = (): string => {
    const seg = childSeg();
    return seg === null ? '' : `${topPointer()}/${typeof seg === 'number' ? seg : escapeSegment(seg)}`;
  };
  const resolveUpTo = (end: number, pointer: string | (() => string)) => {
    if (next >= offsets.length || offsets[next]! >= end) return;
    const p = typeof pointer === 'string' ? pointer : pointer();
    while (next < offsets.length && offsets[next]! < end) {
      pointers[next] = p;
      next++;
    }
  };
  const afterValue = () => {
    const top = stack[stack.length - 1];
    if (top === undefined) return;
    if (top.array) top.index++;
    else top.expectKey = true;
  };

  while (i < buf.length) {
    const c = buf[i]!;
    if (WS[c] === 1) {
      i++;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined && seenRoot) return { valid: false, pointers };
    // Offsets before this position that were not inside a value belong to the container.
    resolveUpTo(i, topPointer);
    if (c === 0x2c) {
      if (top === undefined) return { valid: false, pointers };
      i++;
      continue;
    }
    if (c === 0x3a) {
      if (top === undefined || top.array || top.expectKey) return { valid: false, pointers };
      i++;
      continue;
    }
    if (c === 0x7d || c === 0x5d) {
      if (top === undefined || top.array !== (c === 0x5d)) return { valid: false, pointers };
      i++;
      resolveUpTo(i, topPointer);
      stack.pop();
      afterValue();
      continue;
    }
    if (top !== undefined && !top.array && top.expectKey) {
      if (c !== 0x22) return { valid: false, pointers };
      const end = stringEnd(buf, i);
      if (end < 0) return { valid: false, pointers };
      let key: string;
      try {
        key = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + i, end - i).toString('utf8')) as string;
      } catch {
        return { valid: false, pointers };
      }
      top.key = key;
      top.expectKey = false;
      resolveUpTo(end, topPointer);
      i = end;
      continue;
    }
    // A value.
    seenRoot = true;
    if (c === 0x7b || c === 0x5b) {
      // Offsets at the opening brace belong to the container value itself.
      resolveUpTo(i + 1, valuePointer);
      stack.push({ array: c === 0x5b, seg: childSeg(), index: 0, key: null, expectKey: c === 0x7b });
      i++;
      continue;
    }
    const end = c === 0x22 ? stringEnd(buf, i) : scalarEnd(buf, i);
    if (end < 0) return { valid: false, pointers };
    resolveUpTo(end, valuePointer);
    i = end;
    afterValue();
  }
  const valid = stack.length === 0 && seenRoot;
  if (valid) resolveUpTo(Number.POSITIVE_INFINITY, '');
  return { valid, pointers };
}
