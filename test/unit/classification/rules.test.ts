import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assessRisks,
  BUILT_IN_FILES,
  classify,
  defaultPatternsDir,
  loadClassificationRules,
} from '../../../src/classification/index.ts';
import { ConfigError } from '../../../src/util/errors.ts';
import { analyse, craft, decode, fresh, NOW, sign } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'jr-classification-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `user-${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

function loadError(text: string): ConfigError {
  const path = file(text);
  try {
    loadClassificationRules({ extraFiles: [path] });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.file).toBe(path);
    return e;
  }
  throw new Error('no error');
}

describe('loading the built-in rules', () => {
  it('loads and validates the shipped pattern files', () => {
    const rules = loadClassificationRules();
    expect(rules.files.map((f) => f.slice(defaultPatternsDir().length))).toEqual([
      'claims.yaml',
      'identities.yaml',
      'risks.yaml',
      'weak-secrets.txt',
    ]);
    expect(rules.profileList.length).toBeGreaterThan(30);
  });

  it('fails when a built-in file is missing, naming it', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    expect(() => loadClassificationRules({ patternsDir: empty })).toThrow(
      /claims\.yaml: cannot read file: ENOENT/,
    );
  });

  it('fails when the built-in risks leave a risk undefined', () => {
    const copy = mkdtempSync(join(dir, 'copy-'));
    for (const f of Object.values(BUILT_IN_FILES)) copyFileSync(join(defaultPatternsDir(), f), join(copy, f));
    const risks = readFileSync(join(copy, 'risks.yaml'), 'utf8').replace(
      /\n {2}zip-compression:\n(( {4}.*)\n)+/,
      '\n',
    );
    writeFileSync(join(copy, 'risks.yaml'), risks);
    expect(() => loadClassificationRules({ patternsDir: copy })).toThrow(
      /risks\.yaml, field risks: risks zip-compression have no definition/,
    );
  });
});

describe('validation errors name file, line and field', () => {
  it.each([
    [
      'an unknown key',
      'claims:\n  - name: a\n    catgory: public\n',
      3,
      'claims[0].catgory',
      /unknown key "catgory"/,
    ],
    [
      'an unknown category',
      'claims:\n  - name: a\n    category: public\n  - names: [b]\n    category: pii.secret\n',
      5,
      'claims[1].category',
      /unknown category "pii.secret"/,
    ],
    [
      'a wrong type',
      'claims:\n  - names: 5\n    category: public\n',
      2,
      'claims[0].names',
      /expected a list, found a number/,
    ],
    [
      'a rule without names or pointers',
      'claims:\n  - category: public\n',
      2,
      'claims[0]',
      /at least one of name/,
    ],
    [
      'a bad pointer',
      'claims:\n  - pointer: /a/~2\n    category: public\n',
      2,
      'claims[0].pointer',
      /RFC 6901/,
    ],
    [
      'an unknown detector kind',
      'detectors:\n  - id: d\n    kind: regex\n    category: public\n',
      3,
      'detectors[0].kind',
      /"regex" is not one of/,
    ],
    [
      'a detector key of another kind',
      'detectors:\n  - id: d\n    kind: email\n    suffixes: [x]\n    category: public\n',
      4,
      'detectors[0].suffixes',
      /unknown key "suffixes"/,
    ],
    [
      'a missing detector key',
      'detectors:\n  - id: d\n    kind: prefix\n    prefixes: [ab]\n    category: public\n',
      2,
      'detectors[0]',
      /missing required key "charset"/,
    ],
    [
      'duplicate ids in a file',
      'detectors:\n  - {id: d, kind: email, category: public}\n  - {id: d, kind: email, category: public}\n',
      3,
      'detectors[1].id',
      /duplicate detector id "d"/,
    ],
    [
      'a bad token type',
      'profiles:\n  - id: p\n    token_type: bearer\n    match: {any: [{claim: iss, present: true}]}\n',
      3,
      'profiles[0].token_type',
      /"bearer" is not one of/,
    ],
    [
      'an identity without workload',
      'profiles:\n  - id: p\n    identity: x\n    match: {any: [{claim: iss, present: true}]}\n',
      2,
      'profiles[0]',
      /workload/,
    ],
    [
      'a condition without operator',
      'profiles:\n  - id: p\n    token_type: id\n    match:\n      all:\n        - claim: iss\n',
      6,
      'profiles[0].match.all[0]',
      /needs an operator/,
    ],
    [
      'a condition on claim and header',
      'profiles:\n  - id: p\n    token_type: id\n    match:\n      any:\n        - {claim: iss, header: typ, present: true}\n',
      6,
      'profiles[0].match.any[0]',
      /exactly one of claim or header/,
    ],
    [
      'an unknown risk id',
      'risks:\n  no-such-risk:\n    severity: low\n',
      2,
      'risks.no-such-risk',
      /unknown risk id "no-such-risk"/,
    ],
    [
      'a bad severity',
      'risks:\n  alg-none:\n    severity: severe\n',
      3,
      'risks.alg-none.severity',
      /"severe" is not one of: info, low/,
    ],
    [
      'an unknown placeholder',
      'risks:\n  alg-none:\n    reason: "token {payload}"\n',
      3,
      'risks.alg-none.reason',
      /unknown placeholder \{payload\}/,
    ],
    [
      'a bad framework reference',
      'risks:\n  alg-none:\n    frameworks: [OWASP-NHI-2025:NHI2, "NHI 4"]\n',
      3,
      'risks.alg-none.frameworks[1]',
      /framework reference/,
    ],
    [
      'an unknown variant',
      'risks:\n  live-token:\n    variants: {robot: high}\n',
      3,
      'risks.live-token.variants.robot',
      /unknown key "robot"/,
    ],
    [
      'a bad setting',
      'settings:\n  max_lifetime_seconds: -5\n',
      2,
      'settings.max_lifetime_seconds',
      /outside 1\.\./,
    ],
    ['an unknown section', 'version: 1\nrulez: []\n', 2, 'rulez', /unknown key "rulez"/],
    ['a bad version', 'version: 2\n', 1, 'version', /version must be 1/],
    ['a malformed category declaration', 'categories: [pii]\n', 1, 'categories[0]', /family.kind/],
  ])('%s', (_, text, line, field, message) => {
    const e = loadError(text);
    expect({ line: e.line, field: e.field }).toEqual({ line, field });
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`${e.file}:${line}, field ${field}: `)).toBe(true);
  });

  it('reports invalid YAML with its line', () => {
    const e = loadError('claims:\n  - name: a\n    category: [public\n');
    expect(e.line).toBeGreaterThanOrEqual(3);
    expect(e.message).toMatch(/invalid YAML/);
  });
});

describe('user files', () => {
  it('put claim rules, detectors and profiles ahead of the built-ins, and declare categories', async () => {
    const extra = file(`
categories: [identifier.badge]
claims:
  - names: [name]
    category: public
  - name: badge
    category: identifier.badge
detectors:
  - id: acme-token
    kind: prefix
    prefixes: [acme_]
    charset: alnum
    min_length: 20
    max_length: 40
    category: secret.embedded
profiles:
  - id: acme-robots
    identity: acme-robot
    workload: true
    token_type: api-key
    match:
      all:
        - { claim: iss, equals: "https://sso.acme.example" }
        - { claim: sub, prefix: "robot:" }
`);
    const rules = loadClassificationRules({ extraFiles: [extra] });
    const token = await sign(
      fresh({
        iss: 'https://sso.acme.example',
        sub: 'robot:42',
        name: 'Robot 42',
        badge: 'b',
        k: 'acme_0123456789abcdefghijkl',
      }),
    );
    const c = classify(decode(token), rules);
    expect(c).toMatchObject({
      identity: 'acme-robot',
      profile: 'acme-robots',
      token_type: 'api-key',
      workload: true,
    });
    expect(c.claims).toMatchObject({ name: 'public', badge: 'identifier.badge', k: 'secret.embedded' });
  });

  it('replace a built-in profile or detector by id', async () => {
    const extra = file(`
profiles:
  - id: github-actions-oidc
    identity: ci-robot
    workload: true
    match: { all: [{ claim: iss, equals: "https://token.actions.githubusercontent.com" }] }
detectors:
  - { id: email, kind: contains, literals: ["@@"], category: pii.email }
`);
    const rules = loadClassificationRules({ extraFiles: [extra] });
    const token = await sign(
      fresh({ iss: 'https://token.actions.githubusercontent.com', x: 'a@example.com' }),
    );
    const c = classify(decode(token), rules);
    expect(c.identity).toBe('ci-robot');
    expect(c.token_type).toBe('unknown');
    expect(c.claims['x']).toBe('unclassified');
    expect(rules.profileList.filter((p) => p.id === 'github-actions-oidc')).toHaveLength(1);
  });

  it('override risk severities and settings, and add weak secrets', () => {
    const yaml = file(`
risks:
  missing-aud: { severity: high }
settings:
  max_lifetime_seconds: 60
`);
    const txt = file('# ours\nacme-default-signing-key\n', 'txt');
    const rules = loadClassificationRules({ extraFiles: [yaml, txt] });
    const token = craft(
      { alg: 'HS256' },
      { sub: 'x', iat: Math.floor(NOW.getTime() / 1000), exp: Math.floor(NOW.getTime() / 1000) + 120 },
      'acme-default-signing-key',
    );
    const input = analyse(token);
    const risks = assessRisks(input, { rules, now: NOW });
    expect(risks.map((r) => [r.id, r.severity])).toEqual(
      expect.arrayContaining([
        ['weak-hmac-secret', 'critical'],
        ['missing-aud', 'high'],
        ['lifetime-exceeds-policy', 'medium'],
      ]),
    );
    expect(rules.risks.get('missing-aud')?.reason).toContain('no aud claim');
  });
});
