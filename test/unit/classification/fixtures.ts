// Test fixtures: tokens are signed at test time with jose and generated keys (no credential is
// committed), then decoded by a minimal compact decoder into the shared DecodedToken shape.
import { createHmac } from 'node:crypto';
import { type CryptoKey, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import {
  type ClassificationRules,
  classify,
  loadClassificationRules,
  timeStatus,
} from '../../../src/classification/index.ts';
import type { DecodedToken, JoseHeader, JsonObject } from '../../../src/model.ts';

/** The clock every test uses: claims are set relative to it. */
export const NOW = new Date('2026-01-15T12:00:00Z');
export const NOW_S = Math.floor(NOW.getTime() / 1000);

let cachedRules: ClassificationRules | undefined;
export function rules(): ClassificationRules {
  cachedRules ??= loadClassificationRules();
  return cachedRules;
}

const keyCache = new Map<string, Promise<CryptoKey>>();
/** A private key for an asymmetric alg, generated once per test file. */
export function privateKey(alg: string): Promise<CryptoKey> {
  let k = keyCache.get(alg);
  if (!k) {
    k = generateKeyPair(alg, { modulusLength: 2048 }).then((p) => p.privateKey);
    keyCache.set(alg, k);
  }
  return k;
}

function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** A compact JWS signed with jose: RS/ES/PS/EdDSA with a generated key, HS* with `secret`. */
export async function sign(
  claims: JsonObject,
  header: JoseHeader & { alg: string } = { alg: 'ES256' },
  secret?: string | Uint8Array,
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader(header as Parameters<SignJWT['setProtectedHeader']>[0]);
  if (header.alg.startsWith('HS')) {
    const key =
      typeof secret === 'string' ? new TextEncoder().encode(secret) : (secret ?? new Uint8Array(32));
    return jwt.sign(key);
  }
  return jwt.sign(await privateKey(header.alg));
}

export function unsecured(claims: JsonObject): string {
  return new UnsecuredJWT(claims).encode();
}

/**
 * A compact JWS built by hand, for headers jose refuses to produce (b64 without crit, bogus crit,
 * hostile kid): HMAC-signed when `secret` is given, else a random-looking signature.
 */
export function craft(
  header: Record<string, unknown>,
  payload: JsonObject | string,
  secret?: string,
): string {
  const h = b64url(JSON.stringify(header));
  const p = b64url(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const input = `${h}.${p}`;
  const alg = String(header['alg'] ?? 'HS256');
  const hashName = alg === 'HS384' ? 'sha384' : alg === 'HS512' ? 'sha512' : 'sha256';
  const sig =
    secret !== undefined ? createHmac(hashName, secret).update(input).digest() : Buffer.alloc(32, 7);
  return `${input}.${b64url(sig)}`;
}

/** A minimal compact decoder (the real one lives in src/decoding, another stage). */
export function decode(token: string): DecodedToken {
  const parts = token.split('.');
  const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as JoseHeader;
  if (parts.length === 5) {
    return {
      kind: 'jwe',
      serialization: 'compact',
      header,
      headers: [header],
      payload: { type: 'encrypted' },
      nested: false,
      decrypted: false,
      length: token.length,
    };
  }
  const text = header.b64 === false ? parts[1]! : Buffer.from(parts[1]!, 'base64url').toString('utf8');
  let payload: DecodedToken['payload'];
  try {
    const parsed = JSON.parse(text) as unknown;
    payload =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? { type: 'claims', claims: parsed as JsonObject }
        : { type: 'opaque', length: text.length };
  } catch {
    payload = { type: 'opaque', length: text.length };
  }
  const unsecuredToken =
    typeof header.alg === 'string' && header.alg.toLowerCase() === 'none' && parts[2] === '';
  return {
    kind: unsecuredToken ? 'unsecured' : 'jws',
    serialization: 'compact',
    header,
    headers: [header],
    payload,
    nested: false,
    decrypted: false,
    ...(unsecuredToken
      ? {}
      : {
          signing: {
            input: new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
            signature: new Uint8Array(Buffer.from(parts[2]!, 'base64url')),
          },
        }),
    length: token.length,
  };
}

/** A decoded compact JWS built as it is, not signed and not parsed: any claims, any header. */
export function decodedJws(
  claims: JsonObject,
  header: JoseHeader = { alg: 'HS256' },
  o: { kind?: 'jws' | 'unsecured'; signingInput?: string; length?: number } = {},
): DecodedToken {
  return {
    kind: o.kind ?? 'jws',
    serialization: 'compact',
    header,
    headers: [header],
    payload: { type: 'claims', claims },
    nested: false,
    decrypted: false,
    signing: { input: new TextEncoder().encode(o.signingInput ?? 'a.b'), signature: new Uint8Array(32) },
    length: o.length ?? 1,
  };
}

/** A decoded JWE (compact) with the given protected header, payload not readable. */
export function jwe(header: JoseHeader): DecodedToken {
  return decode(
    `${b64url(JSON.stringify(header))}.${b64url('k')}.${b64url('iv')}.${b64url('ct')}.${b64url('tag')}`,
  );
}

/** classify + timeStatus + the inputs assessRisks wants, for a token. */
export function analyse(token: string | DecodedToken, now = NOW) {
  const decoded = typeof token === 'string' ? decode(token) : token;
  const classification = classify(decoded, rules());
  const claims = decoded.payload.type === 'claims' ? decoded.payload.claims : undefined;
  const status = timeStatus(claims, now);
  return { decoded, classification, status };
}

/** Claims valid for 10 minutes around NOW. */
export function fresh(extra: JsonObject = {}): JsonObject {
  return { iat: NOW_S - 60, nbf: NOW_S - 60, exp: NOW_S + 540, ...extra };
}
