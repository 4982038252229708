// isPlainJson lets the native formatter skip toJson's copy: it must only say yes where
// JSON.stringify writes a value exactly as it writes toJson's copy of it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlainJson, toJson } from '../../../src/findings/json.ts';

describe('isPlainJson', () => {
  it('says yes only where JSON.stringify(value) equals JSON.stringify(toJson(value))', () => {
    const leaf = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.double(),
      fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, undefined, null, true),
      fc.bigInt(),
      fc.date({ noInvalidDate: true }),
      fc.uint8Array({ maxLength: 4 }).map((a) => Buffer.from(a)),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
      array: fc.array(tie('node'), { maxLength: 4 }),
      object: fc.dictionary(fc.string({ maxLength: 6 }), tie('node'), { maxKeys: 4 }),
    })).node;
    let yes = 0;
    fc.assert(
      fc.property(value, (v) => {
        if (!isPlainJson(v)) return;
        yes++;
        expect(JSON.stringify(v)).toBe(JSON.stringify(toJson(v)));
      }),
      { numRuns: 3_000 },
    );
    expect(yes).toBeGreaterThan(300); // the property was exercised, not vacuously true
  });

  it('says no to what toJson may write differently, and to what it does not look into', () => {
    for (const v of [
      { a: 1n },
      { d: new Date(0) },
      { b: Buffer.from('x') },
      { f: () => 1 },
      [undefined],
      { a: { b: { c: { d: 1 } } } }, // deeper than it looks
      JSON.parse('{"__proto__":{"x":1}}'),
    ])
      expect(isPlainJson(v)).toBe(false);
    expect(
      isPlainJson({ s: 'x', n: -0, nan: Number.NaN, u: undefined, a: ['y', 2, null], o: { k: true } }),
    ).toBe(true);
  });
});
