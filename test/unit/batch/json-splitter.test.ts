// The splitter's invariants: every input byte comes out exactly once, in order (verbatim, in a unit,
// in a long string or in the text rest), and every unit is the JSON value(s) its pointer names.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectStrings, type JsonPath } from '../../../src/batch/json-spans.ts';
import { JsonSplitter, type JsonUnit } from '../../../src/batch/json-splitter.ts';
import { ELIDED_SEGMENT, MAX_POINTER_LENGTH } from '../../../src/pipeline/index.ts';

interface Split {
  out: string;
  units: JsonUnit[];
  longStrings: { pointer: string; body: string }[];
  invalid: { line: number; column: number; reason: string; restLine: number } | undefined;
  splits: string[];
}

function split(
  text: string,
  unitBytes: number,
  blockBytes: number,
  chunk: number,
  alwaysSplit?: (p: string) => boolean,
  harBodies = false,
): Split {
  const parts: Buffer[] = [];
  const result: Split = { out: '', units: [], longStrings: [], invalid: undefined, splits: [] };
  let long: { pointer: string; body: string } | undefined;
  const s = new JsonSplitter(
    {
      verbatim: (b) => parts.push(Buffer.from(b)),
      unit: (u) => {
        result.units.push(u);
        parts.push(Buffer.from(u.bytes));
      },
      longStringStart: (pointer) => {
        long = { pointer, body: '' };
      },
      longStringChunk: (b) => {
        parts.push(Buffer.from(b));
        long!.body += Buffer.from(b).toString();
      },
      longStringEnd: () => {
        result.longStrings.push(long!);
      },
      split: (p) => result.splits.push(p),
      invalid: (info, restLine) => {
        result.invalid = { line: info.line, column: info.column, reason: info.reason, restLine };
      },
      rest: (b) => parts.push(Buffer.from(b)),
    },
    { unitBytes, blockBytes, ...(alwaysSplit ? { alwaysSplit } : {}), ...(harBodies ? { harBodies } : {}) },
  );
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += chunk) s.push(buf.subarray(i, i + chunk));
  s.end();
  result.out = Buffer.concat(parts).toString();
  return result;
}

function at(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((d, k) => (d as Record<string, unknown>)[k], doc);
}

function checkUnits(doc: unknown, units: JsonUnit[]): void {
  for (const u of units) {
    const text = Buffer.from(u.bytes).toString();
    if (u.kind === 'value') expect(JSON.parse(text)).toEqual(at(doc, u.pointer));
    else if (u.kind === 'array') {
      const items = JSON.parse(`[${text}]`) as unknown[];
      const full = at(doc, u.pointer) as unknown[];
      expect(items).toEqual(full.slice(u.firstIndex, u.firstIndex + items.length));
    } else {
      const members = JSON.parse(`{${text}}`) as Record<string, unknown>;
      const full = at(doc, u.pointer) as Record<string, unknown>;
      for (const [k, v] of Object.entries(members)) expect(v).toEqual(full[k]);
    }
  }
}

const jsonValue = fc.jsonValue({ maxDepth: 5 });
const layout = fc.constantFrom<[string | number | undefined]>([undefined], [2], ['\t'], [0]);

describe('JsonSplitter', () => {
  it('gives back every byte and correct units for any JSON, any limits, any chunking', () => {
    fc.assert(
      fc.property(
        jsonValue,
        layout,
        fc.integer({ min: 24, max: 400 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 97 }),
        (value, [space], unitBytes, blockBytes, chunk) => {
          const text = `${JSON.stringify(value, null, space)}\n`;
          const r = split(text, unitBytes, blockBytes, chunk);
          expect(r.out).toBe(text);
          // An object key longer than the hold limit is the one thing that ends JSON mode.
          if (r.invalid !== undefined) {
            expect(r.invalid.reason).toBe('object key too long');
            return;
          }
          const doc = JSON.parse(text) as unknown;
          checkUnits(doc, r.units);
          for (const u of r.units) {
            // A whole value fits the hold limit (plus at most one pushed chunk); batches stay within blockBytes unless single.
            if (u.kind === 'value') expect(u.bytes.length).toBeLessThanOrEqual(unitBytes + chunk);
          }
          for (const l of r.longStrings) expect(JSON.parse(`"${l.body}"`)).toEqual(at(doc, l.pointer));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('keeps the bytes of a broken document and reports where JSON stopped', () => {
    fc.assert(
      fc.property(
        jsonValue,
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 8, max: 200 }),
        (value, chunk, unitBytes) => {
          const text = `${JSON.stringify(value, null, 2)}\n}}garbage "tail`;
          const r = split(text, unitBytes, 50, chunk);
          expect(r.out).toBe(text);
          expect(r.invalid).toBeDefined();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads a JSON text sequence, batching its small values (a value alone is a value unit)', () => {
    const text = '{"a":1}\n[2,3]\n"x" 4 true\n';
    const r = split(text, 1000, 1000, 3);
    expect(r.out).toBe(text);
    expect(
      r.units.map((u) => [u.kind, Buffer.from(u.bytes).toString(), u.topIndex, u.line, u.offset]),
    ).toEqual([['values', '{"a":1}\n[2,3]\n"x" 4 true', 0, 1, 0]]);
    // A batch holds at most blockBytes (8 here), and a value of 4 KiB or more goes alone, as before.
    const big = JSON.stringify({ s: 'y'.repeat(5000) });
    const mixed = `1 2 3 4 5 6 7 8 ${big} 9\n`;
    const m = split(mixed, 10_000, 8, 3);
    expect(m.out).toBe(mixed);
    expect(m.units.map((u) => [u.kind, Buffer.from(u.bytes).toString(), u.topIndex])).toEqual([
      ['values', '1 2 3 4', 0],
      ['values', '5 6 7 8', 4],
      ['value', big, 8],
      ['value', '9', 9],
    ]);
  });

  it('splits a big array into batches of elements with their indexes', () => {
    const value = { data: Array.from({ length: 50 }, (_, i) => ({ i, s: 'x'.repeat(20) })) };
    const text = JSON.stringify(value, null, 1);
    const r = split(text, 200, 120, 64);
    expect(r.out).toBe(text);
    const arrays = r.units.filter((u) => u.kind === 'array');
    expect(arrays.length).toBeGreaterThan(5);
    expect(arrays.every((u) => u.pointer === '/data')).toBe(true);
    expect(
      arrays.reduce(
        (n, u) => n + (JSON.parse(`[${Buffer.from(u.bytes).toString()}]`) as unknown[]).length,
        0,
      ),
    ).toBe(50);
    checkUnits(value, r.units);
  });

  it('streams a string longer than the hold limit, escapes and all', () => {
    const body = `${'a\\"b\\\\'.repeat(300)}eyJ.x`;
    const text = `{"k":[1,{"blob":"${body}"}]}`;
    const r = split(text, 100, 50, 7);
    expect(r.out).toBe(text);
    expect(r.longStrings).toEqual([{ pointer: '/k/1/blob', body }]);
  });

  it('escapes pointer tokens (RFC 6901)', () => {
    const value = { 'a/b': { '~c': Array.from({ length: 30 }, (_, i) => i * 1000) } };
    const r = split(JSON.stringify(value), 40, 30, 5);
    expect(r.units.some((u) => u.pointer === '/a~1b/~0c')).toBe(true);
    checkUnits(value, r.units);
  });

  it('always splits the containers it is told to (HAR spine) and names the split ones', () => {
    const har = { log: { version: '1.2', entries: [{ a: 1 }, { b: 2 }] } };
    const spine = new Set(['', '/log', '/log/entries']);
    const r = split(JSON.stringify(har), 10_000, 10_000, 11, (p) => spine.has(p));
    expect(r.splits).toEqual(['', '/log', '/log/entries']);
    const entries = r.units.filter((u) => u.pointer === '/log/entries');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.kind).toBe('array');
    expect(entries[0]!.firstIndex).toBe(0);
    checkUnits(har, r.units);
  });

  it('reports the line and column of a syntax error and the line the text rest starts on', () => {
    const text = '[\n {"a": 1},\n {"b": tru},\n {"c": 3}\n]\n';
    const r = split(text, 8, 8, 4);
    expect(r.out).toBe(text);
    expect(r.invalid).toMatchObject({ line: 3, column: 8, reason: 'invalid literal' });
    // The rest starts right after the last complete element: the comma at the end of line 2.
    expect(r.invalid!.restLine).toBe(2);
  });

  it('stops JSON mode, every byte kept, past 10,000 open containers', () => {
    // Each open container holds a frame: 1.5 million of them (a 3 MB document) held 300 MB.
    // Pushed 64 bytes at a time: only the innermost containers are complete when they open (passed
    // over), the 10,000 around them are opened one by one.
    const text = `${'['.repeat(10_100)}1${']'.repeat(10_100)}`;
    const r = split(text, 100, 50, 64);
    expect(r.out).toBe(text);
    expect(r.invalid?.reason).toBe('nested deeper than 10000');
    const fits = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    const ok = split(fits, 100, 50, 64);
    expect(ok.out).toBe(fits);
    expect(ok.invalid).toBeUndefined();
  });

  it('bounds the pointers of values it splits deeper than a pointer can say', () => {
    const depth = 2000;
    const items = Array.from({ length: 40 }, (_, i) => ({ i, s: 'x'.repeat(20) }));
    const text = `{"d":${'['.repeat(depth)}${JSON.stringify(items)}${']'.repeat(depth)}}`;
    const r = split(text, 100, 60, 512);
    expect(r.out).toBe(text);
    expect(r.invalid).toBeUndefined();
    const full = `/d${'/0'.repeat(depth)}`;
    const pointers = [...r.splits, ...r.units.map((u) => u.pointer)];
    expect(pointers.length).toBeGreaterThan(depth);
    for (const p of pointers) {
      expect(p.length).toBeLessThanOrEqual(MAX_POINTER_LENGTH);
      const kept = p.endsWith(`/${ELIDED_SEGMENT}`) ? p.slice(0, -ELIDED_SEGMENT.length - 1) : p;
      expect(`${full}/`.startsWith(`${kept}/`)).toBe(true);
    }
    // the items at the bottom, batched, all under the one elided pointer
    const arrays = r.units.filter((u) => u.kind === 'array');
    expect(
      arrays.reduce(
        (n, u) => n + (JSON.parse(`[${Buffer.from(u.bytes).toString()}]`) as unknown[]).length,
        0,
      ),
    ).toBe(40);
    expect(new Set(arrays.map((u) => u.pointer)).size).toBe(1);
    expect(arrays[0]!.pointer.endsWith(`/${ELIDED_SEGMENT}`)).toBe(true);
  });

  it('passes a byte order mark through', () => {
    const text = '\ufeff{"a":"b"}';
    const r = split(text, 100, 100, 2);
    expect(r.out).toBe(text);
    expect(r.units).toHaveLength(1);
  });

  it('finds the body text and encoding of every HAR entry it batches, as a walk of the entries does', () => {
    const spine = new Set(['', '/log', '/log/entries']);
    const key = (name: string) => fc.constantFrom(name, name.replace(/t/, '\\u0074'), `${name}x`);
    const str = fc.string({ maxLength: 30 });
    /** Any key, as the text between its quotes. */
    const rawKey = str.map((k) => JSON.stringify(k).slice(1, -1));
    const scalar = fc.oneof(str, fc.integer(), fc.constant(null));
    // Entries whose response.content holds text/encoding (or not, or not as strings), keys sometimes
    // escaped or near misses, postData.text and look-alikes elsewhere, duplicates now and then.
    const content = fc.array(
      fc.tuple(fc.oneof(key('text'), key('encoding'), rawKey), fc.oneof(str, scalar)),
      {
        maxLength: 5,
      },
    );
    const entry = fc.record({
      request: fc.record({ postData: fc.record({ text: str }), url: str }),
      response: fc.oneof(
        fc.array(fc.tuple(fc.oneof(key('content'), rawKey), fc.oneof(content, scalar)), { maxLength: 3 }),
        scalar,
      ),
      text: str,
    });
    const render = (e: { request: unknown; response: unknown; text: string }): string => {
      const members = (pairs: [string, unknown][]): string =>
        `{${pairs.map(([k, v]) => `"${k}":${Array.isArray(v) ? members(v as [string, unknown][]) : JSON.stringify(v)}`).join(',')}}`;
      const response = Array.isArray(e.response)
        ? members(e.response as [string, unknown][])
        : JSON.stringify(e.response);
      return `{"request":${JSON.stringify(e.request)},"response":${response},"text":${JSON.stringify(e.text)}}`;
    };
    const names = ['response', 'content', 'text', 'encoding'];
    const descend = (p: JsonPath) =>
      p.length === 1 || (p.length === 2 && p[1] === 'response') || (p.length === 3 && p[2] === 'content');
    const want = (p: JsonPath) =>
      p.length === 4 && p[1] === 'response' && p[2] === 'content' && (p[3] === 'text' || p[3] === 'encoding');
    let found = 0;
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 12 }),
        fc.integer({ min: 200, max: 3000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 300 }),
        (entries, unitBytes, blockBytes, chunk) => {
          const text = `{"log":{"version":"1.2","entries":[${entries.map(render).join(',\n')}]}}`;
          const r = split(text, unitBytes, blockBytes, chunk, (p) => spine.has(p), true);
          expect(r.out).toBe(text);
          for (const u of r.units) {
            if (u.pointer !== '/log/entries' || u.kind !== 'array') {
              expect(u.harBodies).toBeUndefined();
              continue;
            }
            const wrapped = Buffer.from(`[${Buffer.from(u.bytes).toString('latin1')}]`, 'latin1');
            const walked = collectStrings(wrapped, names, descend, want).map((s) => ({
              index: s.path[0],
              field: s.path[3],
              start: s.start - 1,
              end: s.end - 1,
            }));
            expect(u.harBodies).toEqual(walked);
            found += walked.length;
          }
        },
      ),
      { numRuns: 300 },
    );
    // The generator does make bodies (and the walk finds them).
    expect(found).toBeGreaterThan(20);
  });
});
