import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createFindingWriter,
  FINDING_FORMATS,
  formatFinding,
  formatObject,
  renderSummary,
  summarize,
  toEcs,
  toOcsf,
  toSarifLog,
} from '../../../src/findings/index.ts';
import { anyFinding } from './arbitraries.ts';
import { OPTS } from './fixtures.ts';
import { ecsProblems, ocsfProblems, sarifProblems } from './schema-checks.ts';

const runs = { numRuns: 300 };

describe('properties of every format, over random findings', () => {
  it('serializes to JSON that reads back as the same object', () => {
    fc.assert(
      fc.property(anyFinding, (f) => {
        for (const format of FINDING_FORMATS) {
          const obj = formatObject(format, f, OPTS);
          const text = formatFinding(format, f, OPTS);
          // toEqual, not toStrictEqual: the latter compares a `constructor` claim as if it were the class.
          expect(JSON.parse(text)).toEqual(obj);
          expect(JSON.stringify(JSON.parse(text))).toBe(JSON.stringify(obj));
          expect(text).not.toMatch(/[\n\r\u2028\u2029]/);
        }
      }),
      runs,
    );
  });

  it('is deterministic: same finding, same bytes, also from a deep copy', () => {
    fc.assert(
      fc.property(anyFinding, (f) => {
        const copy = structuredClone(f);
        for (const format of FINDING_FORMATS) {
          expect(formatFinding(format, copy, OPTS)).toBe(formatFinding(format, f, OPTS));
        }
      }),
      runs,
    );
  });

  it('does not modify the finding it formats', () => {
    fc.assert(
      fc.property(anyFinding, (f) => {
        const before = structuredClone(f);
        for (const format of FINDING_FORMATS) formatObject(format, f, OPTS);
        summarize([f]);
        expect(f).toEqual(before);
      }),
      runs,
    );
  });

  it('keeps OCSF, SARIF and ECS records well-formed', () => {
    fc.assert(
      fc.property(fc.array(anyFinding, { maxLength: 6 }), (fs) => {
        for (const f of fs) {
          expect(ocsfProblems(toOcsf(f, OPTS))).toEqual([]);
          expect(ecsProblems(toEcs(f, OPTS))).toEqual([]);
        }
        expect(sarifProblems(toSarifLog(fs, OPTS))).toEqual([]);
      }),
      runs,
    );
  });

  it('never copies a property that is not part of the finding schema', () => {
    const marker = 'LEAK-MARKER-5f1c';
    fc.assert(
      fc.property(anyFinding, (f) => {
        const polluted = {
          ...f,
          raw: marker,
          detection: { token: marker },
          source: { ...f.source, record: marker },
          ...('token' in f
            ? { token: { ...f.token, value: marker } }
            : { error: { ...f.error, stack: marker } }),
        };
        for (const format of FINDING_FORMATS) {
          expect(formatFinding(format, polluted, OPTS)).not.toContain(marker);
        }
      }),
      runs,
    );
  });

  it('writes as many JSON Lines as findings, and one SARIF document', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyFinding, { maxLength: 8 }), async (fs) => {
        for (const format of FINDING_FORMATS) {
          const chunks: string[] = [];
          const w = createFindingWriter(format, { write: (s) => chunks.push(s) }, OPTS);
          for (const f of fs) w.write(f);
          await w.end();
          const text = chunks.join('');
          if (format === 'sarif') {
            expect(JSON.parse(text)).toEqual(toSarifLog(fs, OPTS));
          } else {
            const lines = text.split('\n').slice(0, -1);
            expect(lines.map((l) => JSON.parse(l))).toEqual(fs.map((f) => formatObject(format, f, OPTS)));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('summarizes consistently and renders without control characters', () => {
    fc.assert(
      fc.property(fc.array(anyFinding, { maxLength: 12 }), (fs) => {
        const s = summarize(fs);
        const total = Object.values(s.bySeverity).reduce((a, b) => a + b, 0);
        expect(total).toBe(fs.length);
        expect(s.byRule.reduce((a, c) => a + c.count, 0)).toBe(fs.length);
        expect(s.byIdentity.reduce((a, c) => a + c.count, 0)).toBe(fs.length - s.errors);
        const firstDead = s.tokens.findIndex((t) => !t.live);
        expect(firstDead === -1 || s.tokens.slice(firstDead).every((t) => !t.live)).toBe(true);
        expect(renderSummary(s).slice(0, -1)).not.toMatch(
          /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/,
        );
      }),
      runs,
    );
  });
});
