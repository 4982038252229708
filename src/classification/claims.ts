// Classifies every claim of a payload: a top-level entry per claim (by name), and an entry per
// nested leaf (by RFC 6901 pointer). Claims may be hostile (100k keys, 10k levels, megabyte
// strings), so the walk is iterative, breadth-first and bounded in depth, nodes and entries.
import type { ClaimCategory, JsonObject, JsonValue } from '../model.ts';
import { PUBLIC, UNCLASSIFIED } from './categories.ts';
import { type CompiledClaimRules, ruleFor } from './claim-rules.ts';
import { escapeSegment, parsePointer } from './json-pointer.ts';
import type { ValueDetector } from './value-detectors.ts';

export interface WalkLimits {
  /** Nesting below this depth is not walked: the node is one leaf (unclassified unless a rule says). */
  maxDepth: number;
  /** Nodes visited per payload. */
  maxNodes: number;
  /** Entries in the classification map. Claims left out must be treated as unclassified. */
  maxEntries: number;
  /** Elements of a scalar array that value detectors look at. */
  maxArrayScan: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = {
  maxDepth: 32,
  maxNodes: 20_000,
  maxEntries: 4096,
  maxArrayScan: 64,
};

export interface ClaimClassifier {
  readonly rules: CompiledClaimRules;
  readonly detectors: readonly ValueDetector[];
  readonly rank: (category: ClaimCategory) => number;
  readonly limits: WalkLimits;
}

interface Frame {
  value: JsonValue;
  /** Segments from the root: 1 for a top-level claim. */
  depth: number;
  pointer: string;
  /** The object key this node sits under (undefined for array elements). */
  name: string | undefined;
  /** The category of the nearest ancestor a rule classified. */
  inherited: ClaimCategory | undefined;
  top: string;
}

type Scalar = string | number | boolean | null;

function isScalar(v: JsonValue): v is Scalar {
  return v === null || typeof v !== 'object';
}

/**
 * Memo of pure per-classifier answers. Claim names and values recur across tokens (issuers,
 * audiences, scopes, namespaces), and what the detectors and the name rules say about them
 * depends on nothing else. Bounded: a full map is emptied.
 */
interface Memo {
  /** `detect` of one string: key = name (length-prefixed), ruled flag, value. */
  values: Map<string, ClaimCategory | null>;
  /** `ruleFor` of a node by its pointer: nodes with a name (object members) and without (array items). */
  named: Map<string, ClaimCategory | null>;
  unnamed: Map<string, ClaimCategory | null>;
}
const MEMO_MAX = 8192;
/** Longer values are not remembered (the key would cost what it saves). */
const MEMO_TEXT = 256;
const memos = new WeakMap<ClaimClassifier, Memo>();

function memoOf(c: ClaimClassifier): Memo {
  let m = memos.get(c);
  if (m === undefined) {
    m = { values: new Map(), named: new Map(), unnamed: new Map() };
    memos.set(c, m);
  }
  return m;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MEMO_MAX) map.clear();
  map.set(key, value);
}

/** The first detector that fires on one string, or undefined. */
function detectOne(c: ClaimClassifier, s: string, name: string | undefined, ruled: boolean) {
  for (const d of c.detectors) {
    if (d.appliesTo === 'unmatched' && ruled) continue;
    const found = d.detect(s, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

function detectMemo(
  c: ClaimClassifier,
  memo: Memo,
  s: string,
  name: string | undefined,
  ruled: boolean,
): ClaimCategory | undefined {
  if (s.length > MEMO_TEXT || (name !== undefined && name.length > MEMO_TEXT))
    return detectOne(c, s, name, ruled);
  const key = `${name === undefined ? '-' : `${name.length}:${name}`}${ruled ? '1' : '0'}${s}`;
  const hit = memo.values.get(key);
  if (hit !== undefined) return hit ?? undefined;
  const found = detectOne(c, s, name, ruled);
  remember(memo.values, key, found ?? null);
  return found;
}

/** What a value detector says about a leaf (a scalar or a scalar array). */
function detect(c: ClaimClassifier, value: Scalar | Scalar[], name: string | undefined, ruled: boolean) {
  const memo = memoOf(c);
  if (typeof value === 'string') return detectMemo(c, memo, value, name, ruled);
  let best: ClaimCategory | undefined;
  let bestRank = -1;
  if (Array.isArray(value)) {
    const n = Math.min(value.length, c.limits.maxArrayScan);
    for (let i = 0; i < n; i++) {
      const v = value[i];
      if (typeof v !== 'string') continue;
      const found = detectMemo(c, memo, v, name, ruled);
      if (found !== undefined) {
        const r = c.rank(found);
        if (r > bestRank) {
          best = found;
          bestRank = r;
        }
      }
    }
  }
  return best;
}

/** The segments of a pointer this walk built (escapeSegment per segment): parsePointer inverts it. */
function segmentsOf(pointer: string): string[] {
  return parsePointer(pointer)!;
}

/**
 * `ruleFor`, remembered by pointer and whether the node has a name. The segments follow from the
 * pointer and are made only when the rules are asked.
 */
function ruleOf(
  c: ClaimClassifier,
  pointer: string,
  name: string | undefined,
  topLevel = false,
): ClaimCategory | undefined {
  // A top-level claim's only segment is its name (no parse of a long name).
  const segments = () => (topLevel ? [name!] : segmentsOf(pointer));
  if (pointer.length > MEMO_TEXT) return ruleFor(c.rules, pointer, segments(), name);
  const memo = memoOf(c);
  const map = name === undefined ? memo.unnamed : memo.named;
  const hit = map.get(pointer);
  if (hit !== undefined) return hit ?? undefined;
  const rule = ruleFor(c.rules, pointer, segments(), name);
  remember(map, pointer, rule ?? null);
  return rule;
}

function leafCategory(
  c: ClaimClassifier,
  value: Scalar | Scalar[],
  name: string | undefined,
  rule: ClaimCategory | undefined,
  inherited: ClaimCategory | undefined,
): ClaimCategory {
  const base = rule ?? inherited;
  const found = detect(c, value, name, rule !== undefined);
  if (base === undefined) return found ?? UNCLASSIFIED;
  return found !== undefined && c.rank(found) > c.rank(base) ? found : base;
}

export function classifyClaims(c: ClaimClassifier, claims: JsonObject): Record<string, ClaimCategory> {
  const out = Object.create(null) as Record<string, ClaimCategory>;
  const { maxDepth, maxNodes, maxEntries } = c.limits;
  let entries = 0;
  let nodes = 0;
  // Summary of a top-level container without a rule of its own: its most sensitive leaf.
  const summary = new Map<string, ClaimCategory>();
  const raise = (top: string, category: ClaimCategory) => {
    const cur = summary.get(top);
    if (cur === undefined || c.rank(cur) >= c.rank(category)) return;
    summary.set(top, category);
    out[top] = category;
  };
  const put = (key: string, category: ClaimCategory) => {
    if (entries >= maxEntries) return false;
    out[key] = category;
    entries++;
    return true;
  };

  const queue: Frame[] = [];
  for (const key in claims) {
    if (!Object.hasOwn(claims, key)) continue;
    if (++nodes > maxNodes || entries >= maxEntries) break;
    const value = claims[key]!;
    const pointer = '/' + escapeSegment(key);
    const rule = ruleOf(c, pointer, key, true);
    if (isScalar(value) || (Array.isArray(value) && value.every(isScalar))) {
      put(key, leafCategory(c, value as Scalar | Scalar[], key, rule, undefined));
    } else if (isEmpty(value)) {
      put(key, rule ?? PUBLIC);
    } else {
      put(key, rule ?? PUBLIC);
      if (rule === undefined) summary.set(key, PUBLIC);
      queue.push({ value, depth: 1, pointer, name: key, inherited: rule, top: key });
    }
  }

  // Breadth-first, so shallow claims are classified before a deep one eats the budget.
  for (let head = 0; head < queue.length; head++) {
    const frame = queue[head]!;
    const { value, depth, pointer, inherited, top } = frame;
    const childDepth = depth + 1;
    const visit = (childValue: JsonValue, seg: string, name: string | undefined): boolean => {
      if (++nodes > maxNodes || entries >= maxEntries) {
        raise(top, UNCLASSIFIED);
        return false;
      }
      const childPointer = pointer + '/' + escapeSegment(seg);
      const rule = ruleOf(c, childPointer, name);
      if (isScalar(childValue) || (Array.isArray(childValue) && childValue.every(isScalar))) {
        const category = leafCategory(c, childValue as Scalar | Scalar[], name, rule, inherited);
        put(childPointer, category);
        raise(top, category);
      } else if (isEmpty(childValue)) {
        const category = rule ?? inherited ?? PUBLIC;
        put(childPointer, category);
        raise(top, category);
      } else if (childDepth >= maxDepth) {
        const category = rule ?? inherited ?? UNCLASSIFIED;
        put(childPointer, category);
        raise(top, category === PUBLIC ? UNCLASSIFIED : category);
      } else {
        queue.push({
          value: childValue,
          depth: childDepth,
          pointer: childPointer,
          name,
          inherited: rule ?? inherited,
          top,
        });
      }
      return true;
    };
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (!visit(value[i]!, String(i), undefined)) break;
    } else {
      const obj = value as JsonObject;
      for (const key in obj) {
        if (!Object.hasOwn(obj, key)) continue;
        if (!visit(obj[key]!, key, key)) break;
      }
    }
    if (nodes > maxNodes || entries >= maxEntries) {
      // Whatever is still queued was not walked: its top-level claim counts as unclassified.
      for (let rest = head + 1; rest < queue.length; rest++) raise(queue[rest]!.top, UNCLASSIFIED);
      break;
    }
  }
  return out;
}

function isEmpty(v: JsonValue): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (v === null || typeof v !== 'object') return false;
  for (const k in v) if (Object.hasOwn(v, k)) return false;
  return true;
}
