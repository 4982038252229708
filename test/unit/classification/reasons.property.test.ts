// Property: a risk reason never contains a claim value or a header value (SPEC R2: findings carry
// reasons, and reasons must not leak what redaction hides).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessRisks, classify, timeStatus } from '../../../src/classification/index.ts';
import type { JoseHeader, JsonObject, JsonValue } from '../../../src/model.ts';
import { decodedJws, NOW, NOW_S, rules } from './fixtures.ts';

/** A distinctive core no reason template could contain by chance. */
const core = fc.stringMatching(/^[A-Za-z0-9]{10,24}$/);

/** Values shaped to trigger detectors and risks, each carrying a distinctive core. */
const value = fc
  .tuple(
    fc.constantFrom(
      (c: string) => c,
      (c: string) => `${c}@example.com`,
      (c: string) => `ghp_${c}${'a'.repeat(36)}`,
      (c: string) => `AKIA${c.toUpperCase().padEnd(16, 'Q').slice(0, 16)}`,
      (c: string) => `https://${c}.internal/cb`,
      (c: string) => `10.0.0.1 ${c}`,
      (c: string) => `admin ${c} *`,
      (c: string) => `../../${c}`,
      (c: string) => `eyJ${c}.eyJ${c}`,
      (c: string) => `system:masters ${c}`,
      (c: string) => `${c}' OR '1'='1`,
      (c: string) => `spiffe://${c}`,
      (c: string) => `${c}.iam.gserviceaccount.com`,
    ),
    core,
  )
  .map(([shape, c]) => ({ text: shape(c), core: c }));

const NAMES = [
  'iss', 'sub', 'aud', 'email', 'name', 'scope', 'scp', 'roles', 'groups', 'client_secret', 'password', 'note',
  'event_name', 'ref_protected', 'repository', 'role', 'tid', 'act', 'kubernetes.io', 'events', 'nonce', 'htm', 'htu',
  'custom_field', 'x', 'token_use', 'gty', 'cid', 'client_id', 'idtyp',
]; // biome-ignore format: a list

describe('risk reasons', () => {
  it('never contain a claim or header value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(fc.constantFrom(...NAMES), core), value, fc.nat(3)), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.record({ kid: value, typ: value, jku: value, crit: value }),
        fc.constantFrom('HS256', 'RS256', 'none', 'NONE', 'RSA1_5'),
        fc.integer({ min: -10 * 86400, max: 400 * 86400 }),
        fc.boolean(),
        (entries, headerValues, alg, expOffset, withTimes) => {
          const secrets: string[] = [];
          const claims: JsonObject = withTimes ? { iat: NOW_S - 60, exp: NOW_S + expOffset } : {};
          for (const [name, v, shape] of entries) {
            secrets.push(v.text, v.core);
            // scalar, array, nested object or nested array of objects
            const wrapped: JsonValue[] = [
              v.text,
              [v.text, 'x'],
              { inner: v.text, email: v.text },
              [{ sub: v.text }],
            ];
            claims[name] = wrapped[shape]!;
          }
          const header: JoseHeader = {
            alg,
            kid: headerValues.kid.text,
            typ: headerValues.typ.text,
            crit: [headerValues.crit.text],
            ...(alg === 'RS256' ? { jku: headerValues.jku.text } : {}),
          };
          for (const h of Object.values(headerValues)) secrets.push(h.text, h.core);
          const decoded = decodedJws(claims, header, {
            kind: alg.toLowerCase() === 'none' ? 'unsecured' : 'jws',
            signingInput: JSON.stringify(claims),
            length: 100,
          });
          const classification = classify(decoded, rules());
          const status = timeStatus(claims, NOW);
          const risks = assessRisks({ decoded, classification, status }, { rules: rules(), now: NOW });
          for (const r of risks) {
            for (const s of secrets) expect(r.reason, `${r.id}`).not.toContain(s);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
