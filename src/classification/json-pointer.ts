// RFC 6901 JSON pointers: how nested claims are named in rules and in the classification map.
import type { JsonObject, JsonValue } from '../model.ts';

export function escapeSegment(segment: string): string {
  return segment.includes('~') || segment.includes('/')
    ? segment.replaceAll('~', '~0').replaceAll('/', '~1')
    : segment;
}

export function pointerOf(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) out += '/' + escapeSegment(s);
  return out;
}

/** The segments of a pointer, or undefined when it is not one (`~` not followed by 0 or 1). */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const out: string[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    let seg = '';
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (c !== '~') {
        seg += c;
        continue;
      }
      const next = raw[i + 1];
      if (next === '0') seg += '~';
      else if (next === '1') seg += '/';
      else return undefined;
      i++;
    }
    out.push(seg);
  }
  return out;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own member of a claims object (a `__proto__` or `toString` claim is just a name). */
export function member(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** The value at `segments` inside `root`, own properties only (a `__proto__` claim is just a name). */
export function valueAt(root: JsonValue | undefined, segments: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const seg of segments) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]{0,8})$/.test(seg)) return undefined;
      node = node[Number(seg)];
    } else if (isObject(node)) {
      node = member(node, seg);
      if (node === undefined) return undefined;
    } else return undefined;
  }
  return node;
}
