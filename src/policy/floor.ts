// The safety floor (R1): what no policy file can change. Applied after the rules, on every decision.
//  - `report` (leave the record as it is) only in `mode: audit`; otherwise the token is masked.
//  - `sanitize` only for a readable JWS or unsecured token: a JWE, an unreadable payload or a nested
//    token (the payload is itself a token, which a sanitized copy would carry in clear) is masked.
//  - There is no other action that leaves a token in clear: mask and hash replace it whole.
import type { Action, TimeStatus, TokenKind } from '../model.ts';
import type { FloorReason, PolicyMode, TokenStatus } from './types.ts';

export function applyFloor(
  action: Action,
  token: { kind: TokenKind; readable: boolean; nested: boolean },
  mode: PolicyMode,
): { action: Action; floor?: FloorReason } {
  if (action === 'report') return mode === 'audit' ? { action } : { action: 'mask', floor: 'not-audit' };
  if (action === 'sanitize') {
    if (token.kind === 'jwe') return { action: 'mask', floor: 'encrypted' };
    if (!token.readable) return { action: 'mask', floor: 'unreadable' };
    if (token.nested) return { action: 'mask', floor: 'nested' };
  }
  return { action };
}

/**
 * The status rules match on. A token whose expiry is unknown is never called `expired`:
 * `no-expiry` (readable, no `exp`) and `unknown` (unreadable) are both treated as replayable.
 */
export function tokenStatus(status: TimeStatus, readable: boolean): TokenStatus {
  if (status.expired === true) return 'expired';
  if (status.not_yet_valid === true) return 'not-yet-valid';
  if (status.expired === false || status.expires_at !== undefined) return 'live';
  return readable ? 'no-expiry' : 'unknown';
}
