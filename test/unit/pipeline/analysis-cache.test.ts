// The analysis cache: bounded, oldest-first eviction in the Map's order (an expired entry that is
// analysed again keeps its place), entries fresh for the TTL. Checked against a model of that rule.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadClassificationRules } from '../../../src/classification/index.ts';
import { scan, type TokenItem, tokensOf } from '../../../src/detection/index.ts';
import { createAnalyzer } from '../../../src/pipeline/analyze.ts';
import { loadPolicy } from '../../../src/policy/index.ts';
import { createFingerprinter } from '../../../src/redaction/index.ts';
import { craft } from '../classification/fixtures.ts';

const rules = loadClassificationRules();
const policy = loadPolicy(['default'], { categories: [...rules.categories.keys()] });
const fp = createFingerprinter(Buffer.alloc(32, 3), 'k');
const items: TokenItem[] = Array.from({ length: 8 }, (_, i) => {
  const token = craft({ alg: 'ES256' }, { sub: `s-${i}` });
  return tokensOf(scan(Buffer.from(token)).items)[0]!;
});

/** The rule as first written: delete the Map's first key when full, then set. */
function model(size: number, ttl: number) {
  const m = new Map<string, number>();
  return {
    analyze(token: string, now: number) {
      const hit = m.get(token);
      if (hit !== undefined && now - hit < ttl) return;
      if (m.size >= size) m.delete(m.keys().next().value as string);
      m.set(token, now);
    },
    fresh(now: number) {
      return [...m].filter(([, at]) => now - at < ttl).map(([t]) => t);
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('analysis cache', () => {
  it('keeps and evicts exactly as the model says', async () => {
    vi.useFakeTimers();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.oneof(fc.nat({ max: 7 }), fc.constant(-1)), { maxLength: 150 }),
        async (size, ops) => {
          const ttl = 100;
          vi.setSystemTime(1_000_000);
          const analyzer = createAnalyzer({
            policy,
            rules,
            fingerprinter: fp,
            cacheSize: size,
            cacheTtlMs: ttl,
          });
          const ref = model(size, ttl);
          for (const op of ops) {
            if (op === -1) vi.setSystemTime(Date.now() + 60);
            else {
              await analyzer.analyze(items[op]!);
              ref.analyze(items[op]!.token, Date.now());
            }
            const fresh = items.filter((it) => analyzer.cached(it.token) !== undefined).map((it) => it.token);
            expect(new Set(fresh)).toEqual(new Set(ref.fresh(Date.now())));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
