// createFindingFormatter must write exactly what formatFinding writes, also when it reuses the
// formatted analysis part of a token seen before (native format).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFindingFormatter, FINDING_FORMATS, formatFinding } from '../../../src/findings/index.ts';
import type { Finding } from '../../../src/model.ts';
import { anyFinding, finding, source } from './arbitraries.ts';
import { ERROR_FINDING, FINDING, NESTED_FINDING, OPTS } from './fixtures.ts';

const runs = { numRuns: 300 };

describe('createFindingFormatter', () => {
  it('writes the fixtures byte for byte as formatFinding, first and second time', () => {
    for (const format of FINDING_FORMATS) {
      const format1 = createFindingFormatter(format, OPTS);
      for (const f of [FINDING, NESTED_FINDING, ERROR_FINDING, FINDING, NESTED_FINDING, ERROR_FINDING])
        expect(format1(f)).toBe(formatFinding(format, f, OPTS));
    }
  });

  it('writes a native token finding as one JSON object in schema order', () => {
    const text = createFindingFormatter('native')(NESTED_FINDING);
    expect(Object.keys(JSON.parse(text) as object).join(' ')).toBe(
      'schema id time rule severity source token header claims classification status risks frameworks action inner',
    );
  });

  it('matches formatFinding over random findings, with one formatter for the whole sequence', () => {
    fc.assert(
      fc.property(fc.array(anyFinding, { minLength: 1, maxLength: 6 }), (fs) => {
        for (const format of FINDING_FORMATS) {
          const format1 = createFindingFormatter(format, OPTS);
          for (const f of [...fs, ...fs]) expect(format1(f)).toBe(formatFinding(format, f, OPTS));
        }
      }),
      runs,
    );
  });

  it.each(['native', 'ocsf', 'ecs'] as const)(
    'reuses an analysis only for the same analysis: another id, time, source or token block shows (%s)',
    (format) => {
      fc.assert(
        fc.property(finding, source, fc.string(), fc.nat(), (f, src, id, length) => {
          const format1 = createFindingFormatter(format, OPTS);
          // The engine's shape: the same analysis objects, another record's head.
          const again: Finding = {
            ...f,
            id,
            time: '2030-01-01T00:00:00.000Z',
            source: src,
            token: { ...f.token, length },
          };
          expect(format1(f)).toBe(formatFinding(format, f, OPTS));
          expect(format1(again)).toBe(formatFinding(format, again, OPTS));
          expect(format1(f)).toBe(formatFinding(format, f, OPTS));
        }),
        runs,
      );
    },
  );

  it('cuts claims nested around the depth limit exactly as formatFinding does, in every format', () => {
    // Nestings from well below to past the limit (100 levels from the record), so that an
    // off-by-a-few depth in a fast path shows as a difference.
    for (let levels = 90; levels <= 110; levels++) {
      let deep: Record<string, unknown> = { leaf: 'x' };
      for (let i = 0; i < levels; i++) deep = { d: deep, [`k${i}`]: [i] };
      const f: Finding = { ...FINDING, claims: { deep } as Finding['claims'] };
      for (const format of FINDING_FORMATS) {
        expect(createFindingFormatter(format, OPTS)(f)).toBe(formatFinding(format, f, OPTS));
      }
    }
  });

  it('keeps a stand-in out of the text even when a claim holds text shaped like one', () => {
    const format1 = createFindingFormatter('ocsf', OPTS);
    const sly: Finding = { ...FINDING, claims: { note: 'jwtr-sighting-000000000000000000000000-0' } };
    const again: Finding = { ...sly, id: 'second', source: { kind: 'stdin', name: '-' } };
    expect(format1(sly)).toBe(formatFinding('ocsf', sly, OPTS));
    expect(format1(again)).toBe(formatFinding('ocsf', again, OPTS));
  });

  it.each(['native', 'ocsf', 'ecs'] as const)(
    'does not reuse the text when one part of the analysis is another object (%s)',
    (format) => {
      const format1 = createFindingFormatter(format, OPTS);
      expect(format1(FINDING)).toBe(formatFinding(format, FINDING, OPTS));
      const variants: Finding[] = [
        { ...FINDING, claims: { ...FINDING.claims, extra: 1 } },
        { ...FINDING, header: { alg: 'none' } },
        { ...FINDING, status: { ...FINDING.status, expired: !FINDING.status.expired } },
        { ...FINDING, risks: [] },
        { ...FINDING, frameworks: [] },
        { ...FINDING, action: FINDING.action === 'mask' ? 'hash' : 'mask' },
        { ...FINDING, inner: NESTED_FINDING.inner! },
      ];
      for (const v of variants) {
        const text = format1(v);
        expect(text).toBe(formatFinding(format, v, OPTS));
        expect(text).not.toBe(formatFinding(format, FINDING, OPTS));
      }
    },
  );
});
