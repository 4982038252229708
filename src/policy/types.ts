// The policy's public vocabulary. What a policy decides per token, and the settings it carries.
import type {
  Action,
  Classification,
  Risk,
  Serialization,
  Severity,
  TimeStatus,
  TokenKind,
} from '../model.ts';

/** How a claim value of one category appears in sanitized tokens and in findings (R2). */
export type ClaimTreatment = 'keep' | 'hash' | 'remove';
export const CLAIM_TREATMENTS: readonly ClaimTreatment[] = ['keep', 'hash', 'remove'];

/** `audit` is the only mode in which `report` (leave the record as it is) is allowed. */
export type PolicyMode = 'redact' | 'audit';
export const POLICY_MODES: readonly PolicyMode[] = ['redact', 'audit'];

/** What a quarantined record keeps (R6). There is deliberately no `raw`. */
export type QuarantineContent = 'masked' | 'metadata-only';
export const QUARANTINE_CONTENTS: readonly QuarantineContent[] = ['masked', 'metadata-only'];

/** A token's time status as rules see it, derived from `TimeStatus` (see `tokenStatus`). */
export type TokenStatus = 'live' | 'expired' | 'not-yet-valid' | 'no-expiry' | 'unknown';
export const TOKEN_STATUSES: readonly TokenStatus[] = [
  'live',
  'expired',
  'not-yet-valid',
  'no-expiry',
  'unknown',
];

export { SERIALIZATIONS, TOKEN_KINDS, TOKEN_TYPES } from '../model.ts';

export interface PolicyLimits {
  /** Longer `exp - iat` (or `exp - nbf`) is the risk `lifetime-exceeds-policy`. */
  maxLifetimeSeconds: number;
  /** Longest token the scanner decodes; never below 16384. */
  maxTokenLength: number;
  /** A larger record is quarantined (R6). */
  maxRecordBytes: number;
}

export interface DecisionInput {
  kind: TokenKind;
  serialization: Serialization;
  nested: boolean;
  classification: Classification;
  risks: readonly Pick<Risk, 'id' | 'severity'>[];
  status: TimeStatus;
  /** The payload decoded to a JSON claims set (false for JWE not decrypted, opaque, detached payloads). */
  readable: boolean;
}

/** Why the safety floor replaced the action a rule asked for. */
export type FloorReason = 'encrypted' | 'unreadable' | 'nested' | 'not-audit';

export interface Decision {
  action: Action;
  severity: Severity;
  /** The id of the rule that matched, or `default`. */
  rule: string;
  /** Set when the safety floor changed the rule's action (e.g. `sanitize` on a JWE became `mask`). */
  floor?: FloorReason;
}

export interface Policy {
  /** The `name` of the last policy file applied (or its file name). */
  readonly name: string;
  /** Absolute paths of the files applied, base first. */
  readonly files: readonly string[];
  readonly mode: PolicyMode;
  readonly limits: Readonly<PolicyLimits>;
  readonly quarantineContent: QuarantineContent;
  /** Token findings below this severity are not emitted; redaction happens regardless. */
  readonly minFindingSeverity: Severity;
  /** Action and severity for one token. Pure; first matching rule wins, then the safety floor. */
  decide(input: DecisionInput): Decision;
  /** Treatment of a claim of `category`; `undefined` means the claim could not be classified. */
  claimTreatment(category: string | undefined): ClaimTreatment;
  /** The severity of risk `id` under this policy (an override, or `defaultSeverity`). */
  riskSeverity(id: string, defaultSeverity: Severity): Severity;
}

export interface LoadPolicyOptions {
  /** Folder holding `policies/<name>.yaml`; defaults to the package's `patterns/`. */
  patternsDir?: string;
  /**
   * The claim categories the classifier can produce (from `patterns/claims.yaml`). When given, a
   * category named exactly in a policy must be one of them; globs must match at least one.
   * Without it, only the family (`pii`, `identifier`, `authz`, `routing`, `secret`) is checked.
   */
  categories?: readonly string[];
  /** Folder relative paths on the command line are resolved against; defaults to `process.cwd()`. */
  cwd?: string;
}
