// Text templates for the JSON Lines formats whose records mix where a token was seen (id, time,
// source, message, the token block with its encoding and context) into what the token's analysis
// says (rule, severity, header, claims, classification, status, risks, frameworks, action, nested
// token). The analysis is the same objects for every sighting of a token (the engine shares them),
// so a formatter builds the record once per analysis with stand-ins where each sighting's values go,
// serializes it, and cuts the text at the stand-ins; a later sighting costs the serialization of its
// own values only. The text is byte for byte `serialize(toJsonObject(record))`: JSON.stringify writes
// each member from its own value, and `toJson` copies each member at the same depth either way.
import { randomBytes } from 'node:crypto';
import type { Finding } from '../model.ts';
import { serialize, toJson, toJsonObject } from './json.ts';

/** How a record builder marks what differs per sighting. */
export interface Sighting {
  /** A member value that differs per sighting and is never undefined. */
  value<T>(v: T): T;
  /** Members that differ per sighting, spread into an object (there may be none). */
  members<T extends Record<string, unknown>>(m: T): T;
}

/** The values themselves: the builder makes the plain record. */
export const PLAIN: Sighting = { value: (v) => v, members: (m) => m };

/** A cut in the text, in text order; `index`: which `value`/`members` call (in call order) fills it. */
type Hole =
  | { kind: 'value'; index: number }
  | { kind: 'members'; index: number; comma: 'before' | 'after' | 'none' };

interface Template {
  readonly parts: readonly unknown[];
  /** null: this analysis cannot be templated (a stand-in did not come out once); format in full. */
  readonly pieces: readonly string[] | null;
  readonly holes: readonly Hole[];
}

/** What the cached text depends on besides the sighting: compared by identity (strings by value). */
function analysisParts(f: Finding): unknown[] {
  return [
    f.rule,
    f.severity,
    f.action,
    f.token.fingerprint,
    f.header,
    f.claims,
    f.classification,
    f.status,
    f.risks,
    f.frameworks,
    f.inner,
  ];
}

/** The same values, element by element (objects by identity). */
export function sameParts(a: readonly unknown[], b: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `(f) => serialize(toJsonObject(build(f, PLAIN)))`, with the text of each analysis kept (see the
 * header). `build` must wrap every value that can differ between two findings with the same
 * analysis in `s.value` or `s.members`, and call them in the same order for every finding.
 */
export function createTemplateText(
  build: (f: Finding, s: Sighting) => Record<string, unknown>,
): (f: Finding) => string {
  // Stand-ins no finding can hold: random per formatter (and checked to come out exactly once).
  const nonce = randomBytes(12).toString('hex');
  const mark = (i: number) => `jwtr-sighting-${nonce}-${i}`;
  const templates = new WeakMap<object, Template>();
  const full = (f: Finding) => serialize(toJsonObject(build(f, PLAIN)));

  const makeTemplate = (f: Finding, parts: unknown[]): Template => {
    const kinds: ('value' | 'members')[] = [];
    const standIns: Sighting = {
      value: <T>() => {
        kinds.push('value');
        return mark(kinds.length - 1) as T;
      },
      members: <T>() => {
        kinds.push('members');
        return { [mark(kinds.length - 1)]: 0 } as T;
      },
    };
    const text = serialize(toJsonObject(build(f, standIns)));
    // Where each stand-in is: exactly once, or no template. Builders may mark values in another
    // order than the text has them: holes are cut in text order and remember their call index.
    const found: { index: number; at: number }[] = [];
    for (let i = 0; i < kinds.length; i++) {
      const quoted = `"${mark(i)}"`;
      const at = text.indexOf(quoted);
      if (at < 0 || text.indexOf(quoted, at + 1) >= 0) return { parts, pieces: null, holes: [] };
      found.push({ index: i, at });
    }
    found.sort((a, b) => a.at - b.at);
    const pieces: string[] = [];
    const holes: Hole[] = [];
    let from = 0;
    for (const { index, at } of found) {
      const length = mark(index).length + 2;
      if (kinds[index] === 'value') {
        pieces.push(text.slice(from, at));
        holes.push({ kind: 'value', index });
        from = at + length;
        continue;
      }
      // `"<mark>":0` with the comma that separates it from its neighbours, if any.
      let start = at;
      let end = at + length + 2;
      let comma: 'before' | 'after' | 'none' = 'none';
      if (text[at - 1] === ',') {
        start--;
        comma = 'before';
      } else if (text[end] === ',') {
        end++;
        comma = 'after';
      }
      pieces.push(text.slice(from, start));
      holes.push({ kind: 'members', index, comma });
      from = end;
    }
    pieces.push(text.slice(from));
    return { parts, pieces, holes };
  };

  return (f) => {
    const parts = analysisParts(f);
    const key = f.classification;
    let t = typeof key === 'object' && key !== null ? templates.get(key) : undefined;
    if (t === undefined || !sameParts(t.parts, parts)) {
      t = makeTemplate(f, parts);
      if (typeof key === 'object' && key !== null) templates.set(key, t);
    }
    if (t.pieces === null) return full(f);
    const values: unknown[] = [];
    build(f, {
      value: (v) => {
        values.push(v);
        return v;
      },
      members: (m) => {
        values.push(m);
        return m;
      },
    });
    if (values.length !== t.holes.length) return full(f);
    let out = t.pieces[0]!;
    for (let i = 0; i < t.holes.length; i++) {
      const hole = t.holes[i]!;
      if (hole.kind === 'value') {
        const v = toJson(values[hole.index]);
        // An undefined value would drop its member: not what the template holds.
        if (v === undefined) return full(f);
        out += serialize(v);
      } else {
        const inner = serialize(toJsonObject(values[hole.index] as Record<string, unknown>)).slice(1, -1);
        if (inner.length > 0) {
          out += hole.comma === 'before' ? `,${inner}` : hole.comma === 'after' ? `${inner},` : inner;
        }
      }
      out += t.pieces[i + 1]!;
    }
    return out;
  };
}
