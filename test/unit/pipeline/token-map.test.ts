// TokenMap: the same answers as a Map<string, V> for any sequence of operations, including keys that
// share their sampled characters (one bucket, then the spill map).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenMap } from '../../../src/pipeline/token-map.ts';

// Keys of length 40 that differ only at positions the sample does not read (1, 2, 3, 5): every
// one of them falls into the same bucket.
const colliding = fc
  .tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('x', 'y'), fc.constantFrom('p', 'q'))
  .map(([a, b, c]) => `e${a}${b}${c}-${c}${'z'.repeat(34)}`);
const key = fc.oneof(colliding, fc.string({ maxLength: 30 }), fc.constantFrom('', 'a', 'eyJ'));
const op = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.nat() }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('get' as const), key }),
);

describe('TokenMap', () => {
  it('answers as a Map does', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const m = new Map<string, number>();
        const t = new TokenMap<number>();
        for (const o of ops) {
          if (o.op === 'set') {
            m.set(o.key, o.value);
            t.set(o.key, o.value);
          } else if (o.op === 'delete') expect(t.delete(o.key)).toBe(m.delete(o.key));
          expect(t.get(o.key)).toBe(m.get(o.key));
          expect(t.has(o.key)).toBe(m.has(o.key));
          expect(t.size).toBe(m.size);
        }
        for (const [k, v] of m) expect(t.get(k)).toBe(v);
      }),
      { numRuns: 500 },
    );
  });

  it('spills keys sharing a sample past the bucket bound, and finds them', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => `e${c}${'z'.repeat(38)}`);
    const t = new TokenMap<number>();
    for (const [i, k] of keys.entries()) t.set(k, i);
    expect(keys.map((k) => t.get(k))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(t.delete(keys[0]!)).toBe(true);
    t.set('enew'.padEnd(40, 'z'), 9);
    expect(keys.map((k) => t.get(k))).toEqual([undefined, 1, 2, 3, 4, 5]);
    expect(t.get('enew'.padEnd(40, 'z'))).toBe(9);
    expect(t.size).toBe(6);
  });
});
