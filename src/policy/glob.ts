// Globs in policy conditions: `*` (any run of characters, also none) and literal characters.
// Compiled once at load time into a plain predicate. Matching a `*`-only glob greedily,
// leftmost part first, is exact and linear in the input: no regular expression, no backtracking.

export type Predicate = (value: string) => boolean;

export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

/** Characters a glob pattern spells literally; the number that ranks a more specific glob first. */
export function literalLength(pattern: string): number {
  let n = 0;
  for (const c of pattern) if (c !== '*') n++;
  return n;
}

export function compileGlob(pattern: string): Predicate {
  if (!isGlob(pattern)) return (value) => value === pattern;
  if (pattern === '*') return () => true;
  const parts = pattern.split('*');
  const prefix = parts[0]!;
  const suffix = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p.length > 0);
  const fixed = prefix.length + suffix.length;
  return (value) => {
    if (value.length < fixed || !value.startsWith(prefix) || !value.endsWith(suffix)) return false;
    let at = prefix.length;
    const end = value.length - suffix.length;
    for (const part of middle) {
      const found = value.indexOf(part, at);
      if (found < 0 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
}

/** One predicate for a list of patterns: exact names through a Set, globs one by one. */
export function compileGlobList(patterns: readonly string[]): Predicate {
  const exact = new Set<string>();
  const globs: Predicate[] = [];
  for (const p of patterns) {
    if (isGlob(p)) globs.push(compileGlob(p));
    else exact.add(p);
  }
  if (globs.length === 0) return (value) => exact.has(value);
  return (value) => {
    if (exact.has(value)) return true;
    for (const g of globs) if (g(value)) return true;
    return false;
  };
}
