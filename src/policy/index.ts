// Policy: per token, the action and severity; per claim category, the treatment; the limits.
// Loaded and validated once at start-up; `decide` and `claimTreatment` are pure and cheap.
import { buildPolicy } from './compile.ts';
import { DEFAULT_PATTERNS_DIR, resolveLayers } from './load.ts';
import type { LoadPolicyOptions, Policy } from './types.ts';

export { DEFAULT_LIMITS } from './compile.ts';
export { applyFloor, tokenStatus } from './floor.ts';
export { builtinPolicyNames } from './load.ts';
export { compareSeverity, severityRank } from './severity.ts';
export type {
  ClaimTreatment,
  Decision,
  DecisionInput,
  FloorReason,
  LoadPolicyOptions,
  Policy,
  PolicyLimits,
  PolicyMode,
  QuarantineContent,
  TokenStatus,
} from './types.ts';

/** The policy applied when no `--policy` is given. */
export const DEFAULT_POLICY = 'default';

/**
 * Loads policy files in order, each after the files it `extends`; later files override earlier
 * ones. A spec is a built-in name (`default`, `strict`, `audit-only`) or a file path. No specs
 * means `default`. Throws ConfigError (exit 2) naming file, line and field on any problem.
 */
export function loadPolicy(specs: readonly string[], opts: LoadPolicyOptions = {}): Policy {
  const list = specs.length > 0 ? specs : [DEFAULT_POLICY];
  const loaded = resolveLayers(list, {
    patternsDir: opts.patternsDir ?? DEFAULT_PATTERNS_DIR,
    cwd: opts.cwd ?? process.cwd(),
    ...(opts.categories ? { categories: opts.categories } : {}),
  });
  return buildPolicy(
    loaded.map((l) => l.layer),
    loaded.map((l) => l.file),
  );
}
