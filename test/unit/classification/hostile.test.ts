// Claims and headers are attacker-controlled: everything here must finish quickly and not throw.
import { describe, expect, it } from 'vitest';
import { assessRisks, classify, timeStatus } from '../../../src/classification/index.ts';
import type { DecodedToken, JoseHeader, JsonObject, JsonValue } from '../../../src/model.ts';
import { decodedJws, NOW, rules } from './fixtures.ts';

/** classify + timeStatus + assessRisks, timed. */
function run(decoded: DecodedToken) {
  const start = performance.now();
  const classification = classify(decoded, rules());
  const claims = decoded.payload.type === 'claims' ? decoded.payload.claims : undefined;
  const status = timeStatus(claims, NOW);
  const risks = assessRisks({ decoded, classification, status }, { rules: rules(), now: NOW });
  return { classification, status, risks, ms: performance.now() - start };
}

const BUDGET_MS = 1500; // generous for a loaded CI machine; typical runs take a few ms

function deep(depth: number, leaf: JsonValue): JsonObject {
  let node: JsonObject = { email: leaf as string };
  for (let i = 0; i < depth; i++) node = { a: node };
  return node;
}

describe('hostile claims', () => {
  it('nesting 10k levels deep', () => {
    const { classification, ms } = run(decodedJws({ sub: 'x', nest: deep(10_000, 'a@b.example') }));
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(classification.claims['sub']).toBe('identifier.subject');
    // the walk stops at its depth bound and marks what it did not walk as unclassified
    expect(classification.claims['nest']).toBe('unclassified');
    expect(Object.keys(classification.claims).length).toBeLessThan(50);
  });

  it('nesting 10k levels deep in arrays', () => {
    let node: JsonValue = ['x'];
    for (let i = 0; i < 10_000; i++) node = [node];
    const { ms } = run(decodedJws({ scope: node, aud: node, groups: node }));
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('100k top-level claims', () => {
    const claims: JsonObject = { exp: 1 };
    for (let i = 0; i < 100_000; i++) claims[`c${i}`] = i % 2 ? 'a@b.example' : i;
    const { classification, status, ms } = run(decodedJws(claims));
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(status.expired).toBe(true);
    expect(Object.keys(classification.claims).length).toBeLessThanOrEqual(
      rules().classifier.limits.maxEntries,
    );
    expect(classification.claims['exp']).toBe('public');
  });

  it('100k nested claims and a 100k-element array', () => {
    const inner: JsonObject = {};
    for (let i = 0; i < 100_000; i++) inner[`k${i}`] = { v: `10.0.${i % 256}.1` };
    const big = Array.from({ length: 100_000 }, (_, i) => `role${i}`);
    const { classification, ms } = run(decodedJws({ sub: 's', ext: inner, roles: big, aud: big }));
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(classification.claims['ext']).toBe('unclassified');
    expect(classification.claims['roles']).toBe('authz.role');
  });

  it('1 MB strings in claims, claim names and header members', () => {
    const mb = 'A'.repeat(1 << 20);
    const patterns = [
      mb,
      '@'.repeat(1 << 20),
      'a@'.repeat(1 << 19),
      'eyJ'.repeat(350_000),
      'AKIA'.repeat(262_144),
      'ghp_'.repeat(262_144),
      ':'.repeat(1 << 20),
      '.'.repeat(1 << 20),
      `https://${'a.'.repeat(1 << 19)}internal`,
      `${'1'.repeat(1 << 20)}`,
      `+${'1 '.repeat(1 << 19)}`,
    ];
    for (const s of patterns) {
      const claims: JsonObject = {
        email: s,
        iss: s,
        sub: s,
        scope: s,
        exp: s,
        note: s,
        password: s,
        [s]: s,
        nested: { [s]: s },
      };
      const header: JoseHeader = { alg: 'HS256', kid: s, typ: s, crit: [s, 'b64'], jku: s };
      const { ms, risks } = run(decodedJws(claims, header));
      expect(ms, s.slice(0, 8)).toBeLessThan(BUDGET_MS);
      for (const r of risks) expect(r.reason.length).toBeLessThan(400);
    }
  });

  it('values of the wrong JSON type everywhere', () => {
    const weird: JsonValue[] = [null, true, 0, -1, 1e308, [], {}, [[[]]], { a: { b: null } }];
    for (const w of weird) {
      const claims: JsonObject = {};
      for (const k of [
        'iss',
        'sub',
        'aud',
        'exp',
        'nbf',
        'iat',
        'scope',
        'scp',
        'roles',
        'events',
        'kubernetes.io',
        'google',
        'act',
        'email',
      ]) {
        claims[k] = w;
      }
      const header = { alg: w, kid: w, typ: w, crit: w, b64: w, zip: w, jwk: w } as unknown as JoseHeader;
      expect(() => run(decodedJws(claims, header))).not.toThrow();
    }
  });

  it('a 1 MB HS256 signing input is not run against the secret list', () => {
    const decoded = decodedJws({ sub: 'x' });
    decoded.signing = { input: new Uint8Array(1 << 20), signature: new Uint8Array(32) };
    const { ms, risks } = run(decoded);
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(risks.map((r) => r.id)).not.toContain('weak-hmac-secret');
  });
});
