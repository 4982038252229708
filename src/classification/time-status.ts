// exp / nbf / iat -> when the token was issued, when it expires, whether it is live now.
// Claims are untrusted: strings, negatives, NaN-ish text and dates past year 275760 never throw.
import type { JsonObject, TimeStatus } from '../model.ts';
import { member } from './json-pointer.ts';

/** The largest time a JavaScript Date can hold, in seconds (RFC 7519 NumericDate is seconds). */
const MAX_SECONDS = 8.64e12;

/**
 * A NumericDate as seconds, or undefined. JSON numbers, and decimal strings that some issuers
 * emit, are accepted; anything else (objects, booleans, `1e400`) is not a date.
 */
export function numericDate(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && value.length <= 24 && /^-?\d{1,16}(\.\d{1,9})?$/.test(value.trim())) {
    n = Number(value.trim());
  } else return undefined;
  return Number.isFinite(n) ? n : undefined;
}

function iso(seconds: number): string | undefined {
  return Math.abs(seconds) <= MAX_SECONDS ? new Date(seconds * 1000).toISOString() : undefined;
}

export function timeStatus(claims: JsonObject | undefined, now: Date): TimeStatus {
  const status: TimeStatus = {};
  if (claims === undefined) return status;
  const exp = numericDate(member(claims, 'exp'));
  const nbf = numericDate(member(claims, 'nbf'));
  const iat = numericDate(member(claims, 'iat'));
  const nowSeconds = now.getTime() / 1000;
  if (iat !== undefined) {
    const at = iso(iat);
    if (at !== undefined) status.issued_at = at;
  }
  if (exp !== undefined) {
    const at = iso(exp);
    if (at !== undefined) status.expires_at = at;
    // RFC 7519 4.1.4: the current time must be before exp.
    status.expired = nowSeconds >= exp;
    status.remaining_seconds = Math.floor(exp - nowSeconds);
  }
  if (nbf !== undefined) {
    const at = iso(nbf);
    if (at !== undefined) status.not_before = at;
    status.not_yet_valid = nowSeconds < nbf;
  }
  const start = iat ?? nbf;
  if (exp !== undefined && start !== undefined) status.lifetime_seconds = Math.round(exp - start);
  return status;
}
