// Decoding: what a detected token says. Headers and claims are read with `jose`; JWEs are
// decrypted with `jose` when the user supplied keys. Nothing here verifies a signature: a
// token is dangerous whether or not it verifies.
import { readFileSync } from 'node:fs';
import {
  base64url,
  compactDecrypt,
  decodeProtectedHeader,
  type FlattenedJWE,
  flattenedDecrypt,
  type GeneralJWE,
  generalDecrypt,
  importJWK,
  type JWK,
} from 'jose';
import type { TokenItem } from '../detection/index.ts';
import { scan, tokensOf } from '../detection/index.ts';
import type { DecodedToken, JoseHeader, JsonObject, Payload } from '../model.ts';
import { ConfigError } from '../util/errors.ts';

type DecryptionKey = Awaited<ReturnType<typeof importJWK>>;

export interface KeyEntry {
  kid?: string;
  alg?: string;
  key: DecryptionKey;
}

/** Decryption keys from a JWK Set file (private keys or symmetric keys). */
export interface KeySet {
  keys: KeyEntry[];
}

export async function loadKeySet(file: string): Promise<KeySet> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `cannot read JWK set: ${err instanceof SyntaxError ? 'not JSON' : String((err as NodeJS.ErrnoException).code)}`,
      { file },
    );
  }
  const list = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(list)) throw new ConfigError('a JWK set needs a "keys" array', { file, field: 'keys' });
  const keys: KeyEntry[] = [];
  for (const [i, jwk] of list.entries()) {
    if (jwk === null || typeof jwk !== 'object')
      throw new ConfigError('not a JWK object', { file, field: `keys[${i}]` });
    const j = jwk as JWK;
    const alg = j.alg;
    try {
      // `alg` is needed by importJWK for RSA/EC keys; a per-use alg is resolved at decrypt time.
      const key = await importJWK(
        j,
        alg ?? (j.kty === 'oct' ? 'A256KW' : j.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES'),
      );
      keys.push({
        ...(j.kid !== undefined ? { kid: j.kid } : {}),
        ...(alg !== undefined ? { alg } : {}),
        key,
      });
    } catch {
      throw new ConfigError('cannot import key (check kty, alg and key material)', {
        file,
        field: `keys[${i}]`,
      });
    }
  }
  return { keys };
}

function jsonObject(v: unknown): JsonObject | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The readable meaning of a JWS payload or a JWE plaintext. */
export function readPayload(bytes: Uint8Array): Payload {
  if (bytes.length === 0) return { type: 'detached' };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { type: 'opaque', length: bytes.length };
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const claims = jsonObject(JSON.parse(trimmed));
      if (claims !== null) return { type: 'claims', claims };
    } catch {
      // not JSON: opaque below
    }
  }
  const inner = tokensOf(scan(Buffer.from(trimmed, 'utf8')).items);
  if (inner.length === 1 && inner[0]!.token.length >= trimmed.length - 2)
    return { type: 'token', inner: inner[0]!.token };
  return { type: 'opaque', length: bytes.length };
}

function b64(s: string): Uint8Array | null {
  try {
    return base64url.decode(s);
  } catch {
    return null;
  }
}

const B64URL_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')
  B64URL_CHAR[c.charCodeAt(0)] = 1;

/** Only base64url characters, no padding, and a length base64 can have (not 1 mod 4). */
function plainBase64url(s: string): boolean {
  if (s.length % 4 === 1) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || B64URL_CHAR[c] !== 1) return false;
  }
  return true;
}

/**
 * The claims set when the payload is a JSON object, else null: what jose's decodeJwt accepts
 * (exactly three segments, a non-empty payload, jose's base64url decoding, strict UTF-8, a JSON
 * object), without splitting the whole token or throwing on the way.
 */
function claimsSet(token: string, firstDot: number, lastDot: number, payloadText: string): JsonObject | null {
  if (firstDot < 0 || firstDot === lastDot || token.indexOf('.', firstDot + 1) !== lastDot) return null;
  if (payloadText.length === 0) return null;
  let bytes: Uint8Array;
  if (plainBase64url(payloadText)) {
    // Only base64url characters and a possible length: jose's (forgiving) decoding and Node's agree.
    bytes = Buffer.from(payloadText, 'base64url');
  } else {
    try {
      bytes = base64url.decode(payloadText);
    } catch {
      return null;
    }
  }
  try {
    return jsonObject(JSON.parse(utf8.decode(bytes)));
  } catch {
    return null;
  }
}

function compactJws(item: TokenItem): DecodedToken {
  const token = item.token;
  const header = (item.header ?? (decodeProtectedHeader(token) as JoseHeader)) as JoseHeader;
  const firstDot = token.indexOf('.');
  const lastDot = token.lastIndexOf('.');
  const payloadText = token.slice(firstDot + 1, lastDot);
  let payload: Payload;
  if (header.b64 === false) {
    payload =
      payloadText.length === 0 ? { type: 'detached' } : { type: 'opaque', length: payloadText.length };
  } else {
    const claims = claimsSet(token, firstDot, lastDot, payloadText);
    if (claims !== null) payload = { type: 'claims', claims };
    else {
      const bytes = b64(payloadText);
      payload = bytes === null ? { type: 'opaque', length: payloadText.length } : readPayload(bytes);
    }
  }
  return {
    kind: item.kind,
    serialization: 'compact',
    header,
    headers: [header],
    payload,
    nested: payload.type === 'token',
    decrypted: false,
    signing: lazySigning(token, lastDot),
    length: token.length,
  };
}

/**
 * The signing input and signature bytes of a compact JWS, made on first use: only the HMAC
 * weak-secret check reads them, so most tokens never pay for the copy and the decoding.
 */
function lazySigning(token: string, lastDot: number): { input: Uint8Array; signature: Uint8Array } {
  let input: Uint8Array | undefined;
  let signature: Uint8Array | undefined;
  return {
    get input() {
      input ??= Buffer.from(token.slice(0, lastDot), 'latin1');
      return input;
    },
    get signature() {
      signature ??= b64(token.slice(lastDot + 1)) ?? new Uint8Array();
      return signature;
    },
  };
}

function jsonJws(item: TokenItem, obj: Record<string, unknown>): DecodedToken {
  const entries = Array.isArray(obj.signatures) ? (obj.signatures as Record<string, unknown>[]) : [obj];
  const headers: JoseHeader[] = entries.map((e) => {
    const prot =
      typeof e.protected === 'string'
        ? (decodeProtectedHeader({ protected: e.protected } as never) as JoseHeader)
        : {};
    return { ...(jsonObject(e.header) ?? {}), ...prot };
  });
  const payloadB64 = typeof obj.payload === 'string' ? obj.payload : undefined;
  const header = headers[0] ?? item.header ?? {};
  let payload: Payload;
  if (payloadB64 === undefined || payloadB64.length === 0) payload = { type: 'detached' };
  else if (header.b64 === false) payload = { type: 'opaque', length: payloadB64.length };
  else {
    const bytes = b64(payloadB64);
    payload = bytes === null ? { type: 'opaque', length: payloadB64.length } : readPayload(bytes);
  }
  const first = entries[0]!;
  const signature = typeof first.signature === 'string' ? b64(first.signature) : null;
  const signing =
    signature !== null &&
    typeof first.protected === 'string' &&
    payloadB64 !== undefined &&
    header.b64 !== false
      ? { input: Buffer.from(`${first.protected}.${payloadB64}`, 'latin1'), signature }
      : undefined;
  return {
    kind: item.kind,
    serialization: item.serialization,
    header,
    headers,
    payload,
    nested: payload.type === 'token',
    decrypted: false,
    ...(signing !== undefined ? { signing } : {}),
    length: item.token.length,
  };
}

function jweHeaders(item: TokenItem, obj: Record<string, unknown> | undefined): JoseHeader[] {
  if (obj === undefined) return [item.header ?? (decodeProtectedHeader(item.token) as JoseHeader)];
  const prot =
    typeof obj.protected === 'string'
      ? (decodeProtectedHeader({ protected: obj.protected } as never) as JoseHeader)
      : {};
  const shared = { ...(jsonObject(obj.unprotected) ?? {}), ...prot };
  const recipients = Array.isArray(obj.recipients) ? (obj.recipients as Record<string, unknown>[]) : [obj];
  return recipients.map((r) => ({ ...(jsonObject(r.header) ?? {}), ...shared }) as JoseHeader);
}

async function tryDecrypt(item: TokenItem, keys: KeySet, headers: JoseHeader[]): Promise<Uint8Array | null> {
  const kids = new Set(headers.map((h) => h.kid).filter((k): k is string => typeof k === 'string'));
  const candidates = keys.keys.filter((k) => kids.size === 0 || k.kid === undefined || kids.has(k.kid));
  for (const { key } of candidates) {
    try {
      if (item.serialization === 'compact') return (await compactDecrypt(item.token, key)).plaintext;
      const obj = item.json as unknown;
      if (item.serialization === 'json_flat')
        return (await flattenedDecrypt(obj as FlattenedJWE, key)).plaintext;
      return (await generalDecrypt(obj as GeneralJWE, key)).plaintext;
    } catch {
      // wrong key or not for us: try the next
    }
  }
  return null;
}

/** Decodes a detected token; with `keys`, JWEs are decrypted and their content read. */
export async function decodeToken(item: TokenItem, keys?: KeySet): Promise<DecodedToken> {
  if (item.kind !== 'jwe') {
    return item.serialization === 'compact' ? compactJws(item) : jsonJws(item, item.json ?? {});
  }
  const headers = jweHeaders(item, item.serialization === 'compact' ? undefined : item.json);
  const header = headers[0]!;
  const cty = typeof header.cty === 'string' ? header.cty.toUpperCase() : '';
  let payload: Payload = { type: 'encrypted' };
  let decrypted = false;
  if (keys !== undefined && keys.keys.length > 0) {
    const plaintext = await tryDecrypt(item, keys, headers);
    if (plaintext !== null) {
      decrypted = true;
      payload = readPayload(plaintext);
    }
  }
  return {
    kind: 'jwe',
    serialization: item.serialization,
    header,
    headers,
    payload,
    nested: cty === 'JWT' || cty === 'APPLICATION/JWT' || payload.type === 'token',
    decrypted,
    length: item.token.length,
  };
}

/** Synchronous decode for tokens that need no decryption (every JWS and unsecured token). */
export function decodeReadable(item: TokenItem): DecodedToken {
  if (item.kind === 'jwe') {
    const headers = jweHeaders(item, item.serialization === 'compact' ? undefined : item.json);
    const header = headers[0]!;
    const cty = typeof header.cty === 'string' ? header.cty.toUpperCase() : '';
    return {
      kind: 'jwe',
      serialization: item.serialization,
      header,
      headers,
      payload: { type: 'encrypted' },
      nested: cty === 'JWT' || cty === 'APPLICATION/JWT',
      decrypted: false,
      length: item.token.length,
    };
  }
  return item.serialization === 'compact' ? compactJws(item) : jsonJws(item, item.json ?? {});
}
