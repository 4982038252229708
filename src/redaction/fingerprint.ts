// Keyed correlation (R3): HMAC-SHA-256 under a configured key, truncated to 128 bits,
// always shown with the key id so that fingerprints from different keys are never compared.
import { createHmac, randomBytes } from 'node:crypto';
import { ConfigError } from '../util/errors.ts';

/** Fingerprint bytes kept from the HMAC: 16 bytes = 128 bits (the floor is 64). */
const FP_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export interface Fingerprinter {
  readonly keyId: string;
  /** True when the key was generated for this run (no key configured). */
  readonly ephemeral: boolean;
  /** base64url of the first 128 bits of HMAC-SHA-256(key, data). */
  fingerprint(data: string | Uint8Array): string;
  /** `hmac:<keyid>:<fp>`, the form sensitive claim values take in outputs. */
  claimHash(value: string | Uint8Array): string;
}

export function createFingerprinter(key: Uint8Array, keyId: string, ephemeral = false): Fingerprinter {
  if (key.length < 16) throw new ConfigError('fingerprint key is shorter than 16 bytes', { field: 'key' });
  if (!KEY_ID.test(keyId)) {
    throw new ConfigError('key id must be 1-32 characters of A-Z a-z 0-9 _ -', { field: 'key_id' });
  }
  const fingerprint = (data: string | Uint8Array): string =>
    createHmac('sha256', key).update(data).digest().subarray(0, FP_BYTES).toString('base64url');
  return {
    keyId,
    ephemeral,
    fingerprint,
    claimHash: (value) => `hmac:${keyId}:${fingerprint(value)}`,
  };
}

/** For `scan` and `filter` without a configured key: a random key for this run only. */
export function ephemeralFingerprinter(): Fingerprinter {
  return createFingerprinter(randomBytes(32), 'run', true);
}
