// Token fixtures made at test time with `jose`: no real credential is ever committed.
import {
  CompactEncrypt,
  CompactSign,
  type CryptoKey,
  FlattenedSign,
  GeneralSign,
  generateKeyPair,
  generateSecret,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';

export interface Keys {
  rs256: { privateKey: CryptoKey; publicKey: CryptoKey };
  es256: { privateKey: CryptoKey; publicKey: CryptoKey };
  hs256: Uint8Array;
  rsaOaep: { privateKey: CryptoKey; publicKey: CryptoKey };
  a128kw: Uint8Array;
}

let cached: Promise<Keys> | undefined;

export function keys(): Promise<Keys> {
  cached ??= (async () => ({
    rs256: await generateKeyPair('RS256', { extractable: true }),
    es256: await generateKeyPair('ES256', { extractable: true }),
    hs256: crypto.getRandomValues(new Uint8Array(32)),
    rsaOaep: await generateKeyPair('RSA-OAEP-256', { extractable: true }),
    a128kw: crypto.getRandomValues(new Uint8Array(16)),
  }))();
  return cached;
}

export const NOW = () => Math.floor(Date.now() / 1000);

export async function jwsRS256(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const k = await keys();
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header })
    .sign(k.rs256.privateKey);
}

export async function jwsES256(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const k = await keys();
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', ...header }).sign(k.es256.privateKey);
}

export async function jwsHS256(
  claims: JWTPayload,
  secret?: string,
  header: Record<string, unknown> = {},
): Promise<string> {
  const k = await keys();
  const key = secret === undefined ? k.hs256 : new TextEncoder().encode(secret);
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(key);
}

export function unsecured(claims: JWTPayload): string {
  return new UnsecuredJWT(claims).encode();
}

export async function jweRsaOaep(plaintext: string, header: Record<string, unknown> = {}): Promise<string> {
  const k = await keys();
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', ...header })
    .encrypt(k.rsaOaep.publicKey);
}

export async function jweDir(plaintext: string): Promise<string> {
  const secret = await generateSecret('A128CBC-HS256', { extractable: true });
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'dir', enc: 'A128CBC-HS256' })
    .encrypt(secret);
}

export async function jwsFlattened(payload: string): Promise<Record<string, unknown>> {
  const k = await keys();
  return (await new FlattenedSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: 'ES256' })
    .sign(k.es256.privateKey)) as unknown as Record<string, unknown>;
}

export async function jwsGeneral(payload: string): Promise<Record<string, unknown>> {
  const k = await keys();
  const g = new GeneralSign(new TextEncoder().encode(payload));
  g.addSignature(k.es256.privateKey).setProtectedHeader({ alg: 'ES256' });
  g.addSignature(k.rs256.privateKey).setProtectedHeader({ alg: 'RS256' });
  return (await g.sign()) as unknown as Record<string, unknown>;
}

export async function compactDetachedHS256(): Promise<string> {
  const k = await keys();
  const full = await new CompactSign(new TextEncoder().encode('detached content'))
    .setProtectedHeader({ alg: 'HS256' })
    .sign(k.hs256);
  const [h, , s] = full.split('.');
  return `${h}..${s}`;
}

/** A realistic live Kubernetes bound service-account token's claims. */
export function k8sClaims(now = NOW()): JWTPayload {
  return {
    aud: ['https://kubernetes.default.svc.cluster.local'],
    exp: now + 3600,
    iat: now - 60,
    iss: 'https://kubernetes.default.svc.cluster.local',
    nbf: now - 60,
    sub: 'system:serviceaccount:payments:api-worker',
    'kubernetes.io': {
      namespace: 'payments',
      pod: { name: 'api-worker-7d9c', uid: '2b9c7e4e-0b7f-4a4f-9d31-2f1c8f0a1b2c' },
      serviceaccount: { name: 'api-worker', uid: '5f8a3c2e-1d4b-4e6f-8a9b-0c1d2e3f4a5b' },
    },
  };
}

export function humanClaims(now = NOW()): JWTPayload {
  return {
    iss: 'https://login.example.com/',
    sub: 'user-8842',
    aud: 'web-app',
    exp: now + 900,
    iat: now,
    email: 'alice.liddell@example.com',
    name: 'Alice Liddell',
    scope: 'openid profile email',
  };
}
