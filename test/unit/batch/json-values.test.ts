// Small top-level values of a JSON text sequence go to the engine as one `json-values` job (the
// splitter batches them). It must give what one `json` job per value gave: the same output bytes and
// the same findings (lines, pointers, ids from each value's offset), whether the batch holds a token
// or not, values pretty-printed over several lines or not, a value that is not UTF-8 included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Job, type JobResult, runJob } from '../../../src/batch/jobs.ts';
import type { JsonValue, SourceRef } from '../../../src/model.ts';
import type { Engine } from '../../../src/pipeline/types.ts';
import { createEngineDouble, fakeToken } from './engine-double.ts';

const TOKENS = [fakeToken({ sub: 'a' }), fakeToken({ sub: 'b', scope: 'x y' })];
const source: SourceRef = { kind: 'file', name: 'seq.json' };

const leaf = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 6 }),
  fc.constantFrom(...TOKENS).map((t) => `Bearer ${t}`),
);
const value: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'k', 'tok', 'x/y'), tie('v'), { maxKeys: 3 }),
  ),
})).v;
const written = fc
  .tuple(value, fc.constantFrom(undefined, 2))
  .map(([v, indent]) => JSON.stringify(v, null, indent));
const separator = fc.constantFrom(' ', '\n', '\r\n', '\n\n  ', '\t');

/** One `json` job per value, as before batching: the bytes between values pass as they are. */
async function oneByOne(
  values: string[],
  separators: string[],
): Promise<{ output: Buffer; findings: unknown[] }> {
  const engine = createEngineDouble();
  const parts: Uint8Array[] = [];
  const findings: unknown[] = [];
  let at = 0;
  let line = 1;
  for (const [k, v] of values.entries()) {
    const bytes = Buffer.from(v);
    const job: Job = {
      op: 'json',
      bytes,
      source: k > 0 ? { ...source, line } : source,
      kind: 'value',
      pointer: '',
      firstIndex: 0,
      at,
      har: false,
    };
    const r: JobResult = await runJob(engine, job);
    parts.push(r.output, Buffer.from(separators[k]!));
    findings.push(...r.findings);
    const after = v + separators[k]!;
    at += Buffer.byteLength(after);
    line += after.split('\n').length - 1;
  }
  return { output: Buffer.concat(parts), findings };
}

/** The values, each followed by its separator, as one json-values job from the start of a document. */
function batched(values: string[], separators: string[], engine: Engine): Promise<JobResult> {
  const bytes = Buffer.from(values.map((v, k) => v + separators[k]).join(''));
  return runJob(engine, { op: 'json-values', bytes, source, at: 0, line: 1, topIndex: 0, lines: true });
}

describe('json-values jobs', () => {
  it('give what one json job per value gave: output bytes and findings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.array(fc.tuple(written, separator), { minLength: 1, maxLength: 8 }),
          // across groups of 64 values
          fc.array(fc.tuple(written, separator), { minLength: 60, maxLength: 140 }),
        ),
        async (pairs) => {
          const values = pairs.map(([v]) => v);
          const separators = pairs.map(([, s]) => s);
          const expected = await oneByOne(values, separators);
          const r = await batched(values, separators, createEngineDouble());
          expect(Buffer.from(r.output)).toEqual(expected.output);
          expect(r.findings).toEqual(expected.findings);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('take the batch as it is when it holds no token, and go value by value when it does', async () => {
    const calls: string[] = [];
    const engine = createEngineDouble({ calls });
    const clean = Buffer.from('{"a":1} [2] "x"\n');
    const r = await runJob(engine, {
      op: 'json-values',
      bytes: clean,
      source,
      at: 0,
      line: 1,
      topIndex: 0,
      lines: true,
    });
    expect(r.output).toBe(clean);
    expect(calls).toEqual(['text']);
    calls.length = 0;
    const dirty = Buffer.from(`{"a":1} ["${TOKENS[0]}"] "x"\n`);
    const d = await runJob(engine, {
      op: 'json-values',
      bytes: dirty,
      source,
      at: 100,
      line: 7,
      topIndex: 3,
      lines: true,
    });
    expect(calls).toEqual(['text', 'text', 'json', 'json', 'json']);
    expect(d.findings.map((f) => f.source)).toEqual([{ ...source, line: 7, pointer: '/0' }]);
  });

  it('go value by value only through the groups of 64 values that hold a token, with the same result', async () => {
    const values = Array.from({ length: 130 }, (_, i) =>
      i === 64 ? JSON.stringify({ i, t: TOKENS[1] }) : i % 9 === 0 ? `{\n"i": ${i}}` : `{"i":${i}}`,
    );
    const separators = values.map((_, i) => (i % 5 === 0 ? '\n' : ' '));
    const calls: string[] = [];
    const r = await batched(values, separators, createEngineDouble({ calls }));
    // the whole, then each group: 0-63 clean, 64-127 value by value (the token is the first of them, which
    // gets its line only when the skipped group was counted), 128-129 clean
    expect(calls).toEqual(['text', 'text', 'text', ...Array(64).fill('json'), 'text']);
    const expected = await oneByOne(values, separators);
    expect(Buffer.from(r.output)).toEqual(expected.output);
    expect(r.findings).toEqual(expected.findings);
    expect(r.findings).toHaveLength(1);
  });
});
