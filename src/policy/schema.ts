// The policy file schema, written by hand: one YAML document -> one typed layer, or a
// ConfigError naming file, line and field. Nothing here merges or decides; see compile.ts.
import {
  ACTIONS,
  type Action,
  SEVERITIES,
  type Serialization,
  type Severity,
  type TokenKind,
  type TokenType,
} from '../model.ts';
import type { ConfigError } from '../util/errors.ts';
import type { YamlSource } from '../util/yaml.ts';
import { compileGlob } from './glob.ts';
import {
  CLAIM_TREATMENTS,
  type ClaimTreatment,
  POLICY_MODES,
  type PolicyLimits,
  type PolicyMode,
  QUARANTINE_CONTENTS,
  type QuarantineContent,
  SERIALIZATIONS,
  TOKEN_KINDS,
  TOKEN_STATUSES,
  TOKEN_TYPES,
  type TokenStatus,
} from './types.ts';

export type Path = readonly (string | number)[];

/** Where a value came from, to name it in an error found after merging. */
export interface Origin {
  src: YamlSource;
  path: Path;
}

export interface ConditionSpec {
  kind?: TokenKind[];
  serialization?: Serialization[];
  identity?: string[];
  token_type?: TokenType[];
  categories?: string[];
  risks?: string[];
  risk_severity?: Severity;
  status?: TokenStatus[];
  nested?: boolean;
  readable?: boolean;
}

export interface RuleSpec {
  id: string;
  /** `false` removes the inherited rule with this id. */
  enabled: boolean;
  when: ConditionSpec;
  action?: Action;
  severity?: Severity;
  origin: Origin;
}

export interface PolicyLayer {
  src: YamlSource;
  name?: string;
  extends?: string;
  mode?: PolicyMode;
  default?: { action?: Action; severity?: Severity; origin: Origin };
  rules: RuleSpec[];
  claims: Map<string, ClaimTreatment>;
  risks: Map<string, Severity>;
  limits: Partial<PolicyLimits>;
  quarantineContent?: QuarantineContent;
  minFindingSeverity?: Severity;
}

export const POLICY_VERSION = 1;
export const CATEGORY_FAMILIES = ['pii', 'identifier', 'authz', 'routing', 'secret'] as const;
/** Not a category: the treatment of claims the classifier could not place (R2: never `keep`). */
export const UNCLASSIFIED = 'unclassified';

const TOP_KEYS = [
  'version',
  'name',
  'description',
  'extends',
  'mode',
  'default',
  'rules',
  'claims',
  'risks',
  'limits',
  'quarantine',
  'min_finding_severity',
];
const RULE_KEYS = ['id', 'description', 'enabled', 'when', 'action', 'severity'];
const WHEN_KEYS = [
  'kind',
  'serialization',
  'identity',
  'token_type',
  'categories',
  'risks',
  'risk_severity',
  'status',
  'nested',
  'readable',
];

/** Actions people reach for that would leave a token in clear: answered with the floor, not a near miss. */
const PASS_THROUGH_WORDS = [
  'pass',
  'passthrough',
  'pass-through',
  'allow',
  'keep',
  'none',
  'ignore',
  'skip',
  'clear',
];

const ID = /^[a-z0-9][a-z0-9-]*$/;
const RISK_ID = /^[a-z0-9-]+$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const IDENTITY_GLOB = /^[A-Za-z0-9._*-]+$/;
const RISK_GLOB = /^[a-z0-9*-]+$/;
const CATEGORY_NAME_GLOB = /^[a-z0-9_*-]+$/;

/** Inclusive bounds of the limits, by YAML key. */
const LIMIT_BOUNDS: readonly {
  field: keyof PolicyLimits;
  key: string;
  min: number;
  max: number;
  why?: string;
}[] = [
  { field: 'maxLifetimeSeconds', key: 'max_lifetime_seconds', min: 60, max: 10 * 366 * 86_400 },
  {
    field: 'maxTokenLength',
    key: 'max_token_length',
    min: 16_384,
    max: 64 * 1024 * 1024,
    why: 'real tokens (x5c chains, large claim sets) run to several KiB and must stay decodable',
  },
  { field: 'maxRecordBytes', key: 'max_record_bytes', min: 1024, max: 1024 * 1024 * 1024 },
];

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** `; did you mean "x"?` for a near miss, else the list of what is allowed. */
function suggest(word: string, allowed: readonly string[], what = 'expected one of'): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const a of allowed) {
    const d = editDistance(word, a);
    if (d < bestDistance) {
      best = a;
      bestDistance = d;
    }
  }
  return best !== undefined ? `; did you mean "${best}"?` : `; ${what}: ${allowed.join(', ')}`;
}

/** Validates one file's document. `categories`: the known category names, when the caller has them. */
export class LayerReader {
  readonly src: YamlSource;
  readonly categories: ReadonlySet<string> | undefined;

  constructor(src: YamlSource, categories?: readonly string[]) {
    this.src = src;
    this.categories = categories ? new Set(categories) : undefined;
  }

  fail(path: Path, message: string): ConfigError {
    return this.src.error(path, message);
  }

  read(): PolicyLayer {
    const data = this.src.data;
    if (data === null || data === undefined) {
      throw this.fail(['version'], 'the policy file is empty; it must start with `version: 1`');
    }
    const top = this.mapping([], data, TOP_KEYS);
    if (!('version' in top)) throw this.fail(['version'], 'missing; add `version: 1` at the top of the file');
    if (top['version'] !== POLICY_VERSION) {
      throw this.fail(
        ['version'],
        `unsupported version ${JSON.stringify(top['version'])}; this build reads version ${POLICY_VERSION}`,
      );
    }
    const layer: PolicyLayer = { src: this.src, rules: [], claims: new Map(), risks: new Map(), limits: {} };
    if (top['name'] !== undefined)
      layer.name = this.pattern(['name'], top['name'], NAME, 'a name of A-Z a-z 0-9 . _ -');
    // descriptions are for the reader of the file: checked, not kept
    if (top['description'] !== undefined) this.string(['description'], top['description']);
    if (top['extends'] !== undefined) layer.extends = this.nonEmptyString(['extends'], top['extends']);
    if (top['mode'] !== undefined) layer.mode = this.oneOf(['mode'], top['mode'], POLICY_MODES, 'mode');
    if (top['default'] !== undefined) layer.default = this.readDefault(top['default']);
    if (top['rules'] !== undefined) layer.rules = this.readRules(top['rules']);
    if (top['claims'] !== undefined) this.readClaims(top['claims'], layer.claims);
    if (top['risks'] !== undefined) this.readRisks(top['risks'], layer.risks);
    if (top['limits'] !== undefined) layer.limits = this.readLimits(top['limits']);
    if (top['quarantine'] !== undefined) {
      const q = this.mapping(['quarantine'], top['quarantine'], ['content']);
      if (q['content'] === 'raw') {
        throw this.fail(
          ['quarantine', 'content'],
          'raw quarantine is not supported: it would store tokens in clear (R1); use masked or metadata-only',
        );
      }
      if (q['content'] !== undefined) {
        layer.quarantineContent = this.oneOf(
          ['quarantine', 'content'],
          q['content'],
          QUARANTINE_CONTENTS,
          'quarantine content',
        );
      }
    }
    if (top['min_finding_severity'] !== undefined) {
      layer.minFindingSeverity = this.severity(['min_finding_severity'], top['min_finding_severity']);
    }
    return layer;
  }

  private readDefault(value: unknown): NonNullable<PolicyLayer['default']> {
    const d = this.mapping(['default'], value, ['action', 'severity']);
    const out: NonNullable<PolicyLayer['default']> = { origin: { src: this.src, path: ['default'] } };
    if (d['action'] !== undefined) out.action = this.action(['default', 'action'], d['action']);
    if (d['severity'] !== undefined) out.severity = this.severity(['default', 'severity'], d['severity']);
    return out;
  }

  private readRules(value: unknown): RuleSpec[] {
    const list = this.list(['rules'], value);
    const seen = new Set<string>();
    return list.map((item, i) => {
      const at = ['rules', i] as const;
      const r = this.mapping(at, item, RULE_KEYS);
      if (r['id'] === undefined) throw this.fail(at, 'missing key "id"; every rule needs an id');
      const id = this.pattern(
        [...at, 'id'],
        r['id'],
        ID,
        'an id of a-z 0-9 - (starting with a letter or digit)',
      );
      if (id === 'default')
        throw this.fail([...at, 'id'], 'the id "default" is reserved for the `default:` entry');
      if (seen.has(id)) throw this.fail([...at, 'id'], `duplicate rule id "${id}"`);
      seen.add(id);
      const rule: RuleSpec = { id, enabled: true, when: {}, origin: { src: this.src, path: at } };
      if (r['description'] !== undefined) this.string([...at, 'description'], r['description']);
      if (r['enabled'] !== undefined) rule.enabled = this.boolean([...at, 'enabled'], r['enabled']);
      if (!rule.enabled) {
        for (const key of ['when', 'action', 'severity']) {
          if (r[key] !== undefined) {
            throw this.fail(
              [...at, key],
              'a rule with `enabled: false` only removes the inherited rule; drop this key',
            );
          }
        }
        return rule;
      }
      if (r['action'] === undefined) throw this.fail(at, `missing key "action" in rule "${id}"`);
      rule.action = this.action([...at, 'action'], r['action']);
      if (r['severity'] !== undefined) rule.severity = this.severity([...at, 'severity'], r['severity']);
      if (r['when'] !== undefined) rule.when = this.readWhen([...at, 'when'], r['when']);
      return rule;
    });
  }

  private readWhen(at: Path, value: unknown): ConditionSpec {
    const w = this.mapping(at, value, WHEN_KEYS);
    const c: ConditionSpec = {};
    const items = (key: string): { path: Path; value: unknown }[] => {
      const v = w[key];
      if (!Array.isArray(v)) return [{ path: [...at, key], value: v }];
      if (v.length === 0)
        throw this.fail([...at, key], 'an empty list never matches; remove the key instead');
      return v.map((x, i) => ({ path: [...at, key, i], value: x }));
    };
    if (w['kind'] !== undefined)
      c.kind = items('kind').map((x) => this.oneOf(x.path, x.value, TOKEN_KINDS, 'kind'));
    if (w['serialization'] !== undefined) {
      c.serialization = items('serialization').map((x) =>
        this.oneOf(x.path, x.value, SERIALIZATIONS, 'serialization'),
      );
    }
    if (w['token_type'] !== undefined) {
      c.token_type = items('token_type').map((x) => this.oneOf(x.path, x.value, TOKEN_TYPES, 'token type'));
    }
    if (w['status'] !== undefined) {
      c.status = items('status').map((x) => this.oneOf(x.path, x.value, TOKEN_STATUSES, 'status'));
    }
    if (w['identity'] !== undefined) {
      c.identity = items('identity').map((x) =>
        this.glob(x.path, x.value, IDENTITY_GLOB, 'an identity of A-Z a-z 0-9 . _ - and *'),
      );
    }
    if (w['risks'] !== undefined) {
      c.risks = items('risks').map((x) =>
        this.glob(x.path, x.value, RISK_GLOB, 'a risk id of a-z 0-9 - and *'),
      );
    }
    if (w['categories'] !== undefined) {
      c.categories = items('categories').map((x) => this.category(x.path, x.value, false));
    }
    if (w['risk_severity'] !== undefined)
      c.risk_severity = this.severity([...at, 'risk_severity'], w['risk_severity']);
    if (w['nested'] !== undefined) c.nested = this.boolean([...at, 'nested'], w['nested']);
    if (w['readable'] !== undefined) c.readable = this.boolean([...at, 'readable'], w['readable']);
    return c;
  }

  private readClaims(value: unknown, out: PolicyLayer['claims']): void {
    const m = this.mapping(['claims'], value);
    for (const [key, v] of Object.entries(m)) {
      const at = ['claims', key] as const;
      const category = this.category(at, key, true);
      const treatment = this.oneOf(at, v, CLAIM_TREATMENTS, 'claim treatment');
      if (treatment === 'keep' && category === UNCLASSIFIED) {
        throw this.fail(
          at,
          'unclassified content is sensitive (R2) and cannot be kept in clear; use hash or remove',
        );
      }
      if (treatment === 'keep' && category.startsWith('secret.')) {
        throw this.fail(at, 'embedded secrets cannot be kept in clear; use hash or remove');
      }
      out.set(category, treatment);
    }
  }

  private readRisks(value: unknown, out: Map<string, Severity>): void {
    const m = this.mapping(['risks'], value);
    for (const [id, v] of Object.entries(m)) {
      const at = ['risks', id] as const;
      if (!RISK_ID.test(id)) throw this.fail(at, `bad risk id "${id}"; risk ids are a-z 0-9 -`);
      const r = this.mapping(at, v, ['severity']);
      if (r['severity'] === undefined) throw this.fail(at, 'missing key "severity"');
      out.set(id, this.severity([...at, 'severity'], r['severity']));
    }
  }

  private readLimits(value: unknown): Partial<PolicyLimits> {
    const m = this.mapping(
      ['limits'],
      value,
      LIMIT_BOUNDS.map((b) => b.key),
    );
    const out: Partial<PolicyLimits> = {};
    for (const bound of LIMIT_BOUNDS) {
      const v = m[bound.key];
      if (v === undefined) continue;
      const at = ['limits', bound.key];
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
        throw this.fail(at, `expected an integer, got ${typeName(v)}`);
      }
      if (v < bound.min || v > bound.max) {
        const why = bound.why ? `: ${bound.why}` : '';
        throw this.fail(at, `${v} is out of range ${bound.min}..${bound.max}${why}`);
      }
      out[bound.field] = v;
    }
    return out;
  }

  // --- typed readers -----------------------------------------------------------------------

  private mapping(at: Path, value: unknown, keys?: readonly string[]): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw this.fail(at, `expected a mapping, got ${typeName(value)}`);
    }
    const m = value as Record<string, unknown>;
    if (keys) {
      for (const key of Object.keys(m)) {
        if (!keys.includes(key))
          throw this.fail([...at, key], `unknown key "${key}"${suggest(key, keys, 'allowed keys')}`);
      }
    }
    return m;
  }

  private list(at: Path, value: unknown): unknown[] {
    if (!Array.isArray(value)) throw this.fail(at, `expected a list, got ${typeName(value)}`);
    return value;
  }

  private string(at: Path, value: unknown): string {
    if (typeof value !== 'string') throw this.fail(at, `expected a string, got ${typeName(value)}`);
    return value;
  }

  private nonEmptyString(at: Path, value: unknown): string {
    const s = this.string(at, value);
    if (s.length === 0) throw this.fail(at, 'expected a non-empty string');
    return s;
  }

  private boolean(at: Path, value: unknown): boolean {
    if (typeof value !== 'boolean') throw this.fail(at, `expected true or false, got ${typeName(value)}`);
    return value;
  }

  private pattern(at: Path, value: unknown, re: RegExp, what: string): string {
    const s = this.string(at, value);
    if (!re.test(s)) throw this.fail(at, `bad value "${s}"; expected ${what}`);
    return s;
  }

  private oneOf<T extends string>(at: Path, value: unknown, allowed: readonly T[], what: string): T {
    const s = this.string(at, value);
    if (!(allowed as readonly string[]).includes(s))
      throw this.fail(at, `unknown ${what} "${s}"${suggest(s, allowed)}`);
    return s as T;
  }

  private action(at: Path, value: unknown): Action {
    if (typeof value === 'string' && PASS_THROUGH_WORDS.includes(value)) {
      throw this.fail(
        at,
        `unknown action "${value}"; no action passes a token through in clear except report, which needs mode: audit (expected one of: ${ACTIONS.join(', ')})`,
      );
    }
    return this.oneOf(at, value, ACTIONS, 'action');
  }

  private severity(at: Path, value: unknown): Severity {
    return this.oneOf(at, value, SEVERITIES, 'severity');
  }

  private noDoubleStar(at: Path, s: string): void {
    if (s.includes('**'))
      throw this.fail(at, `bad glob "${s}": "**" is not supported; one "*" matches any run`);
  }

  /** A glob: the characters `re` allows, `*` not doubled. */
  private glob(at: Path, value: unknown, re: RegExp, what: string): string {
    const s = this.string(at, value);
    this.noDoubleStar(at, s);
    if (!re.test(s)) throw this.fail(at, `bad glob "${s}"; expected ${what}`);
    return s;
  }

  /**
   * A category or category glob: `public`, `*`, or `<family>.<name>` where the family is spelled out
   * and the name may hold `*`. In `claims:` keys, `unclassified` too.
   */
  private category(at: Path, value: unknown, claimKey: boolean): string {
    const s = this.string(at, value);
    if (s === 'public' || s === '*' || (claimKey && s === UNCLASSIFIED)) return s;
    this.noDoubleStar(at, s);
    const dot = s.indexOf('.');
    const family = dot < 0 ? s : s.slice(0, dot);
    const name = dot < 0 ? '' : s.slice(dot + 1);
    if (!(CATEGORY_FAMILIES as readonly string[]).includes(family) || !CATEGORY_NAME_GLOB.test(name)) {
      const forms = claimKey ? 'public, unclassified, * or <family>.<name>' : 'public, * or <family>.<name>';
      throw this.fail(
        at,
        `unknown claim category "${s}"; expected ${forms} with family ${CATEGORY_FAMILIES.join(', ')} (e.g. pii.email, pii.*)`,
      );
    }
    if (this.categories) {
      const known = [...this.categories];
      if (!name.includes('*') && !this.categories.has(s)) {
        throw this.fail(at, `unknown claim category "${s}"${suggest(s, known, 'known categories')}`);
      }
      if (name.includes('*') && !known.some(compileGlob(s))) {
        throw this.fail(at, `"${s}" matches no known claim category`);
      }
    }
    return s;
  }
}
