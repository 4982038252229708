// Claim-name rules: exact names, globs and RFC 6901 pointers into nested claims -> category.
import type { ClaimCategory } from '../model.ts';
import { compileGlob, GLOB_MAX_TEXT, type Glob, isGlob } from './glob.ts';
import { parsePointer, pointerOf } from './json-pointer.ts';
import type { Checker, Path } from './schema.ts';

export interface ClaimRuleSpec {
  names: string[];
  pointers: string[];
  category: ClaimCategory;
  topLevel: boolean;
}

interface PointerPattern {
  /** Segments; `*` matches one segment. */
  segments: readonly string[];
  /** The pattern ended in `**`: it also matches anything below. */
  subtree: boolean;
  category: ClaimCategory;
}

export interface CompiledClaimRules {
  /** Exact top-level names (any rule) and nested names (rules without `top_level`). */
  readonly topNames: ReadonlyMap<string, ClaimCategory>;
  readonly nestedNames: ReadonlyMap<string, ClaimCategory>;
  readonly topGlobs: readonly (readonly [Glob, ClaimCategory])[];
  readonly nestedGlobs: readonly (readonly [Glob, ClaimCategory])[];
  readonly pointers: ReadonlyMap<string, ClaimCategory>;
  readonly pointerPatterns: readonly PointerPattern[];
}

const RULE_KEYS = ['name', 'names', 'pointer', 'pointers', 'category', 'top_level', 'description'] as const;

/** A pointer rule: RFC 6901, where a segment `*` is any one segment and a last `**` any subtree. */
function checkPointer(c: Checker, value: unknown, path: Path): string {
  const s = c.string(value, path);
  if (!s.startsWith('/') || parsePointer(s) === undefined) {
    throw c.src.error(path, `"${s}" is not an RFC 6901 JSON pointer (starts with /, ~ only as ~0 or ~1)`);
  }
  return s;
}

export function parseClaimRule(
  c: Checker,
  value: unknown,
  path: Path,
  checkCategory: (v: unknown, p: Path) => ClaimCategory,
): ClaimRuleSpec {
  const m = c.map(value, path, RULE_KEYS, ['category']);
  if (m['description'] !== undefined) c.string(m['description'], [...path, 'description']);
  const names: string[] = [];
  const pointers: string[] = [];
  const nameSyntax = /^.{1,256}$/s;
  if (m['name'] !== undefined) names.push(c.string(m['name'], [...path, 'name'], nameSyntax, 'a claim name'));
  if (m['names'] !== undefined)
    names.push(...c.stringList(m['names'], [...path, 'names'], nameSyntax, 'a claim name'));
  if (m['pointer'] !== undefined) pointers.push(checkPointer(c, m['pointer'], [...path, 'pointer']));
  if (m['pointers'] !== undefined) {
    c.list(m['pointers'], [...path, 'pointers']).forEach((p, i) => {
      pointers.push(checkPointer(c, p, [...path, 'pointers', i]));
    });
  }
  if (names.length === 0 && pointers.length === 0) {
    throw c.src.error(path, 'a claim rule needs at least one of name, names, pointer, pointers');
  }
  return {
    names,
    pointers,
    category: checkCategory(m['category'], [...path, 'category']),
    topLevel: m['top_level'] === undefined ? false : c.boolean(m['top_level'], [...path, 'top_level']),
  };
}

/** Compiles rules in precedence order: for each kind of match, the first rule that names it wins. */
export function compileClaimRules(specs: readonly ClaimRuleSpec[]): CompiledClaimRules {
  const topNames = new Map<string, ClaimCategory>();
  const nestedNames = new Map<string, ClaimCategory>();
  const topGlobs: [Glob, ClaimCategory][] = [];
  const nestedGlobs: [Glob, ClaimCategory][] = [];
  const pointers = new Map<string, ClaimCategory>();
  const pointerPatterns: PointerPattern[] = [];
  const setFirst = (map: Map<string, ClaimCategory>, key: string, category: ClaimCategory) => {
    if (!map.has(key)) map.set(key, category);
  };
  for (const spec of specs) {
    for (const name of spec.names) {
      if (isGlob(name)) {
        const g = compileGlob(name, true);
        topGlobs.push([g, spec.category]);
        if (!spec.topLevel) nestedGlobs.push([g, spec.category]);
      } else {
        setFirst(topNames, name, spec.category);
        if (!spec.topLevel) setFirst(nestedNames, name, spec.category);
      }
    }
    for (const pointer of spec.pointers) {
      const segments = parsePointer(pointer)!;
      const subtree = segments[segments.length - 1] === '**';
      if (subtree || segments.includes('*')) {
        pointerPatterns.push({
          segments: subtree ? segments.slice(0, -1) : segments,
          subtree,
          category: spec.category,
        });
      } else setFirst(pointers, pointerOf(segments), spec.category);
    }
  }
  return { topNames, nestedNames, topGlobs, nestedGlobs, pointers, pointerPatterns };
}

function patternMatches(p: PointerPattern, segments: readonly string[]): boolean {
  if (p.subtree ? segments.length <= p.segments.length : segments.length !== p.segments.length) return false;
  for (let i = 0; i < p.segments.length; i++) {
    const want = p.segments[i]!;
    if (want !== '*' && want !== segments[i]) return false;
  }
  return true;
}

/** The category a rule gives the node at `pointer`: pointer rules first, then the key's name. */
export function ruleFor(
  rules: CompiledClaimRules,
  pointer: string,
  segments: readonly string[],
  name: string | undefined,
): ClaimCategory | undefined {
  const byPointer = rules.pointers.get(pointer);
  if (byPointer !== undefined) return byPointer;
  for (const p of rules.pointerPatterns) if (patternMatches(p, segments)) return p.category;
  if (name === undefined) return undefined;
  const top = segments.length === 1;
  const byName = (top ? rules.topNames : rules.nestedNames).get(name);
  if (byName !== undefined) return byName;
  const globs = top ? rules.topGlobs : rules.nestedGlobs;
  if (globs.length === 0 || name.length > GLOB_MAX_TEXT) return undefined;
  const folded = name.toLowerCase(); // name globs ignore case
  for (const [g, category] of globs) if (g.matchFolded(folded)) return category;
  return undefined;
}
