// Keyed correlation (R3): HMAC-SHA-256 under a configured key, truncated to 128 bits,
// always shown with the key id so that fingerprints from different keys are never compared.
//
// Speed: a fingerprint is taken for every distinct token and every hashed claim, so the HMAC
// (RFC 2104: H((K ^ opad) || H((K ^ ipad) || m))) is computed from pads made once per key with
// two one-shot `crypto.hash` calls over a reused buffer: no Hmac object and no key import per
// call, which made createHmac() several times dearer for these short inputs. Claim values recur
// across tokens (issuers, namespaces, names), so claim hashes are also kept in a bounded map.
import { hash, randomBytes } from 'node:crypto';
import { ConfigError } from '../util/errors.ts';

/** Fingerprint bytes kept from the HMAC: 16 bytes = 128 bits (the floor is 64). */
const FP_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BLOCK = 64;
const DIGEST = 32;
/** Claim hashes remembered (values up to CLAIM_CACHE_TEXT characters); the map is emptied when full. */
const CLAIM_CACHE_MAX = 4096;
const CLAIM_CACHE_TEXT = 256;

export interface Fingerprinter {
  readonly keyId: string;
  /** True when the key was generated for this run (no key configured). */
  readonly ephemeral: boolean;
  /** base64url of the first 128 bits of HMAC-SHA-256(key, data). */
  fingerprint(data: string | Uint8Array): string;
  /** `hmac:<keyid>:<fp>`, the form sensitive claim values take in outputs. */
  claimHash(value: string | Uint8Array): string;
}

/** HMAC-SHA-256 under `key`, truncated to FP_BYTES and base64url-encoded. */
function hmacFingerprint(key: Uint8Array): (data: string | Uint8Array) => string {
  const k = Buffer.alloc(BLOCK);
  (key.length > BLOCK ? hash('sha256', key, 'buffer') : Buffer.from(key)).copy(k);
  const ipad = Buffer.allocUnsafe(BLOCK);
  const outer = Buffer.allocUnsafe(BLOCK + DIGEST);
  for (let i = 0; i < BLOCK; i++) {
    ipad[i] = k[i]! ^ 0x36;
    outer[i] = k[i]! ^ 0x5c;
  }
  let inner = Buffer.allocUnsafe(4096);
  ipad.copy(inner, 0);
  return (data) => {
    // A string is hashed as its UTF-8 bytes (lone surrogates as U+FFFD), as Hmac#update does.
    const n = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
    if (BLOCK + n > inner.length) {
      inner = Buffer.allocUnsafe(2 * (BLOCK + n));
      ipad.copy(inner, 0);
    }
    if (typeof data === 'string') inner.write(data, BLOCK, 'utf8');
    else inner.set(data, BLOCK);
    hash('sha256', inner.subarray(0, BLOCK + n), 'buffer').copy(outer, BLOCK);
    return hash('sha256', outer, 'buffer').toString('base64url', 0, FP_BYTES);
  };
}

export function createFingerprinter(key: Uint8Array, keyId: string, ephemeral = false): Fingerprinter {
  if (key.length < 16) throw new ConfigError('fingerprint key is shorter than 16 bytes', { field: 'key' });
  if (!KEY_ID.test(keyId)) {
    throw new ConfigError('key id must be 1-32 characters of A-Z a-z 0-9 _ -', { field: 'key_id' });
  }
  const fingerprint = hmacFingerprint(key);
  const claims = new Map<string, string>();
  return {
    keyId,
    ephemeral,
    fingerprint,
    claimHash: (value) => {
      if (typeof value !== 'string' || value.length > CLAIM_CACHE_TEXT)
        return `hmac:${keyId}:${fingerprint(value)}`;
      let h = claims.get(value);
      if (h === undefined) {
        h = `hmac:${keyId}:${fingerprint(value)}`;
        if (claims.size >= CLAIM_CACHE_MAX) claims.clear();
        claims.set(value, h);
      }
      return h;
    },
  };
}

/** For `scan` and `filter` without a configured key: a random key for this run only. */
export function ephemeralFingerprinter(): Fingerprinter {
  return createFingerprinter(randomBytes(32), 'run', true);
}
