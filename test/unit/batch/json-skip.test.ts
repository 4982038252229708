// The WebAssembly walk on its own: the committed bytes are json-skip.wat's, and `skip` answers
// exactly (the end of a complete container, not only "not here"): a wrong -1 would never show in the
// splitter's output (the splitter then walks the container itself), only in its speed, so the
// splitter's property test (json-splitter-skip.property.test.ts) cannot see it; this one does.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSkipWasmModuleText } from '../../../scripts/json-skip-build.ts';
import { FALL_BACK, WasmSkip } from '../../../src/batch/json-skip.ts';

function skipper(): WasmSkip {
  const w = WasmSkip.create();
  if (w === undefined) throw new Error('no WebAssembly SIMD on this Node');
  return w;
}

/** `skip` over `text` placed at `pad` in the held bytes, with `end` at the end of what is held. */
function skipAt(w: WasmSkip, text: string, pad: number, har = 0, held = Number.POSITIVE_INFINITY) {
  const bytes = Buffer.from(text);
  const data = w.resize(pad + bytes.length + 64, 0, 0)!;
  data.fill(0x20);
  bytes.copy(data, pad);
  const end = pad + Math.min(held, bytes.length);
  const r = w.skip(pad, end, har);
  const noted = Array.from({ length: r >= 0 ? w.notedCount : 0 }, (_, k) => {
    const { field, start, end } = w.notedSpan(k, 0, -pad);
    return { field, start, end };
  });
  return { r: r >= 0 ? r - pad : r, lines: w.lines, lineStart: w.lineStart - pad, noted };
}

const unit = fc.constantFrom('x', 'x', 'x', 'x', '"', '\\', '\n', '\u0001', 'é', '😀', ']', '}', '{', ',');
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit, maxLength: 60 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(true, false, null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit, maxLength: 20 }), tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('json-skip WebAssembly', () => {
  it('json-skip-wasm.ts is exactly what `npm run build:wasm` writes from json-skip.wat', async () => {
    const committed = readFileSync(new URL('../../../src/batch/json-skip-wasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await jsonSkipWasmModuleText());
  });

  it('runs on this Node (else the splitter tests would only test the JavaScript walk)', () => {
    expect(WasmSkip.create()).toBeDefined();
  });

  it('ends a complete container exactly where it ends, counting its line ends, at any alignment', () => {
    const w = skipper();
    fc.assert(
      fc.property(
        fc.oneof(fc.array(value, { maxLength: 5 }), fc.dictionary(fc.string(), value, { maxKeys: 5 })),
        fc.constantFrom(0, 1, 2),
        fc.nat(31),
        (v, indent, pad) => {
          const text = JSON.stringify(v, null, indent);
          const length = Buffer.byteLength(text);
          const got = skipAt(w, `${text} ,"after"`, pad);
          expect(got.r).toBe(length);
          // JSON.stringify escapes line ends in strings: every one in `text` is between tokens.
          const lines = text.split('\n').length - 1;
          expect(got.lines).toBe(lines);
          if (lines > 0) expect(got.lineStart).toBe(Buffer.from(text).lastIndexOf(0x0a) + 1);
          // Cut anywhere before its last byte, it is not complete: -1, never a wrong end.
          const cut = Math.max(1, (pad * 7919) % length);
          expect(skipAt(w, text, pad, 0, cut).r).toBe(-1);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('says -1 for what is not JSON, as the walk it stands in for does', () => {
    const w = skipper();
    for (const bad of [
      '[1 2]',
      '{"a" 1}',
      '{"a":1,}',
      '[tru]',
      '[nul,1]',
      '{1:2}',
      '[1]]',
      '{"a":1]',
      '[,]',
      '[x]',
    ]) {
      expect(skipAt(w, `${bad}   `, 3).r, bad).toBe(bad === '[1]]' ? 3 : -1);
    }
    // What JSON.stringify never writes, but JSON allows.
    for (const good of ['[1E5,-2.5E+3,0.5e-1]', '{ "a" : true ,\t"b":false,\r\n"c":null }', '[ ]', '{}']) {
      expect(skipAt(w, `${good},`, 5).r, good).toBe(good.length);
    }
    // A literal at the end of what is held may go on: not decided here.
    expect(skipAt(w, '[true]', 0, 0, 5).r).toBe(-1);
  });

  it('notes the response body of a HAR entry, and nothing off its way', () => {
    const w = skipper();
    const body = 'QUJD'.repeat(20);
    const entry = `{"request":{"postData":{"text":"no"}},"response":{"status":200,"content":{"size":3,"text":"${body}","encoding":"base64"},"text":"no"},"text":"no"}`;
    for (let pad = 0; pad < 16; pad++) {
      const got = skipAt(w, entry, pad, 1);
      expect(got.r).toBe(entry.length);
      const t = entry.indexOf(`"${body}"`);
      const e = entry.indexOf('"base64"');
      expect(got.noted).toEqual([
        { field: 'text', start: t, end: t + body.length + 2 },
        { field: 'encoding', start: e, end: e + 8 },
      ]);
    }
    // From `response` (level 2) and from `content` (level 3), as the splitter asks when an entry is split.
    const content = `{"text":"${body}","encoding":"base64"}`;
    expect(skipAt(w, content, 0, 3).noted.map((n) => n.field)).toEqual(['text', 'encoding']);
    expect(skipAt(w, `{"content":${content}}`, 0, 2).noted.map((n) => n.field)).toEqual(['text', 'encoding']);
    expect(skipAt(w, `{"content":${content}}`, 0, 0).noted).toEqual([]);
  });

  it('leaves to the caller what it cannot decide: deep nesting, many bodies, an escaped key on the way', () => {
    const w = skipper();
    expect(skipAt(w, `${'['.repeat(5000)}${']'.repeat(5000)}`, 0).r).toBe(FALL_BACK);
    expect(skipAt(w, `${'['.repeat(4000)}${']'.repeat(4000)}`, 0).r).toBe(8000);
    const many = Array.from({ length: 300 }, () => '"text":"a"').join(',');
    expect(skipAt(w, `{"response":{"content":{${many}}}}`, 0, 1).r).toBe(FALL_BACK);
    expect(skipAt(w, `{"response":{"content":{${many}}}}`, 0, 0).r).toBeGreaterThan(0);
    expect(skipAt(w, '{"respons\\u0065":{}}', 0, 1).r).toBe(FALL_BACK);
    // Off the way to a body, an escaped key is only a key.
    const offWay = '{"request":{"k\\u0065y":1}}';
    expect(skipAt(w, offWay, 0, 1).r).toBe(offWay.length);
  });

  it('says so, and keeps what it holds, when its memory cannot grow that far', () => {
    const w = skipper();
    const held = w.resize(1024, 0, 0)!;
    held.write('[1,2]');
    expect(w.resize(5 * 1024 ** 3, 0, 5)).toBeUndefined(); // past the 4 GiB a module can have
    expect(held.toString('latin1', 0, 5)).toBe('[1,2]');
    expect(w.skip(0, 5, 0)).toBe(5);
  });

  it('is given back by a splitter that ended and taken again by the next, unless its memory grew large', () => {
    const a = WasmSkip.acquire()!;
    a.release();
    const b = WasmSkip.acquire()!;
    expect(b).toBe(a);
    b.resize(64 * 1024 * 1024, 0, 0);
    b.release();
    expect(WasmSkip.acquire()).not.toBe(b);
  });
});
