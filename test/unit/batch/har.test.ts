// processHarEntries on its own, with an engine that swaps a word for a shorter or a longer one: exact
// outputs for every way a batch of entries can change (the entries, the base64 bodies, both, neither),
// whether the redacted entries are written over the job's own bytes (when they fit and nothing is read
// after it is overwritten) or into a new buffer, and the input left as it was in the second case.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Bodies, processHarEntries } from '../../../src/batch/har.ts';
import type { HarBodySpan } from '../../../src/batch/json-splitter.ts';
import type { AnyFinding, SourceRef } from '../../../src/model.ts';
import type { Engine, RecordResult } from '../../../src/pipeline/types.ts';
import { testEngine } from '../../helpers/engine.ts';
import { jwsHS256, jwsRS256, k8sClaims, NOW } from '../../helpers/tokens.ts';

const SOURCE: SourceRef = { kind: 'file', name: 'x.har' };
const b64 = (t: string) => Buffer.from(t).toString('base64');

/** Swaps `word` for `to` (and more pairs) in entries (processJson) and in decoded bodies (processRecord). */
function swapping(word: string, to: string, ...more: string[]): Engine {
  const pairs = [[word, to]];
  for (let i = 0; i + 1 < more.length; i += 2) pairs.push([more[i]!, more[i + 1]!]);
  const swap = async (input: Uint8Array): Promise<RecordResult> => {
    const text = Buffer.from(input).toString('latin1');
    if (!pairs.some(([w]) => text.includes(w!))) return { output: input, findings: [], changed: false };
    let out = text;
    for (const [w, t] of pairs) out = out.split(w!).join(t!);
    return { output: Buffer.from(out, 'latin1'), findings: [], changed: true };
  };
  return { processJson: swap, processRecord: swap } as unknown as Engine;
}

/**
 * `engine` doing what the real one does with OutputOptions.edits: when it redacts the entries, it puts
 * the bodies back in place of their stand-ins in the same output (a new buffer), and says so.
 */
function honouring(engine: Engine): Engine {
  const json = engine.processJson;
  return {
    ...engine,
    processJson: async (input, source, out) => {
      const r = await json(input, source);
      if (!r.changed || out?.edits === undefined) return r;
      const parts: Uint8Array[] = [];
      let pos = 0;
      for (const e of out.edits) {
        parts.push((await json(input.subarray(pos, e.start), source)).output, e.bytes);
        pos = e.end;
      }
      parts.push((await json(input.subarray(pos), source)).output);
      return { output: Buffer.concat(parts), findings: r.findings, changed: true, edited: true };
    },
  } as Engine;
}

function entry(url: string, text: string, encoding = 'base64'): string {
  return `{"request":{"url":"${url}"},"response":{"content":{"text":"${text}","encoding":"${encoding}"}}}`;
}

const ROOM = 256;

/**
 * `entries` framed as the splitter leaves them: `[`, the entries, `]`, in a buffer with room after
 * (filled with 0xee: nothing may be written there, the buffer may hold other things).
 */
function framed(entries: string[]): Uint8Array {
  const text = `[${entries.join(',\n')}]`;
  const buffer = new ArrayBuffer(text.length + ROOM);
  new Uint8Array(buffer).fill(0xee);
  const bytes = new Uint8Array(buffer, 0, text.length);
  bytes.set(Buffer.from(text, 'latin1'));
  return bytes;
}

async function run(engine: Engine, entries: string[]) {
  const wrapped = framed(entries);
  const before = Buffer.from(wrapped);
  const r = await processHarEntries(engine, wrapped, 0, SOURCE);
  return {
    text: Buffer.from(r.output).toString('latin1'),
    changed: r.changed,
    findings: r.findings as AnyFinding[],
    overWrapped: r.output.buffer === wrapped.buffer,
    inputKept: Buffer.compare(before, Buffer.from(wrapped)) === 0,
    roomKept: new Uint8Array(wrapped.buffer, wrapped.byteLength, ROOM).every((b) => b === 0xee),
  };
}

const body = '{"data":"WORD and more WORD"}';
const clean = '{"data":"nothing here"}';

describe('processHarEntries: redacted entries, exact bytes', () => {
  it('entries shorter, bodies unchanged: written over the input', async () => {
    const r = await run(swapping('WORD', 'W'), [entry('a/WORD', b64(clean)), entry('b', b64(clean))]);
    expect(r.text).toBe(`[${[entry('a/W', b64(clean)), entry('b', b64(clean))].join(',\n')}]`);
    expect(r.changed).toBe(true);
    expect(r.overWrapped).toBe(true);
  });

  it('entries shorter by more than the next bodies take: each body back in its own entry', async () => {
    // The stand-ins are looked for backwards from where they would be without the change: one that
    // shrank 600 bytes puts later bodies' stand-ins before that place, and the first one found there
    // is not this body's. Every body must still come back to its own entry.
    const long = 'X'.repeat(600);
    const bodies = ['A', 'B', 'C', 'D', 'E'].map((c) => b64(`{"k":"${c}"}`));
    const entries = (url: string) => bodies.map((b, k) => entry(k === 0 ? `a/${url}` : `e${k}`, b));
    for (const shrinking of [false, true]) {
      const before = shrinking
        ? entries(long)
        : [entry('a', bodies[0]!), entry(`b/${long}`, bodies[1]!), ...entries('z').slice(2)];
      const r = await run(swapping(long, 'x'), before);
      const after = shrinking
        ? entries('x')
        : [entry('a', bodies[0]!), entry('b/x', bodies[1]!), ...entries('z').slice(2)];
      expect(r.text).toBe(`[${after.join(',\n')}]`);
    }
  });

  it('entries longer: a new buffer, the input untouched', async () => {
    const r = await run(swapping('WORD', 'WORD-MUCH-LONGER'), [
      entry('a/WORD', b64(clean)),
      entry('b', b64(clean)),
    ]);
    expect(r.text).toBe(`[${[entry('a/WORD-MUCH-LONGER', b64(clean)), entry('b', b64(clean))].join(',\n')}]`);
    expect(r.overWrapped).toBe(false);
    expect(r.inputKept).toBe(true);
  });

  it('only bodies changed, shorter: written over the input; the other body kept byte for byte', async () => {
    const escaped = b64(clean).replace(/=/g, '\\u003d');
    const r = await run(swapping('WORD', 'W'), [entry('a', b64(body)), entry('b', escaped)]);
    expect(r.text).toBe(
      `[${[entry('a', b64(body.split('WORD').join('W'))), entry('b', escaped)].join(',\n')}]`,
    );
    expect(r.overWrapped).toBe(true);
  });

  it('only bodies changed, longer: a new buffer, the input untouched', async () => {
    const r = await run(swapping('WORD', 'WORD-MUCH-LONGER'), [
      entry('a', b64(body)),
      entry('b', b64(clean)),
    ]);
    expect(r.text).toBe(
      `[${[entry('a', b64(body.split('WORD').join('WORD-MUCH-LONGER'))), entry('b', b64(clean))].join(',\n')}]`,
    );
    expect(r.overWrapped).toBe(false);
    expect(r.inputKept).toBe(true);
  });

  it('entries and bodies changed, an unchanged body after them moving down', async () => {
    const r = await run(swapping('WORD', 'W'), [
      entry('a/WORD', b64(body)),
      entry('b/WORD', b64(clean)),
      entry('c', b64(clean), 'utf8'),
    ]);
    expect(r.text).toBe(
      `[${[entry('a/W', b64(body.split('WORD').join('W'))), entry('b/W', b64(clean)), entry('c', b64(clean), 'utf8')].join(',\n')}]`,
    );
    expect(r.overWrapped).toBe(true);
  });

  it('a body growing before an unchanged one that would have to move up: a new buffer', async () => {
    // Entries shorter overall, but the first body grows: the second body's bytes would be overwritten
    // before they are read if written in place.
    const r = await run(swapping('WORD', 'WORD-MUCH-MUCH-LONGER'), [
      entry('a', b64(body)),
      entry('b', b64(clean)),
    ]);
    expect(r.text).toBe(
      `[${[entry('a', b64(body.split('WORD').join('WORD-MUCH-MUCH-LONGER'))), entry('b', b64(clean))].join(',\n')}]`,
    );
    expect(r.overWrapped).toBe(false);
    expect(r.inputKept).toBe(true);
  });

  it('a body growing, a later one shrinking more: what moves up copied aside, then written over the input', async () => {
    const grows = '{"a":"GROW"}';
    const shrinks = `{"a":"${'SHRINK-'.repeat(20)}"}`;
    const r = await run(swapping('GROW', 'GROW-GROW-GROW', 'SHRINK-', 'S'), [
      entry('a', b64(grows)),
      entry('b', b64(clean)),
      entry('c', b64(shrinks)),
    ]);
    expect(r.text).toBe(
      `[${[entry('a', b64('{"a":"GROW-GROW-GROW"}')), entry('b', b64(clean)), entry('c', b64(`{"a":"${'S'.repeat(20)}"}`))].join(',\n')}]`,
    );
    expect(r.overWrapped).toBe(true);
    expect(r.roomKept).toBe(true);
  });

  it('entries growing before unchanged bodies, shrinking more after them: written over the input', async () => {
    // The marked entries' output grows ahead of bodies that did not change (views of the input, which
    // must be read before the output reaches them), then shrinks past them.
    const r = await run(swapping('GROW', 'GROW-GROW-GROW', 'SHRINK-', 'S'), [
      entry('a/GROW', b64(clean)),
      entry('b', b64(`${clean} `)),
      entry(`c/${'SHRINK-'.repeat(20)}`, b64(clean)),
    ]);
    expect(r.text).toBe(
      `[${[entry('a/GROW-GROW-GROW', b64(clean)), entry('b', b64(`${clean} `)), entry(`c/${'S'.repeat(20)}`, b64(clean))].join(',\n')}]`,
    );
    expect(r.overWrapped).toBe(true);
    expect(r.roomKept).toBe(true);
  });

  it('redacted entries longer than the input, unchanged bodies all before the growth: a new buffer', async () => {
    const r = await run(swapping('GROW', 'GROW-GROW-GROW'), [
      entry('a', b64(clean)),
      entry('b/GROW', 'plain', 'utf8'),
    ]);
    expect(r.text).toBe(
      `[${[entry('a', b64(clean)), entry('b/GROW-GROW-GROW', 'plain', 'utf8')].join(',\n')}]`,
    );
    expect(r.overWrapped).toBe(false);
    expect(r.inputKept).toBe(true);
    expect(r.roomKept).toBe(true);
  });

  it('an engine that broke the shape: a new buffer, the input kept (for the fallback to text)', async () => {
    const engine = swapping('WORD', 'W');
    const json = engine.processJson;
    engine.processJson = async (input, source) => {
      const r = await json(input, source);
      return { ...r, output: r.output.subarray(0, r.output.length - 1) };
    };
    const r = await run(engine, [entry('a', b64(clean)), entry('b/WORD', b64(clean))]);
    expect(r.text).toBe(`[${[entry('a', b64(clean)), entry('b/W', b64(clean))].join(',\n')}`);
    expect(r.overWrapped).toBe(false);
    expect(r.inputKept).toBe(true);
  });

  it('nothing changed: the input itself', async () => {
    const r = await run(swapping('WORD', 'W'), [entry('a', b64(clean)), entry('b', 'not base64', 'utf8')]);
    expect(r.text).toBe(`[${[entry('a', b64(clean)), entry('b', 'not base64', 'utf8')].join(',\n')}]`);
    expect(r.changed).toBe(false);
    expect(r.overWrapped).toBe(true);
    expect(r.inputKept).toBe(true);
  });
});

describe('processHarEntries: bodies put back by the engine as it writes the redacted entries', () => {
  it('gives the bytes the stand-ins found again give, in a buffer of its own when the entries were redacted', async () => {
    const shrinks = `{"a":"${'SHRINK-'.repeat(20)}"}`;
    const long = 'X'.repeat(600);
    const cases: [string[], string[]][] = [
      [
        ['WORD', 'W'],
        [entry('a/WORD', b64(clean)), entry('b', b64(clean))],
      ],
      [
        ['WORD', 'WORD-MUCH-LONGER'],
        [entry('a/WORD', b64(body)), entry('b', b64(clean))],
      ],
      [
        ['WORD', 'W'],
        [entry('a', b64(body)), entry('b', b64(clean).replace(/=/g, '\\u003d'))],
      ],
      [
        ['WORD', 'W'],
        [entry('a/WORD', b64(body)), entry('b/WORD', b64(clean)), entry('c', b64(clean), 'utf8')],
      ],
      [
        ['GROW', 'GROW-GROW-GROW', 'SHRINK-', 'S'],
        [
          entry('a/GROW', b64(clean)),
          entry('b', b64(`${clean} `)),
          entry(`c/${'SHRINK-'.repeat(20)}`, b64(shrinks)),
        ],
      ],
      [
        [long, 'x'],
        ['A', 'B', 'C'].map((c, k) => entry(k === 0 ? `a/${long}` : `e${k}`, b64(`{"k":"${c}"}`))),
      ],
      [
        ['WORD', 'W'],
        [entry('a', b64(clean)), entry('b', 'not base64', 'utf8')],
      ],
    ];
    for (const [swap, entries] of cases) {
      const [w, t, ...more] = swap;
      const found = await run(swapping(w!, t!, ...more), entries);
      const put = await run(honouring(swapping(w!, t!, ...more)), entries);
      expect(put.text).toBe(found.text);
      expect(put.changed).toBe(found.changed);
      expect(put.roomKept).toBe(true);
      // Entries redacted: the engine's output, in a buffer of its own. Else as before: the input
      // itself, or the bodies written over it.
      if (entries[0]!.includes('/')) {
        expect(put.overWrapped).toBe(false);
        expect(put.inputKept).toBe(true);
      } else expect(put.overWrapped).toBe(found.overWrapped);
    }
  });
});

describe("processHarEntries: bodies from the splitter's spans or from a walk", () => {
  /** The spans the splitter notes for `entries` (relative to them without the brackets). */
  function spansOf(entries: string[]): HarBodySpan[] {
    const spans: HarBodySpan[] = [];
    let at = 0;
    entries.forEach((e, index) => {
      const content = e.indexOf('"content":');
      for (const m of e.slice(content).matchAll(/"(text|encoding)":("(?:[^"\\]|\\.)*")/g)) {
        const start = at + content + m.index! + m[0].length - m[2]!.length;
        spans.push({ index, field: m[1] as 'text' | 'encoding', start, end: start + m[2]!.length });
      }
      at += e.length + 2;
    });
    return spans;
  }

  it('give the same output and findings, a key given twice counting once (the last)', async () => {
    const twice = `{"request":{"url":"x"},"response":{"content":{"text":"${b64(body)}","text":"${b64('{"d":"WORD"}')}","encoding":"BASE64"}}}`;
    const entries = [
      entry('a', b64(body)),
      twice,
      entry('c', 'WORD as utf8', 'utf8'),
      entry('d', b64(clean)),
    ];
    const engine = swapping('WORD', 'W');
    const walked = await run(engine, entries);
    const wrapped = framed(entries);
    const bytes = wrapped.subarray(1, wrapped.length - 1);
    const r = await processHarEntries(engine, wrapped, 0, SOURCE, base64Bodies(bytes, spansOf(entries)));
    expect(Buffer.from(r.output).toString('latin1')).toBe(walked.text);
    expect(walked.text).toContain(b64('{"d":"W"}'));
    // The first text of the entry with two is not a body (the last one is): left as it was, while
    // the same body in the first entry is redacted.
    const count = (t: string, sub: string) => t.split(sub).length - 1;
    expect(count(walked.text, b64(body))).toBe(1);
    expect(count(walked.text, b64(body.split('WORD').join('W')))).toBe(1);
  });
});

describe('processHarEntries with the real engine', () => {
  it('gives the same bytes and findings whether the engine puts the bodies back or they are found again', async () => {
    const engine = await testEngine();
    // The engine, counting the records it redacted with the bodies put back in the same pass.
    let edited = 0;
    const putting: Engine = {
      ...engine,
      processJson: async (input, source, out) => {
        const r = await engine.processJson(input, source, out);
        if (r.edited === true) edited++;
        return r;
      },
    };
    // The same engine, with the edits left out: the stand-ins found in its output (byMark).
    const without: Engine = {
      ...engine,
      processJson: (input, source, out) => {
        const { edits: _edits, ...rest } = out ?? {};
        return engine.processJson(input, source, rest);
      },
    };
    const tokens = [
      await jwsHS256({ sub: 'svc', iss: 'https://idp.example.com', exp: NOW() + 600 }),
      await jwsRS256({ ...k8sClaims(), exp: NOW() + 3600 }),
    ];
    const text = fc.oneof(
      fc.constantFrom('plain', 'WORD', `Bearer ${tokens[0]}`, `{"t":"${tokens[1]}"}`, `x ${tokens[1]} y`),
      fc.string({ maxLength: 20 }),
    );
    const harEntry = fc.record({
      url: fc.constantFrom('https://x/', `https://x/?access_token=${tokens[0]}`),
      header: fc.constantFrom('none', `Bearer ${tokens[1]}`),
      body: text,
      base64: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(harEntry, { minLength: 1, maxLength: 8 }), async (list) => {
        const entries = list.map((e) =>
          JSON.stringify({
            request: { url: e.url, headers: [{ name: 'authorization', value: e.header }] },
            response: {
              content: e.base64
                ? { text: Buffer.from(e.body).toString('base64'), encoding: 'base64' }
                : { text: e.body },
            },
          }),
        );
        const a = await processHarEntries(putting, framed(entries), 0, SOURCE);
        const b = await processHarEntries(without, framed(entries), 0, SOURCE);
        const out = Buffer.from(a.output).toString('latin1');
        expect(out).toBe(Buffer.from(b.output).toString('latin1'));
        const where = (fs: AnyFinding[]) =>
          fs.map((f) => `${f.source.pointer}|${'token' in f ? f.token.fingerprint : f.rule}`).sort();
        expect(where(a.findings)).toEqual(where(b.findings));
        // No token left, in the entries or in a body; the redacted entries still parse.
        const parsed = JSON.parse(out) as { response: { content: { text: string; encoding?: string } } }[];
        for (const e of parsed) {
          const c = e.response.content;
          const body = c.encoding === 'base64' ? Buffer.from(c.text, 'base64').toString() : c.text;
          for (const t of tokens) expect(body).not.toContain(t);
        }
        for (const t of tokens) expect(out).not.toContain(t);
      }),
      { numRuns: 60 },
    );
    expect(edited).toBeGreaterThan(10);
  });
});
