// Loads and validates the classification data: patterns/claims.yaml, identities.yaml, risks.yaml,
// weak-secrets.txt, and the user's own files ahead of them. Every problem is a ConfigError that
// names the file, the line and the field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClaimCategory } from '../model.ts';
import { ConfigError } from '../util/errors.ts';
import { loadYaml, type YamlSource } from '../util/yaml.ts';
import { builtInRanks, CATEGORY_SYNTAX, FAMILY_RANK, UNCLASSIFIED } from './categories.ts';
import {
  type ClaimRuleSpec,
  type CompiledClaimRules,
  compileClaimRules,
  parseClaimRule,
} from './claim-rules.ts';
import { type ClaimClassifier, DEFAULT_WALK_LIMITS, type WalkLimits } from './claims.ts';
import { type IdentityProfile, parseProfile } from './identity-profiles.ts';
import {
  DEFAULT_SETTINGS,
  parseRiskDefinition,
  parseSettings,
  RISK_IDS,
  type RiskDefinition,
  type RiskId,
  type RiskSettings,
} from './risk-definitions.ts';
import type { RiskRules } from './risks.ts';
import { checker, type Path } from './schema.ts';
import { compileDetector, type DetectorSpec, parseDetector, type ValueDetector } from './value-detectors.ts';
import { parseWeakSecrets, WeakSecretChecker } from './weak-secrets.ts';

export interface LoadOptions {
  /** Folder holding claims.yaml, identities.yaml, risks.yaml and weak-secrets.txt (default: the package's). */
  patternsDir?: string;
  /**
   * The user's files, highest precedence first. `.txt`: more weak secrets. YAML: any of the sections
   * `categories`, `claims`, `detectors`, `profiles`, `risks`, `settings`; its rules, detectors and
   * profiles go ahead of the built-in ones, a detector or profile with a built-in id replaces it,
   * and risks and settings override the built-in values key by key.
   */
  extraFiles?: readonly string[];
  limits?: Partial<WalkLimits>;
  /** Distinct HS256/384/512 signing inputs whose weak-secret verdict is cached. */
  weakSecretCacheSize?: number;
}

export interface ClassificationRules extends RiskRules {
  /** Known categories and their sensitivity rank. */
  readonly categories: ReadonlyMap<ClaimCategory, number>;
  readonly detectors: readonly ValueDetector[];
  /** Profiles in match order (user files first). */
  readonly profileList: readonly IdentityProfile[];
  readonly profiles: ReadonlyMap<string, IdentityProfile>;
  readonly classifier: ClaimClassifier;
  /** The files the rules came from, in precedence order. */
  readonly files: readonly string[];
}

export const BUILT_IN_FILES = {
  claims: 'claims.yaml',
  identities: 'identities.yaml',
  risks: 'risks.yaml',
  weakSecrets: 'weak-secrets.txt',
} as const;

const SECTIONS = ['version', 'categories', 'claims', 'detectors', 'profiles', 'risks', 'settings'] as const;

export function defaultPatternsDir(): string {
  return fileURLToPath(new URL('../../patterns/', import.meta.url));
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      file,
    });
  }
}

export function loadClassificationRules(options: LoadOptions = {}): ClassificationRules {
  const dir = options.patternsDir ?? defaultPatternsDir();
  const extra = options.extraFiles ?? [];
  const yamlFiles = [
    ...extra.filter((f) => !f.endsWith('.txt')),
    join(dir, BUILT_IN_FILES.claims),
    join(dir, BUILT_IN_FILES.identities),
    join(dir, BUILT_IN_FILES.risks),
  ];
  const textFiles = [...extra.filter((f) => f.endsWith('.txt')), join(dir, BUILT_IN_FILES.weakSecrets)];
  const riskFile = join(dir, BUILT_IN_FILES.risks);

  const sources = yamlFiles.map((f) => {
    const src = loadYaml(f);
    const c = checker(src);
    const data = src.data ?? {};
    // `x-...` keys hold YAML anchors shared by the sections; they are not read.
    const extensions =
      typeof data === 'object' && !Array.isArray(data)
        ? Object.keys(data).filter((k) => k.startsWith('x-'))
        : [];
    const top = c.map(data, [], [...SECTIONS, ...extensions]);
    if (top['version'] !== undefined && top['version'] !== 1)
      throw src.error(['version'], 'version must be 1');
    return { src, c, top };
  });

  // Categories first: any file's rules may use a category any file declares.
  const ranks = builtInRanks();
  for (const { c, top } of sources) {
    if (top['categories'] === undefined) continue;
    c.list(top['categories'], ['categories']).forEach((v, i) => {
      const name = c.string(
        v,
        ['categories', i],
        CATEGORY_SYNTAX,
        'a category family.kind (families: authz, identifier, routing, pii, secret)',
      );
      if (!ranks.has(name)) ranks.set(name, FAMILY_RANK[name.split('.')[0]!] ?? ranks.get(UNCLASSIFIED)!);
    });
  }
  const checkCategory =
    (src: YamlSource) =>
    (v: unknown, p: Path): ClaimCategory => {
      if (typeof v !== 'string') throw src.error(p, 'expected a category name');
      if (!ranks.has(v)) {
        throw src.error(
          p,
          `unknown category "${v}" (known: ${[...ranks.keys()].join(', ')}; declare new ones under categories)`,
        );
      }
      return v;
    };

  const ruleSpecs: ClaimRuleSpec[] = [];
  const detectorSpecs = new Map<string, DetectorSpec>();
  const profiles = new Map<string, IdentityProfile>();
  for (const { src, c, top } of sources) {
    const cat = checkCategory(src);
    if (top['claims'] !== undefined) {
      c.list(top['claims'], ['claims']).forEach((v, i) => {
        ruleSpecs.push(parseClaimRule(c, v, ['claims', i], cat));
      });
    }
    const seen = { detector: new Set<string>(), profile: new Set<string>() };
    const unique = (id: string, path: Path, what: keyof typeof seen) => {
      if (seen[what].has(id)) throw src.error(path, `duplicate ${what} id "${id}" in this file`);
      seen[what].add(id);
    };
    if (top['detectors'] !== undefined) {
      c.list(top['detectors'], ['detectors']).forEach((v, i) => {
        const spec = parseDetector(c, v, ['detectors', i], cat);
        unique(spec.id, ['detectors', i, 'id'], 'detector');
        if (!detectorSpecs.has(spec.id)) detectorSpecs.set(spec.id, spec);
      });
    }
    if (top['profiles'] !== undefined) {
      c.list(top['profiles'], ['profiles']).forEach((v, i) => {
        const profile = parseProfile(c, v, ['profiles', i]);
        unique(profile.id, ['profiles', i, 'id'], 'profile');
        if (!profiles.has(profile.id)) profiles.set(profile.id, profile);
      });
    }
  }

  // Risks and settings: the built-in values first, then each user file over them.
  const risks = new Map<RiskId, RiskDefinition>();
  let settings: RiskSettings = DEFAULT_SETTINGS;
  for (const { c, top } of [...sources].reverse()) {
    if (top['risks'] !== undefined) {
      const defs = c.dict(top['risks'], ['risks']);
      for (const id of Object.keys(defs)) {
        const def = parseRiskDefinition(c, id, defs[id], ['risks', id], risks.get(id as RiskId));
        risks.set(def.id, def);
      }
    }
    if (top['settings'] !== undefined) settings = parseSettings(c, top['settings'], ['settings'], settings);
  }
  const missing = RISK_IDS.filter((id) => !risks.has(id));
  if (missing.length > 0) {
    throw new ConfigError(`risks ${missing.join(', ')} have no definition`, {
      file: riskFile,
      field: 'risks',
    });
  }

  const secrets = textFiles.flatMap((f) => parseWeakSecrets(readText(f), f));
  const claims: CompiledClaimRules = compileClaimRules(ruleSpecs);
  const detectors = [...detectorSpecs.values()].map(compileDetector);
  const rank = (category: ClaimCategory) => ranks.get(category) ?? ranks.get(UNCLASSIFIED)!;
  return {
    categories: ranks,
    claims,
    detectors,
    profileList: [...profiles.values()],
    profiles,
    risks,
    settings,
    weakSecrets: new WeakSecretChecker(secrets, { cacheSize: options.weakSecretCacheSize ?? 4096 }),
    classifier: { rules: claims, detectors, rank, limits: { ...DEFAULT_WALK_LIMITS, ...options.limits } },
    files: [...yamlFiles, ...textFiles],
  };
}
