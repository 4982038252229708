// Layers -> one Policy. Merging happens once, at load time: later layers override earlier ones,
// rules are prepended or replaced by id, and every condition becomes a precompiled predicate so
// that `decide` is a short loop over closures.
import type { Action, Severity } from '../model.ts';
import { ConfigError } from '../util/errors.ts';
import type { YamlSource } from '../util/yaml.ts';
import { applyFloor, tokenStatus } from './floor.ts';
import { compileGlob, compileGlobList, isGlob, literalLength, type Predicate } from './glob.ts';
import type { ConditionSpec, Origin, PolicyLayer, RuleSpec } from './schema.ts';
import { UNCLASSIFIED } from './schema.ts';
import { severityOfRank, severityRank } from './severity.ts';
import type {
  ClaimTreatment,
  Decision,
  DecisionInput,
  Policy,
  PolicyLimits,
  PolicyMode,
  QuarantineContent,
  TokenStatus,
} from './types.ts';

export const DEFAULT_LIMITS: Readonly<PolicyLimits> = {
  maxLifetimeSeconds: 86_400,
  maxTokenLength: 16_384,
  maxRecordBytes: 1024 * 1024,
};
/** The treatment of a category no `claims:` key covers, and of unclassified content (R2). */
const FALLBACK_TREATMENT: ClaimTreatment = 'hash';
const TREATMENT_CACHE_MAX = 1024;

/** What a condition reads, computed once per decision. */
interface Facts {
  input: DecisionInput;
  status: TokenStatus;
  /** Highest risk severity rank after overrides; -1 without risks. */
  riskRank: number;
  /** The distinct categories of the claims (a condition asks whether any matches). */
  categories: string[] | undefined;
}
type Condition = (f: Facts) => boolean;

interface CompiledRule {
  id: string;
  action: Action;
  severityRank: number;
  conditions: Condition[];
}

function matches(rule: CompiledRule, facts: Facts): boolean {
  for (const condition of rule.conditions) if (!condition(facts)) return false;
  return true;
}

function categoriesOf(f: Facts): string[] {
  if (f.categories === undefined) {
    const distinct: string[] = [];
    const claims = f.input.classification.claims;
    for (const key in claims) {
      if (!Object.hasOwn(claims, key)) continue;
      const c = claims[key]!;
      if (!distinct.includes(c)) distinct.push(c);
    }
    f.categories = distinct;
  }
  return f.categories;
}

function compileConditions(when: ConditionSpec): Condition[] {
  const out: Condition[] = [];
  const inSet = <T extends string>(values: readonly T[] | undefined, get: (f: Facts) => T): void => {
    if (values === undefined) return;
    const set = new Set<string>(values);
    out.push((f) => set.has(get(f)));
  };
  inSet(when.kind, (f) => f.input.kind);
  inSet(when.serialization, (f) => f.input.serialization);
  inSet(when.token_type, (f) => f.input.classification.token_type);
  inSet(when.status, (f) => f.status);
  if (when.nested !== undefined) {
    const nested = when.nested;
    out.push((f) => f.input.nested === nested);
  }
  if (when.readable !== undefined) {
    const readable = when.readable;
    out.push((f) => f.input.readable === readable);
  }
  if (when.identity !== undefined) {
    const match = compileGlobList(when.identity);
    out.push((f) => match(f.input.classification.identity));
  }
  if (when.risks !== undefined) {
    const match = compileGlobList(when.risks);
    out.push((f) => {
      for (const r of f.input.risks) if (match(r.id)) return true;
      return false;
    });
  }
  if (when.risk_severity !== undefined) {
    const min = severityRank(when.risk_severity);
    out.push((f) => f.riskRank >= min);
  }
  if (when.categories !== undefined) {
    const match = compileGlobList(when.categories);
    out.push((f) => categoriesOf(f).some(match));
  }
  return out;
}

interface Merged {
  name: string | undefined;
  mode: PolicyMode;
  modeSrc: YamlSource | undefined;
  defaultAction: { action: Action; origin: Origin } | undefined;
  defaultSeverity: Severity | undefined;
  rules: RuleSpec[];
  claims: Map<string, ClaimTreatment>;
  risks: Map<string, Severity>;
  limits: PolicyLimits;
  quarantineContent: QuarantineContent;
  minFindingSeverity: Severity;
}

function merge(layers: readonly PolicyLayer[]): Merged {
  const m: Merged = {
    name: undefined,
    mode: 'redact',
    modeSrc: undefined,
    defaultAction: undefined,
    defaultSeverity: undefined,
    rules: [],
    claims: new Map(),
    risks: new Map(),
    limits: { ...DEFAULT_LIMITS },
    quarantineContent: 'masked',
    minFindingSeverity: 'info',
  };
  for (const layer of layers) {
    if (layer.name !== undefined) m.name = layer.name;
    if (layer.mode !== undefined) {
      m.mode = layer.mode;
      m.modeSrc = layer.src;
    }
    if (layer.default?.action !== undefined) {
      m.defaultAction = { action: layer.default.action, origin: layer.default.origin };
    }
    if (layer.default?.severity !== undefined) m.defaultSeverity = layer.default.severity;
    m.rules = mergeRules(m.rules, layer.rules);
    for (const [k, v] of layer.claims) m.claims.set(k, v);
    for (const [k, v] of layer.risks) m.risks.set(k, v);
    Object.assign(m.limits, layer.limits);
    if (layer.quarantineContent !== undefined) m.quarantineContent = layer.quarantineContent;
    if (layer.minFindingSeverity !== undefined) m.minFindingSeverity = layer.minFindingSeverity;
  }
  return m;
}

/** A later layer's rule replaces the earlier rule with its id in place; new rules go first, in order. */
function mergeRules(base: readonly RuleSpec[], layer: readonly RuleSpec[]): RuleSpec[] {
  const at = new Map(base.map((r, i) => [r.id, i]));
  const next = base.slice();
  const fresh: RuleSpec[] = [];
  const removed = new Set<string>();
  for (const rule of layer) {
    const i = at.get(rule.id);
    if (!rule.enabled) {
      if (i === undefined) {
        throw rule.origin.src.error(
          [...rule.origin.path, 'enabled'],
          `rule "${rule.id}" removes nothing: no policy applied before this file has a rule with this id`,
        );
      }
      removed.add(rule.id);
    } else if (i !== undefined) next[i] = rule;
    else fresh.push(rule);
  }
  return [...fresh, ...next.filter((r) => !removed.has(r.id))];
}

/** Exact keys first, then globs with the most literal characters, then the fallback. */
function compileClaimTreatment(claims: ReadonlyMap<string, ClaimTreatment>): Policy['claimTreatment'] {
  const exact = new Map<string, ClaimTreatment>();
  const globs: { match: Predicate; treatment: ClaimTreatment; weight: number }[] = [];
  for (const [key, treatment] of claims) {
    if (key === UNCLASSIFIED) continue;
    if (isGlob(key)) globs.push({ match: compileGlob(key), treatment, weight: literalLength(key) });
    else exact.set(key, treatment);
  }
  globs.sort((a, b) => b.weight - a.weight);
  const unclassified = claims.get(UNCLASSIFIED) ?? FALLBACK_TREATMENT;
  const cache = new Map<string, ClaimTreatment>();
  return (category) => {
    if (category === undefined || category === UNCLASSIFIED) return unclassified;
    const cached = cache.get(category);
    if (cached !== undefined) return cached;
    let t = exact.get(category) ?? globs.find((g) => g.match(category))?.treatment ?? FALLBACK_TREATMENT;
    // A glob such as `*: keep` must not reach embedded secrets; an explicit key cannot (schema.ts).
    if (t === 'keep' && category.startsWith('secret.')) t = 'remove';
    if (cache.size < TREATMENT_CACHE_MAX) cache.set(category, t);
    return t;
  };
}

export function buildPolicy(layers: readonly PolicyLayer[], files: readonly string[]): Policy {
  const m = merge(layers);
  const base = layers[0];
  if (!m.defaultAction) {
    const msg =
      'no default action: the first policy file must set `default: { action: ... }` or extend one that does (e.g. `extends: default`)';
    throw base ? base.src.error(['default'], msg) : new ConfigError(msg);
  }
  const modeNote = m.modeSrc
    ? `the active mode is ${m.mode}, set in ${m.modeSrc.file}`
    : 'the active mode is redact';
  const needsAudit = (origin: Origin, path: readonly (string | number)[]) =>
    origin.src.error(path, `action report leaves tokens in clear and needs \`mode: audit\` (${modeNote})`);
  if (m.mode !== 'audit') {
    for (const r of m.rules)
      if (r.action === 'report') throw needsAudit(r.origin, [...r.origin.path, 'action']);
    if (m.defaultAction.action === 'report') throw needsAudit(m.defaultAction.origin, ['default', 'action']);
  }

  const rules: CompiledRule[] = m.rules.map((r) => ({
    id: r.id,
    action: r.action!,
    severityRank: r.severity === undefined ? 0 : severityRank(r.severity),
    conditions: compileConditions(r.when),
  }));
  const fallback: CompiledRule = {
    id: 'default',
    action: m.defaultAction.action,
    severityRank: m.defaultSeverity === undefined ? 0 : severityRank(m.defaultSeverity),
    conditions: [],
  };
  const overrides = m.risks;
  const riskSeverity = (id: string, defaultSeverity: Severity): Severity =>
    overrides.get(id) ?? defaultSeverity;
  const mode = m.mode;

  const decide = (input: DecisionInput): Decision => {
    let riskRank = -1;
    for (const r of input.risks) {
      const rank = severityRank(riskSeverity(r.id, r.severity));
      if (rank > riskRank) riskRank = rank;
    }
    const facts: Facts = {
      input,
      status: tokenStatus(input.status, input.readable),
      riskRank,
      categories: undefined,
    };
    let chosen = fallback;
    for (const rule of rules) {
      if (matches(rule, facts)) {
        chosen = rule;
        break;
      }
    }
    const floored = applyFloor(chosen.action, input, mode);
    const decision: Decision = {
      action: floored.action,
      severity: severityOfRank(Math.max(chosen.severityRank, riskRank)),
      rule: chosen.id,
    };
    if (floored.floor) decision.floor = floored.floor;
    return decision;
  };

  const lastFile = files[files.length - 1] ?? 'policy';
  return Object.freeze({
    name: m.name ?? (lastFile.split(/[\\/]/).pop() ?? lastFile).replace(/\.ya?ml$/, ''),
    files: Object.freeze([...files]),
    mode,
    limits: Object.freeze({ ...m.limits }),
    quarantineContent: m.quarantineContent,
    minFindingSeverity: m.minFindingSeverity,
    decide,
    claimTreatment: compileClaimTreatment(m.claims),
    riskSeverity,
  });
}
