// The splitter passes complete containers over whole (skipContainer) instead of tracking them member
// by member. That must change nothing it emits: every event (verbatim bytes, units with their pointer,
// first index, line, top index, offset and HAR body spans, long strings, splits, invalid JSON with its
// line, column and reason, the text rest) is compared with the splitter as it was before
// (reference/json-splitter-v1.ts), on random JSON and HAR-like documents, with escapes in strings and
// keys, whitespace and line ends, broken half-way, and pushed in pieces cut at every offset. Both
// ways of passing over are compared: the WebAssembly one (json-skip.wat, the default where it runs)
// and the JavaScript one (`wasm: false`).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSplitter, type SplitterOptions } from '../../../src/batch/json-splitter.ts';
import { JsonSplitter as ReferenceSplitter } from './reference/json-splitter-v1.ts';

type Event = [string, ...unknown[]];

interface SplitterLike {
  push(chunk: Uint8Array): void;
  end(): void;
}

type Make = (events: ConstructorParameters<typeof JsonSplitter>[0], options: SplitterOptions) => SplitterLike;

const current: Make = (events, options) => new JsonSplitter(events, options);
const currentJs: Make = (events, options) => new JsonSplitter(events, { ...options, wasm: false });
const reference: Make = (events, options) => new ReferenceSplitter(events, options);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function run(make: Make, input: Buffer, cuts: readonly number[], options: SplitterOptions): Event[] {
  const events: Event[] = [];
  const s = make(
    {
      verbatim: (b) => events.push(['verbatim', hex(b)]),
      unit: (u) =>
        events.push([
          'unit',
          u.kind,
          hex(u.bytes),
          u.pointer,
          u.firstIndex,
          u.line,
          u.topIndex,
          u.offset,
          u.harBodies,
        ]),
      longStringStart: (pointer, line, topIndex) => events.push(['long-start', pointer, line, topIndex]),
      longStringChunk: (b) => events.push(['long-chunk', hex(b)]),
      longStringEnd: () => events.push(['long-end']),
      split: (pointer) => events.push(['split', pointer]),
      invalid: (info, restLine) => events.push(['invalid', info, restLine]),
      rest: (b) => events.push(['rest', hex(b)]),
    },
    options,
  );
  let at = 0;
  for (const cut of [...cuts, input.length]) {
    if (cut <= at) continue;
    s.push(input.subarray(at, cut));
    at = cut;
  }
  s.end();
  return normalise(events);
}

/**
 * The splitter batches small top-level values into `values` units where v1 made a `value` unit of each
 * (with the whitespace between them as verbatim pieces): the batches are expanded here into what v1
 * emitted, values found by their own walk (strings, brackets, number and literal runs), and runs of
 * verbatim pieces joined, so that both compare event for event.
 */
function normalise(events: Event[]): Event[] {
  const out: Event[] = [];
  const verbatim = (h: string) => {
    if (h.length === 0) return;
    const last = out[out.length - 1];
    if (last?.[0] === 'verbatim') last[1] = (last[1] as string) + h;
    else out.push(['verbatim', h]);
  };
  for (const e of events) {
    if (e[0] === 'verbatim') verbatim(e[1] as string);
    else if (e[0] === 'unit' && e[1] === 'values') {
      const bytes = Buffer.from(e[2] as string, 'hex');
      let [line, top, offset] = [e[5] as number, e[6] as number, e[7] as number];
      let at = 0;
      while (at < bytes.length) {
        let start = at;
        while (start < bytes.length && ' \t\r\n'.includes(String.fromCharCode(bytes[start]!))) start++;
        verbatim(bytes.subarray(at, start).toString('hex'));
        line += bytes.subarray(at, start).filter((c) => c === 0x0a).length;
        const end = endOf(bytes, start);
        out.push([
          'unit',
          'value',
          bytes.subarray(start, end).toString('hex'),
          '',
          0,
          line,
          top,
          offset + start,
          undefined,
        ]);
        // line ends inside strings are not counted (nor are they by the splitter)
        line +=
          bytes
            .subarray(start, end)
            .toString('latin1')
            .replace(/"(?:[^"\\]|\\.)*"/gs, '')
            .split('\n').length - 1;
        top++;
        at = end;
      }
    } else out.push(e);
  }
  return out;
}

/** End of the JSON value at `i` in a sequence of valid values. */
function endOf(b: Buffer, i: number): number {
  let depth = 0;
  let j = i;
  do {
    const c = b[j]!;
    if (c === 0x22) {
      j++;
      while (b[j] !== 0x22) j += b[j] === 0x5c ? 2 : 1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (depth === 0) {
      // a number or a literal: a run of the bytes that make one
      const number = /[-+.\deE]/;
      const run = /[a-z]/.test(String.fromCharCode(c)) ? /[a-z]/ : number;
      while (j + 1 < b.length && run.test(String.fromCharCode(b[j + 1]!))) j++;
    }
    j++;
  } while (depth > 0);
  return j;
}

/**
 * Strings and keys full of what needs escaping: quotes, backslashes, control characters, non-ASCII;
 * some long enough to cross the WebAssembly walk's 16-byte blocks with an escape at any offset.
 */
const trickyUnit = fc.constantFrom('a', 'b', '"', '\\', '/', '\n', '\t', '\u0001', 'é', '😀', ' ', '~');
const tricky = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: trickyUnit, maxLength: 12 }) },
  fc.string({ unit: fc.oneof({ weight: 6, arbitrary: fc.constant('x') }, trickyUnit), maxLength: 70 }),
);
const key = fc.oneof(tricky, fc.constantFrom('log', 'entries', 'response', 'content', 'text', 'encoding'));

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tricky,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.constantFrom(true, false, null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** A HAR-like document: the spine, entries with request/response objects and bodies. */
const har = fc
  .array(
    fc.record({
      request: fc.record({
        url: tricky,
        headers: fc.array(fc.record({ name: tricky, value: tricky }), { maxLength: 2 }),
      }),
      response: fc.record({
        status: fc.integer({ min: 100, max: 599 }),
        content: fc.record(
          { text: tricky, encoding: fc.constantFrom('base64', 'utf8') },
          { requiredKeys: ['text'] },
        ),
      }),
      timings: fc.dictionary(tricky, fc.integer(), { maxKeys: 2 }),
    }),
    { maxLength: 4 },
  )
  .map((entries) => ({ log: { version: '1.2', entries } }));

/** Serialised compactly or with line ends and indentation, or as a sequence of values. */
function serialise(docs: unknown[], indent: number): string {
  return docs.map((d) => JSON.stringify(d, null, indent) ?? 'null').join(indent > 0 ? '\n' : ' ');
}

/** Breaks a document: a byte changed, inserted or the document cut short. */
const breakage = fc.option(
  fc.record({
    at: fc.nat(),
    how: fc.constantFrom('replace', 'insert', 'cut'),
    byte: fc.constantFrom(...'{}[],:"\\ \nxtfn0-'.split('').map((c) => c.charCodeAt(0))),
  }),
  { nil: undefined },
);

function broken(text: string, b: { at: number; how: string; byte: number } | undefined): Buffer {
  const buf = Buffer.from(text);
  if (b === undefined || buf.length === 0) return buf;
  const at = b.at % buf.length;
  if (b.how === 'cut') return buf.subarray(0, at);
  if (b.how === 'insert')
    return Buffer.concat([buf.subarray(0, at), Buffer.from([b.byte]), buf.subarray(at)]);
  const out = Buffer.from(buf);
  out[at] = b.byte;
  return out;
}

const HAR_SPINE = new Set(['', '/log', '/log/entries']);

const options = fc.record({
  unitBytes: fc.integer({ min: 8, max: 400 }),
  blockBytes: fc.integer({ min: 4, max: 200 }),
  mode: fc.constantFrom('plain', 'spine', 'har'),
});

function splitterOptions(o: { unitBytes: number; blockBytes: number; mode: string }): SplitterOptions {
  if (o.mode === 'plain') return { unitBytes: o.unitBytes, blockBytes: o.blockBytes };
  return {
    unitBytes: o.unitBytes,
    blockBytes: o.blockBytes,
    alwaysSplit: (p) => HAR_SPINE.has(p),
    alwaysSplitDepth: 3,
    harBodies: o.mode === 'har',
  };
}

describe('JsonSplitter: passing containers over whole changes no event', () => {
  it('on random JSON and HAR-like documents, pushed in random pieces', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(value, { minLength: 1, maxLength: 3 }),
          har.map((h) => [h]),
        ),
        fc.constantFrom(0, 1, 2),
        breakage,
        options,
        fc.array(fc.nat(), { maxLength: 6 }),
        (docs, indent, b, o, rawCuts) => {
          const input = broken(serialise(docs, indent), b);
          const cuts = rawCuts.map((c) => c % (input.length + 1)).sort((x, y) => x - y);
          const opts = splitterOptions(o);
          const expected = run(reference, input, cuts, opts);
          expect(run(current, input, cuts, opts)).toEqual(expected);
          expect(run(currentJs, input, cuts, opts)).toEqual(expected);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('on documents cut in two at every offset', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          value.map((v) => [v]),
          har.map((h) => [h]),
        ),
        fc.constantFrom(0, 2),
        breakage,
        options,
        (docs, indent, b, o) => {
          const input = broken(serialise(docs, indent), b).subarray(0, 300);
          const opts = splitterOptions(o);
          for (let cut = 0; cut <= input.length; cut++) {
            const expected = run(reference, input, [cut], opts);
            expect(run(current, input, [cut], opts)).toEqual(expected);
            expect(run(currentJs, input, [cut], opts)).toEqual(expected);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('on a document pushed one byte at a time and whole (escaped quotes and backslashes at the ends)', () => {
    const doc = Buffer.from(
      `[{"a\\"b":"x\\\\","c":[1,-2.5e3,true,false,null,{"d\\\\":"\\"\\\\\\""}]},\n {"e": [ ] , "f" : { } }]\n{"g":"h"} [0]`,
    );
    for (const opts of [
      { unitBytes: 1000, blockBytes: 1000 },
      { unitBytes: 10, blockBytes: 4 },
    ]) {
      const bytewise = Array.from({ length: doc.length }, (_, i) => i);
      const expected = run(reference, doc, bytewise, opts);
      expect(run(current, doc, bytewise, opts)).toEqual(expected);
      expect(run(current, doc, [], opts)).toEqual(run(reference, doc, [], opts));
      // The reference emits units: the document really is cut into values (a test that can fail).
      expect(expected.some((e) => e[0] === 'unit')).toBe(true);
    }
  });
});

describe('JsonSplitter: the WebAssembly walk crosses strings 16 bytes at a time', () => {
  it('finds the closing quote whichever byte of a block an escape falls on', () => {
    // An escaped quote and an escaped backslash at every offset, so at every lane of a block and
    // across its end (a backslash on the last lane escapes the first byte of the next block).
    const members = Array.from(
      { length: 48 },
      (_, k) => `{"k${k}":"${'x'.repeat(k)}\\"${'y'.repeat(17)}\\\\${'z'.repeat(k % 5)}\\""}`,
    );
    for (const opts of [
      { unitBytes: 100_000, blockBytes: 100_000 },
      { unitBytes: 64, blockBytes: 32 },
    ]) {
      for (let pad = 0; pad < 16; pad++) {
        const doc = Buffer.from(`${' '.repeat(pad)}[${members.join(',')}]`);
        const expected = run(reference, doc, [], opts);
        expect(run(current, doc, [], opts)).toEqual(expected);
        expect(run(currentJs, doc, [], opts)).toEqual(expected);
        expect(expected.some((e) => e[0] === 'invalid')).toBe(false);
      }
    }
  });
});

describe('JsonSplitter: HAR entries passed over whole note their response bodies', () => {
  // Entries as the splitter meets them: a base64 body, a JSON body full of \" and \\ escapes, keys
  // spelled with escapes, look-alikes off the body's way, a body nested 40 deep before `response`.
  const b64 = Buffer.from('{"access_token":"x"}').toString('base64');
  const entries = [
    `{"request":{"url":"a\\\\\\"b","postData":{"text":"not a body"}},"response":{"status":200,"content":{"size":3,"text":"${b64}","encoding":"base64"}}}`,
    `{"response":{"content":{"text":"{\\"items\\":[\\"\\\\\\\\\\"]}\\\\","mimeType":"x"}},"text":"no"}`,
    `{"deep":${'['.repeat(40)}${']'.repeat(40)},"respons\\u0065":{"c\\u006fntent":{"t\\u0065xt":"QUJD","encoding":"base64"}}}`,
    `{"response":[{"content":{"text":"array: not a body"}}],"x":{"response":{"content":{"text":"nested: no"}}}}`,
  ];
  const doc = Buffer.from(`{"log":{"version":"1.2","entries":[\n${entries.join(',\n')}\n]}}`);
  const opts = splitterOptions({ unitBytes: 100_000, blockBytes: 100_000, mode: 'har' });
  /** The entries' body spans, as the splitter gives them with the batch of entries. */
  const bodies = (events: Event[]) =>
    events.filter((e) => e[0] === 'unit' && e[3] === '/log/entries').map((e) => e[8]);

  it('at the offsets a walk of the entries finds, pushed whole', () => {
    const at = (entry: number, needle: string, field: 'text' | 'encoding') => {
      const batch = entries.join(',\n');
      const start = batch.indexOf(needle, entries.slice(0, entry).join(',\n').length);
      return { index: entry, field, start, end: start + needle.length };
    };
    expect(bodies(run(current, doc, [], opts))).toEqual([
      [
        at(0, `"${b64}"`, 'text'),
        at(0, '"base64"', 'encoding'),
        at(1, '"{\\"items\\":[\\"\\\\\\\\\\"]}\\\\"', 'text'),
        at(2, '"QUJD"', 'text'),
        at(2, '"base64"', 'encoding'),
      ],
    ]);
  });

  it('the same as the reference splitter (which walks every entry), cut anywhere once or byte by byte', () => {
    const expected = run(reference, doc, [], opts);
    for (let cut = 0; cut <= doc.length; cut++) {
      expect(run(current, doc, [cut], opts)).toEqual(run(reference, doc, [cut], opts));
    }
    const bytewise = Array.from({ length: doc.length }, (_, i) => i);
    expect(run(current, doc, bytewise, opts)).toEqual(run(reference, doc, bytewise, opts));
    expect(run(current, doc, [], opts)).toEqual(expected);
  });
});
