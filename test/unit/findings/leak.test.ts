// R1/R2 for the findings output: findings built from real tokens (the way the engine builds them:
// header decoded, sensitive claims replaced by keyed hashes) come out of every format, the writers
// and the summary without a complete token, signature, JWE encrypted key, ciphertext or tag, payload
// segment, or any sensitive claim value in clear.
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  base64url,
  CompactEncrypt,
  compactDecrypt,
  decodeProtectedHeader,
  EncryptJWT,
  FlattenedSign,
  generateKeyPair,
  generateSecret,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createFindingWriter,
  FINDING_FORMATS,
  formatObject,
  renderSummary,
  summarize,
} from '../../../src/findings/index.ts';
import type {
  Finding,
  JoseHeader,
  JsonObject,
  JsonValue,
  Serialization,
  TokenKind,
} from '../../../src/model.ts';

const FP_KEY = randomBytes(32);
const KEY_ID = 'k1';
const hmac = (data: string) =>
  createHmac('sha256', FP_KEY).update(data).digest().subarray(0, 16).toString('base64url');
const claimHash = (v: JsonValue) => `hmac:${KEY_ID}:${hmac(typeof v === 'string' ? v : JSON.stringify(v))}`;

/** The policy of this test: these claim names are sensitive wherever they appear. */
const SENSITIVE = new Set([
  'sub',
  'email',
  'name',
  'phone_number',
  'preferred_username',
  'employee_id',
  'ip',
]);

const PII = {
  sub: 'user-7f3a9c1e-4b2d',
  email: 'alice.smith@corp.example',
  name: 'Alice Smith-Jones',
  phone_number: '+1 555 0100 1234',
  'https://corp.example/claims': { employee_id: 'E-99812-XZ', ip: '10.20.30.40', team: 'payments' },
};
const SENSITIVE_VALUES = [
  'user-7f3a9c1e-4b2d',
  'alice.smith@corp.example',
  'Alice Smith-Jones',
  '+1 555 0100 1234',
  'E-99812-XZ',
  '10.20.30.40',
];
const PUBLIC = { scope: 'payments:write', tenant: 'acme' };

function sanitize(claims: JsonObject, pointer: string, categories: Record<string, string>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(claims)) {
    const at = `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (SENSITIVE.has(k)) {
      out[k] = claimHash(v);
      categories[pointer === '' ? k : at] = 'pii.sensitive';
    } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out[k] = sanitize(v, at, categories);
    } else {
      out[k] = v;
    }
  }
  return out;
}

type TokenParts = Pick<Finding, 'token' | 'header' | 'claims' | 'classification' | 'status'>;

function tokenParts(
  token: string,
  kind: TokenKind,
  serialization: Serialization,
  header: JoseHeader,
  payload: JsonObject | undefined,
  nested: boolean,
): TokenParts {
  const categories: Record<string, string> = {};
  const claims = payload === undefined ? {} : sanitize(payload, '', categories);
  const exp = typeof payload?.exp === 'number' ? payload.exp : undefined;
  return {
    token: {
      kind,
      serialization,
      encoding: [],
      context: 'bearer',
      nested,
      fingerprint: `${KEY_ID}:${hmac(token)}`,
      length: token.length,
    },
    header: JSON.parse(JSON.stringify(header)) as Record<string, JsonValue>,
    claims,
    classification: { identity: 'human', token_type: 'access', claims: categories },
    status:
      exp === undefined
        ? {}
        : { expires_at: new Date(exp * 1000).toISOString(), expired: exp * 1000 < Date.now() },
  };
}

function finding(parts: TokenParts, inner?: TokenParts): Finding {
  return {
    schema: 'jwt-redactor/finding@1',
    id: `f-${parts.token.fingerprint}`,
    time: new Date().toISOString(),
    rule: 'jwt-exposed',
    severity: 'high',
    source: { kind: 'file', name: 'logs/app.log', line: 1 },
    ...parts,
    risks: [{ id: 'pii-in-token', severity: 'high', reason: 'token carries personal data', frameworks: [] }],
    frameworks: ['OWASP-NHI:NHI2:2025'],
    action: 'sanitize',
    inner:
      inner === undefined
        ? undefined
        : { rule: 'jwt-exposed', severity: 'high', ...inner, risks: [], frameworks: [], action: 'sanitize' },
  };
}

const payloadOf = (jws: string) =>
  JSON.parse(new TextDecoder().decode(base64url.decode(jws.split('.')[1] ?? ''))) as JsonObject;

/** A token and the wrapped forms a leak could take. */
function forms(secret: string): string[] {
  return [
    secret,
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('base64url'),
    encodeURIComponent(secret),
  ];
}

interface Case {
  name: string;
  finding: Finding;
  forbidden: string[];
  /** Hashed values that must be present: proof the claims were carried, not dropped. */
  hashed: string[];
}

async function jwsCase(name: string, token: string, nested = false): Promise<Case> {
  const [, payload = '', signature = ''] = token.split('.');
  const claims = payloadOf(token);
  return {
    name,
    finding: finding(
      tokenParts(
        token,
        signature === '' ? 'unsecured' : 'jws',
        'compact',
        decodeProtectedHeader(token),
        claims,
        nested,
      ),
    ),
    forbidden: [...forms(token), payload, signature],
    hashed: [claimHash(PII.email), claimHash(PII.sub)],
  };
}

function jweCase(name: string, token: string, inner?: { token: string; parts: TokenParts }): Case {
  const [, encryptedKey = '', , ciphertext = '', tag = ''] = token.split('.');
  const innerForbidden =
    inner === undefined ? [] : [...forms(inner.token), ...inner.token.split('.').slice(1)];
  return {
    name,
    finding: finding(
      tokenParts(token, 'jwe', 'compact', decodeProtectedHeader(token), undefined, inner !== undefined),
      inner?.parts,
    ),
    forbidden: [...forms(token), encryptedKey, ciphertext, tag, ...innerForbidden],
    hashed: inner === undefined ? [] : [claimHash(PII.email)],
  };
}

async function buildCases(): Promise<Case[]> {
  const claims = { ...PII, ...PUBLIC };
  const hs = await generateSecret('HS256');
  const es = await generateKeyPair('ES256');
  const rs = await generateKeyPair('RS256');
  const rsaEnc = await generateKeyPair('RSA-OAEP-256');
  const ecdh = await generateKeyPair('ECDH-ES');
  const dir = await generateSecret('A128GCM');

  const hsToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(hs);
  const esToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'es-1' })
    .setIssuer('https://login.corp.example')
    .sign(es.privateKey);
  const rsToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'rs-1' })
    .setExpirationTime('1h')
    .sign(rs.privateKey);
  const unsecured = new UnsecuredJWT(claims).setIssuedAt().encode();

  const flat = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'ES256' })
    .setUnprotectedHeader({ kid: 'es-1' })
    .sign(es.privateKey);
  const flatText = JSON.stringify(flat);
  const flatCase: Case = {
    name: 'flattened JSON JWS',
    finding: finding(
      tokenParts(
        flatText,
        'jws',
        'json_flat',
        { ...decodeProtectedHeader(flat), ...flat.header },
        JSON.parse(new TextDecoder().decode(base64url.decode(flat.payload))),
        false,
      ),
    ),
    forbidden: [...forms(flatText), flat.signature, flat.payload],
    hashed: [claimHash(PII.email)],
  };

  const rsaJwe = await new EncryptJWT(claims)
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'enc-1' })
    .encrypt(rsaEnc.publicKey);
  const ecdhJwe = await new EncryptJWT(claims)
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM' })
    .encrypt(ecdh.publicKey);
  const dirJwe = await new EncryptJWT(claims).setProtectedHeader({ alg: 'dir', enc: 'A128GCM' }).encrypt(dir);

  // Nested (RFC 7519 A.2): a signed JWT inside a JWE with cty JWT, decrypted with a configured key.
  const nestedJwe = await new CompactEncrypt(new TextEncoder().encode(esToken))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' })
    .encrypt(rsaEnc.publicKey);
  const plaintext = new TextDecoder().decode((await compactDecrypt(nestedJwe, rsaEnc.privateKey)).plaintext);
  const innerParts = tokenParts(
    plaintext,
    'jws',
    'compact',
    decodeProtectedHeader(plaintext),
    payloadOf(plaintext),
    false,
  );

  return [
    await jwsCase('HS256 JWT', hsToken),
    await jwsCase('ES256 JWT', esToken),
    await jwsCase('RS256 at+jwt', rsToken),
    await jwsCase('unsecured JWT', unsecured),
    flatCase,
    jweCase('JWE RSA-OAEP-256/A256GCM', rsaJwe),
    jweCase('JWE ECDH-ES/A256GCM (empty encrypted key)', ecdhJwe),
    jweCase('JWE dir/A128GCM', dirJwe),
    jweCase('nested JWE(JWS), decrypted', nestedJwe, { token: plaintext, parts: innerParts }),
  ];
}

function strings(v: JsonValue, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      strings(x, out);
    }
  return out;
}

/** Everything the findings side can emit for these findings: every format, writers, summary. */
async function everyOutput(findings: Finding[]): Promise<string[]> {
  const texts: string[] = [];
  for (const format of FINDING_FORMATS) {
    for (const f of findings) texts.push(...strings(formatObject(format, f)));
    const written: string[] = [];
    const w = createFindingWriter(format, { write: (s) => written.push(s) });
    for (const f of findings) w.write(f);
    await w.end();
    texts.push(written.join(''));
  }
  texts.push(renderSummary(summarize(findings)));
  return texts;
}

function leaks(texts: string[], forbidden: string[]): string[] {
  const significant = forbidden.filter((s) => s.length >= 8);
  return significant.filter((s) => texts.some((t) => t.includes(s)));
}

describe('formatted findings never carry tokens or sensitive values (R1, R2)', () => {
  it('for JWS, unsecured, JSON-serialized, JWE and nested tokens made with jose', async () => {
    const cases = await buildCases();
    for (const c of cases) {
      const texts = await everyOutput([c.finding]);
      expect(leaks(texts, [...c.forbidden, ...SENSITIVE_VALUES]), c.name).toEqual([]);
      for (const h of c.hashed)
        expect(
          texts.some((t) => t.includes(h)),
          `${c.name}: ${h}`,
        ).toBe(true);
      expect(
        texts.some((t) => t.includes(c.finding.token.fingerprint)),
        c.name,
      ).toBe(true);
    }
  });

  it('keeps non-sensitive claims readable (the check above is not vacuous)', async () => {
    const [hs] = await buildCases();
    const texts = await everyOutput([hs?.finding as Finding]);
    expect(texts.some((t) => t.includes('payments:write'))).toBe(true);
    // The forbidden list would catch a leak: the unredacted payload does contain the values.
    expect(leaks([JSON.stringify(PII)], SENSITIVE_VALUES)).toEqual(SENSITIVE_VALUES);
  });

  it('for random sensitive values in HS256 tokens', async () => {
    const key = await generateSecret('HS256');
    const value = fc.string({ unit: 'grapheme', minLength: 6, maxLength: 40 }).map((s) => `secret-${s}`);
    await fc.assert(
      fc.asyncProperty(
        value,
        value,
        value,
        fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
        async (sub, email, name, note) => {
          const token = await new SignJWT({ sub, email, name, note })
            .setProtectedHeader({ alg: 'HS256' })
            .sign(key);
          const c = await jwsCase('random', token);
          const texts = await everyOutput([c.finding]);
          const found = leaks(texts, [...c.forbidden, sub, email, name, JSON.stringify(email).slice(1, -1)]);
          expect(found).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
