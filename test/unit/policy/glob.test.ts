// Globs in conditions: `*` only, exact and linear.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob, compileGlobList, literalLength } from '../../../src/policy/glob.ts';

/** The obvious (backtracking) reference: `*` -> `.*`, everything else literal. */
function reference(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.-]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
}

describe('compileGlob', () => {
  it.each([
    ['k8s-*', 'k8s-service-account', true],
    ['k8s-*', 'k8s-', true],
    ['k8s-*', 'gk8s-x', false],
    ['*-ci', 'gitlab-ci', true],
    ['pii.*', 'pii.email', true],
    ['pii.*', 'pii', false],
    ['a*b*a', 'aba', true],
    ['a*b*a', 'ab', false],
    ['a*a', 'a', false],
    ['*', '', true],
    ['header-*', 'header-jku', true],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
  ])('%s matches %s: %s', (pattern, value, expected) => {
    expect(compileGlob(pattern)(value)).toBe(expected);
  });

  it('agrees with the regular-expression reference', () => {
    const chars = fc.constantFrom('a', 'b', '-', '.');
    const pattern = fc
      .array(fc.constantFrom('a', 'b', '-', '.', '*'), { maxLength: 8 })
      .map((a) => a.join(''));
    const value = fc.array(chars, { maxLength: 12 }).map((a) => a.join(''));
    fc.assert(
      fc.property(pattern, value, (p, v) => {
        expect(compileGlob(p)(v)).toBe(reference(p).test(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('stays linear on input built to make a backtracking matcher explode', () => {
    // /^.*a.*a.*a.*a.*c.*b$/ on this input takes time polynomial in its length
    const match = compileGlob('*a*a*a*a*c*b');
    const value = `${'a'.repeat(200_000)}b`;
    const start = performance.now();
    expect(match(value)).toBe(false);
    expect(match(`${value.slice(0, -1)}cb`)).toBe(true);
    expect(performance.now() - start).toBeLessThan(250);
  });

  it('ranks specificity by literal characters', () => {
    expect(literalLength('identifier.sub*')).toBeGreaterThan(literalLength('identifier.*'));
  });
});

describe('compileGlobList', () => {
  it('matches any of exact names and globs', () => {
    const m = compileGlobList(['human', 'k8s-*', '*-ci']);
    expect(['human', 'k8s-service-account', 'gitlab-ci'].map(m)).toEqual([true, true, true]);
    expect(['humans', 'spiffe'].map(m)).toEqual([false, false]);
  });
});
