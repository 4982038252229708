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

/** Whole seconds in 0000-01-01 .. 9999-12-31: the dates whose ISO form is `YYYY-MM-DDTHH:MM:SS.000Z`. */
const MIN_FAST = -62_167_219_200;
const MAX_FAST = 253_402_300_799;
const DAY = 86_400;
/** `YYYY-MM-DD` by day number since the epoch; tokens of a log share a few days. */
const days = new Map<number, string>();
const DAYS_MAX = 4096;

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

function iso(seconds: number): string | undefined {
  if (Number.isInteger(seconds) && seconds >= MIN_FAST && seconds <= MAX_FAST) {
    // The same text as Date#toISOString, without a Date per claim.
    const day = Math.floor(seconds / DAY);
    let date = days.get(day);
    if (date === undefined) {
      date = new Date(day * DAY * 1000).toISOString().slice(0, 10);
      if (days.size >= DAYS_MAX) days.clear();
      days.set(day, date);
    }
    const t = seconds - day * DAY;
    return `${date}T${two(Math.floor(t / 3600))}:${two(Math.floor(t / 60) % 60)}:${two(t % 60)}.000Z`;
  }
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
