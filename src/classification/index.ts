// Classification: who a token speaks for, what kind of token it is, what each claim is, when it
// is valid, and what is risky about it. Rules are data (patterns/*.yaml, weak-secrets.txt).
import type { Classification, DecodedToken } from '../model.ts';
import { classifyClaims } from './claims.ts';
import { resolveIdentity } from './identity-profiles.ts';
import type { ClassificationRules } from './rules.ts';

export { CLAIM_CATEGORIES, PUBLIC, UNCLASSIFIED } from './categories.ts';
export { TOKEN_TYPES } from './identity-profiles.ts';
export { escapeSegment, parsePointer, pointerOf } from './json-pointer.ts';
export type { RiskDefinition, RiskId, RiskSettings } from './risk-definitions.ts';
export { RISK_IDS } from './risk-definitions.ts';
export { assessRisks, type RiskContext, type RiskInput } from './risks.ts';
export {
  BUILT_IN_FILES,
  type ClassificationRules,
  defaultPatternsDir,
  type LoadOptions,
  loadClassificationRules,
} from './rules.ts';
export { timeStatus } from './time-status.ts';

/** A Classification plus whether the identity is a workload (non-human identity). */
export interface ClassificationResult extends Classification {
  workload: boolean;
}

/**
 * Identity, token type and claim categories of one decoded token. The claims map is filled only
 * for claim-bearing payloads: a top-level entry per claim (by name) and one per nested leaf (by
 * RFC 6901 pointer). A claim missing from the map (the walk is bounded) counts as `unclassified`.
 */
export function classify(decoded: DecodedToken, rules: ClassificationRules): ClassificationResult {
  const claims = decoded.payload.type === 'claims' ? decoded.payload.claims : undefined;
  const who = resolveIdentity(rules.profileList, decoded.header, claims);
  return {
    identity: who.identity,
    ...(who.profile !== undefined ? { profile: who.profile } : {}),
    token_type: who.token_type,
    claims: claims ? classifyClaims(rules.classifier, claims) : {},
    workload: who.workload,
  };
}
