// jsonPaths: the same acceptance and the same pointers (partial ones on invalid input included) as
// the walk it replaced (json-paths-reference.ts), on random JSON holding tokens: escaped member
// names, names with '/' and '~', unicode, tokens in names, and mutated (mostly invalid) documents.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scan, tokensOf } from '../../../src/detection/index.ts';
import {
  boundPointer,
  childPointer,
  ELIDED_SEGMENT,
  jsonPaths,
  MAX_POINTER_LENGTH,
  plainEnd,
} from '../../../src/pipeline/json-paths.ts';
import { craft } from '../classification/fixtures.ts';
import { jsonPathsReference } from './json-paths-reference.ts';

const TOKENS = [
  craft({ alg: 'ES256' }, { sub: 'a', iat: 1 }),
  craft({ alg: 'HS256', typ: 'JWT' }, { iss: 'https://x/', sub: 'b' }, 'secret'),
  // RFC 7797 unencoded payload: the token's bytes hold a quote and a backslash (escaped in JSON text)
  `${Buffer.from('{"alg":"HS256","b64":false,"crit":["b64"]}').toString('base64url')}.a"b\\c.c2ln`,
];

type J = null | boolean | number | string | J[] | { [k: string]: J };

const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom('a/b', '~', '~1', 'x~0/', '/', '', 'é', '\u2028', '"q"', '\\') },
  { weight: 2, arbitrary: fc.constantFrom(...TOKENS).map((t) => `Bearer ${t}`) },
  { weight: 1, arbitrary: fc.constantFrom(...TOKENS) },
);

const value: fc.Arbitrary<J> = fc.letrec<{ v: J }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<J>(null, true, false, 0, -1.5e3, 12, 0.25),
    text,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(text, tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** JSON text of a string; in about 3 strings of 10, some characters escaped as \uXXXX or '\/' (draws from `esc`, 0-9). */
function str(s: string, esc: () => number): string {
  const on = esc() < 3;
  let out = '"';
  for (const ch of JSON.stringify(s)
    .slice(1, -1)
    .match(/\\u[0-9a-f]{4}|\\.|[\s\S]/g) ?? []) {
    const r = on ? esc() : 9;
    if (ch.length === 1 && r < 3) out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else if (ch === '/' && r === 3) out += '\\/';
    else out += ch;
  }
  return `${out}"`;
}

function serialize(v: J, esc: () => number, ws: () => string): string {
  if (v === null || typeof v !== 'object') return typeof v === 'string' ? str(v, esc) : JSON.stringify(v);
  if (Array.isArray(v)) return `[${ws()}${v.map((x) => serialize(x, esc, ws)).join(`,${ws()}`)}${ws()}]`;
  const members = Object.entries(v).map(([k, x]) => `${str(k, esc)}${ws()}:${ws()}${serialize(x, esc, ws)}`);
  return `{${ws()}${members.join(`${ws()},`)}${ws()}}`;
}

const document = fc
  .tuple(
    value,
    fc.infiniteStream(fc.nat({ max: 9 })),
    fc.infiniteStream(fc.constantFrom('', '', ' ', '\n\t')),
  )
  .map(([v, e, w]) => {
    const ei = e[Symbol.iterator]();
    const wi = w[Symbol.iterator]();
    return Buffer.from(
      serialize(
        v,
        () => ei.next().value as number,
        () => wi.next().value as string,
      ),
      'utf8',
    );
  });

/** Byte edits that make most documents invalid (and some still valid). */
const edit = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('insert', 'replace', 'delete'),
  byte: fc.constantFrom(
    0x22,
    0x5c,
    0x7b,
    0x7d,
    0x5b,
    0x5d,
    0x2c,
    0x3a,
    0x01,
    0x0a,
    0x20,
    0x78,
    0x31,
    0x2d,
    0x2e,
    0x65,
    0xe2,
    0xff,
  ),
});

function mutate(buf: Buffer, edits: { at: number; op: string; byte: number }[]): Buffer {
  let b = buf;
  for (const { at, op, byte } of edits) {
    const i = b.length === 0 ? 0 : at % (b.length + (op === 'insert' ? 1 : 0));
    if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
    else if (i < b.length && op === 'replace') {
      b = Buffer.from(b);
      b[i] = byte;
    } else if (i < b.length) b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
  }
  return b;
}

/** Token starts, and some other offsets, sorted. */
function offsetsIn(buf: Buffer, extra: number[]): number[] {
  const out = new Set<number>();
  for (let i = buf.indexOf('eyJ'); i !== -1; i = buf.indexOf('eyJ', i + 1)) out.add(i);
  for (const x of extra) out.add(x % (buf.length + 2));
  return [...out].sort((a, b) => a - b);
}

/** Both walks agree on `offsets`, and on the scanner's token starts with their plain spans (as the engine passes them). */
function same(buf: Buffer, offsets: number[]): void {
  const ref = jsonPathsReference(buf, offsets);
  expect(jsonPaths(buf, offsets)).toEqual(ref);
  const tokens = tokensOf(scan(buf).items);
  const starts = tokens.map((t) => t.start);
  expect(jsonPaths(buf, starts, tokens.map(plainEnd))).toEqual(jsonPathsReference(buf, starts));
}

describe('jsonPaths', () => {
  it('generates what it should: escapes, tokens in names, invalid documents', () => {
    const docs = fc.sample(document, { numRuns: 400, seed: 1 });
    expect(docs.filter((d) => d.includes('\\u')).length).toBeGreaterThan(40);
    expect(docs.filter((d) => d.includes('"eyJ') && jsonPaths(d, []).valid).length).toBeGreaterThan(40);
    // spans jumped, and spans not jumped (b64: false)
    const ends = docs.flatMap((d) => tokensOf(scan(d).items).map(plainEnd));
    expect(ends.filter((e) => e >= 0).length).toBeGreaterThan(40);
    expect(ends.filter((e) => e < 0).length).toBeGreaterThan(5);
    const mutated = fc.sample(
      fc.tuple(document, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([d, e]) => mutate(d, e)),
      { numRuns: 400, seed: 2 },
    );
    const invalid = mutated.filter((m) => !jsonPaths(m, []).valid).length;
    expect(invalid).toBeGreaterThan(200);
    expect(invalid).toBeLessThan(400);
  });

  it('gives the same pointers for offset and end arrays of any elements kind (small ints, doubles, holey)', () => {
    const doc = Buffer.from('{"a":[1,{"b":"xxxxxxxx"}],"c":"yyyy"}');
    const offsets = [doc.indexOf('xxxx'), doc.indexOf('yyyy')];
    const ends = [doc.indexOf('xxxx') + 8, -1];
    const expected = { valid: true, pointers: ['/a/1/b', '/c'] };
    expect(jsonPaths(doc, offsets, ends)).toEqual(expected);
    const doubles = offsets.map((o) => o + 0.5 - 0.5);
    doubles.push(0.5);
    doubles.pop();
    const holey: number[] = new Array(2);
    holey[0] = ends[0]!;
    holey[1] = ends[1]!;
    expect(jsonPaths(doc, doubles, holey)).toEqual(expected);
  });

  it('matches the reference walk on valid documents', () => {
    fc.assert(
      fc.property(document, fc.array(fc.nat(), { maxLength: 6 }), (buf, extra) => {
        const offsets = offsetsIn(buf, extra);
        expect(jsonPaths(buf, offsets).valid).toBe(true);
        same(buf, offsets);
      }),
      { numRuns: 1500 },
    );
  });

  it('matches the reference walk on mutated documents (acceptance and partial pointers)', () => {
    fc.assert(
      fc.property(
        document,
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (buf, edits, extra) => {
          const m = mutate(buf, edits);
          same(m, offsetsIn(m, extra));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('matches the reference walk on short byte strings of JSON punctuation', () => {
    const punct = '{}[]",:\\ 01-.eE+tfnrulasx\n\u00e2\u0001';
    const bytes = fc
      .uint8Array({ maxLength: 24 })
      .map((a) => Buffer.from(Array.from(a, (x) => punct[x % punct.length]!).join(''), 'latin1'));
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 6 }), (buf, extra) =>
        same(buf, offsetsIn(buf, extra)),
      ),
      { numRuns: 3000 },
    );
  });

  it('gives pointers with escaped, slashed and masked member names (fixed cases)', () => {
    const t = TOKENS[0]!;
    const doc = Buffer.from(`{"a\\/b~":{"\\u0078":[1,"${t}"]},"${t}":"${t}","é":{"k":"${t}"}}`, 'utf8');
    const offsets: number[] = [];
    for (let i = doc.indexOf(t); i !== -1; i = doc.indexOf(t, i + 1)) offsets.push(i);
    // the token in a member name is not inside a value: it gets its object's pointer (the root's, '')
    expect(jsonPaths(doc, offsets)).toEqual({
      valid: true,
      pointers: ['/a~1b~0/x/1', '', '/JWTR~0masked', '/é/k'],
    });
  });
});

describe('bounded pointers', () => {
  const marker = `/${ELIDED_SEGMENT}`;

  it('keeps a pointer up to the bound, else its whole segments that fit and the marker', () => {
    const fits = `/${'a'.repeat(MAX_POINTER_LENGTH - 1)}`;
    expect(boundPointer(fits)).toBe(fits);
    const long = '/abc'.repeat(300); // 1200 characters
    const cut = boundPointer(long);
    expect(cut.length).toBeLessThanOrEqual(MAX_POINTER_LENGTH);
    expect(cut.endsWith(marker)).toBe(true);
    const kept = cut.slice(0, -marker.length);
    // whole segments, as many as fit beside the marker
    expect(long.startsWith(`${kept}/`)).toBe(true);
    expect(kept.length + 4 + marker.length).toBeGreaterThan(MAX_POINTER_LENGTH);
    expect(boundPointer(`/${'x'.repeat(2000)}/a`)).toBe(marker);
    expect(childPointer('/a', 'b')).toBe('/a/b');
    expect(childPointer('/a', 'x'.repeat(MAX_POINTER_LENGTH + 1))).toBe(`/a${marker}`);
    expect(childPointer(`/a${marker}`, 'b')).toBe(`/a${marker}`);
  });

  it('bounds the pointers of tokens nested deeper than a pointer can say, and of long member names', () => {
    // Unbounded, each of these pointers was 6,002 characters: a document nested 100,000 deep with
    // 4,000 tokens at the bottom (650 KB) made 800 MB of them.
    const t = TOKENS[0]!;
    const depth = 3000;
    const bottom = Array.from({ length: 50 }, () => JSON.stringify(t)).join(',');
    const doc = Buffer.from(`{"top":"${t}","deep":${'['.repeat(depth)}${bottom}${']'.repeat(depth)}}`);
    const offsets: number[] = [];
    for (let i = doc.indexOf(t); i !== -1; i = doc.indexOf(t, i + 1)) offsets.push(i);
    const r = jsonPaths(doc, offsets);
    expect(r.valid).toBe(true);
    expect(r.pointers[0]).toBe('/top');
    const deep = r.pointers.slice(1);
    expect(deep).toHaveLength(50);
    for (const [k, p] of deep.entries()) {
      const full = `/deep${'/0'.repeat(depth - 1)}/${k}`;
      expect(p!.length).toBeLessThanOrEqual(MAX_POINTER_LENGTH);
      expect(p!.endsWith(marker)).toBe(true);
      expect(full.startsWith(`${p!.slice(0, -marker.length)}/`)).toBe(true);
    }
    const name = 'n'.repeat(MAX_POINTER_LENGTH + 1);
    const keyed = Buffer.from(`{"${name}":{"a":"${t}"},"b":"${t}"}`);
    const at = [keyed.indexOf(t), keyed.lastIndexOf(t)];
    expect(jsonPaths(keyed, at).pointers).toEqual([marker, '/b']);
  });
});
