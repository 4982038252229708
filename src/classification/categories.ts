// The claim categories the policy stage maps to actions. A category is `family.kind`, or `public`
// and `unclassified`; user files may declare more kinds within the known families.
import type { ClaimCategory } from '../model.ts';

export const PUBLIC = 'public';
/** No rule or detector said anything: the policy should treat it as sensitive (SPEC R2). */
export const UNCLASSIFIED = 'unclassified';

/**
 * Built-in categories with their sensitivity rank: when a value detector and a rule disagree, or
 * when a container's leaves are summed up into one entry, the higher rank wins.
 */
const BUILT_IN: ReadonlyArray<readonly [ClaimCategory, number]> = [
  [PUBLIC, 0],
  ['authz.scope', 1],
  ['authz.role', 1],
  ['authz.group', 1],
  ['authz.delegation', 1],
  ['routing.endpoint', 1],
  ['identifier.subject', 2],
  ['identifier.tenant', 2],
  ['identifier.client', 2],
  ['identifier.session', 2],
  ['identifier.token', 2],
  ['identifier.workload', 2],
  ['identifier.account', 2],
  [UNCLASSIFIED, 3],
  ['routing.internal', 3],
  ['pii.email', 4],
  ['pii.name', 4],
  ['pii.phone', 4],
  ['pii.address', 4],
  ['pii.ip', 4],
  ['pii.other', 4],
  ['secret.embedded', 5],
];

/** Rank of a user-declared category, by family. */
export const FAMILY_RANK: Readonly<Record<string, number>> = {
  authz: 1,
  identifier: 2,
  routing: 3,
  pii: 4,
  secret: 5,
};

/** Every category a built-in rule may produce, most harmless first. */
export const CLAIM_CATEGORIES: readonly ClaimCategory[] = BUILT_IN.map(([c]) => c);

/** A user-declared category: a known family, a dot, a lower-case kind. */
export const CATEGORY_SYNTAX = /^(authz|identifier|routing|pii|secret)\.[a-z][a-z0-9_-]{0,40}$/;

export function builtInRanks(): Map<ClaimCategory, number> {
  return new Map(BUILT_IN);
}
