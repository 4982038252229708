// Start-up validation: every mistake is a ConfigError (exit 2) naming file, line and field.
// Messages are asserted whole: they are what the user reads.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../../src/policy/index.ts';
import { ConfigError } from '../../../src/util/errors.ts';
import { configError, KNOWN_CATEGORIES, load, policyDir } from './helpers.ts';

const DEFAULT_FILE = loadPolicy(['default']).files[0]!;
const AUDIT_FILE = loadPolicy(['audit-only']).files[0]!;

/** The error loading `text` as p.yaml gives. */
function errorOf(text: string): ConfigError {
  const dir = policyDir({ 'p.yaml': text });
  return configError(() => load(dir, 'p.yaml'));
}

const rule = (body: string) => `version: 1\nextends: default\nrules:\n  - id: r\n${body}`;

describe('schema errors name file, line and field', () => {
  it.each([
    [
      'unknown top-level key',
      'version: 1\nextends: default\nrulez: []\n',
      'p.yaml:3, field rulez: unknown key "rulez"; did you mean "rules"?',
    ],
    [
      'unknown rule key',
      rule('    action: mask\n    severty: high\n'),
      'p.yaml:6, field rules[0].severty: unknown key "severty"; did you mean "severity"?',
    ],
    [
      'unknown condition',
      rule('    when: { issuer: x }\n    action: mask\n'),
      'p.yaml:5, field rules[0].when.issuer: unknown key "issuer"; allowed keys: kind, serialization, identity, token_type, categories, risks, risk_severity, status, nested, readable',
    ],
    [
      'bad action',
      rule('    action: delete\n'),
      'p.yaml:5, field rules[0].action: unknown action "delete"; expected one of: mask, sanitize, hash, report',
    ],
    [
      'misspelt action',
      rule('    action: santize\n'),
      'p.yaml:5, field rules[0].action: unknown action "santize"; did you mean "sanitize"?',
    ],
    [
      'pass-through action',
      rule('    action: pass\n'),
      'p.yaml:5, field rules[0].action: unknown action "pass"; no action passes a token through in clear except report, which needs mode: audit (expected one of: mask, sanitize, hash, report)',
    ],
    [
      'bad severity',
      'version: 1\nextends: default\ndefault:\n  severity: severe\n',
      'p.yaml:4, field default.severity: unknown severity "severe"; expected one of: info, low, medium, high, critical',
    ],
    [
      'bad category in a condition',
      rule('    when:\n      categories: [pii.email, pii-phone]\n    action: mask\n'),
      'p.yaml:6, field rules[0].when.categories[1]: unknown claim category "pii-phone"; expected public, * or <family>.<name> with family pii, identifier, authz, routing, secret (e.g. pii.email, pii.*)',
    ],
    [
      'bad category in claims',
      'version: 1\nextends: default\nclaims:\n  piii.*: keep\n',
      'p.yaml:4, field claims.piii.*: unknown claim category "piii.*"; expected public, unclassified, * or <family>.<name> with family pii, identifier, authz, routing, secret (e.g. pii.email, pii.*)',
    ],
    [
      'bad claim treatment',
      'version: 1\nextends: default\nclaims:\n  pii.email: redact\n',
      'p.yaml:4, field claims.pii.email: unknown claim treatment "redact"; expected one of: keep, hash, remove',
    ],
    [
      'doubled star',
      rule('    when:\n      identity: "k8s-**"\n    action: mask\n'),
      'p.yaml:6, field rules[0].when.identity: bad glob "k8s-**": "**" is not supported; one "*" matches any run',
    ],
    [
      'glob syntax that is not supported',
      rule('    when:\n      risks: ["header-[a-z]*"]\n    action: mask\n'),
      'p.yaml:6, field rules[0].when.risks[0]: bad glob "header-[a-z]*"; expected a risk id of a-z 0-9 - and *',
    ],
    [
      'unknown kind',
      rule('    when: { kind: jwt }\n    action: mask\n'),
      'p.yaml:5, field rules[0].when.kind: unknown kind "jwt"; did you mean "jws"?',
    ],
    [
      'unknown status',
      rule('    when: { status: valid }\n    action: mask\n'),
      'p.yaml:5, field rules[0].when.status: unknown status "valid"; expected one of: live, expired, not-yet-valid, no-expiry, unknown',
    ],
    [
      'unknown token type',
      rule('    when:\n      token_type: [access, bearer]\n    action: mask\n'),
      'p.yaml:6, field rules[0].when.token_type[1]: unknown token type "bearer"; expected one of: access, id, refresh, dpop-proof, security-event, logout, api-key, client-assertion, unknown',
    ],
    [
      'wrong type',
      rule('    when: { nested: "yes" }\n    action: mask\n'),
      'p.yaml:5, field rules[0].when.nested: expected true or false, got a string',
    ],
    [
      'rules as a mapping',
      'version: 1\nextends: default\nrules:\n  id: x\n',
      'p.yaml:3, field rules: expected a list, got a mapping',
    ],
    [
      'empty condition list',
      rule('    when: { kind: [] }\n    action: mask\n'),
      'p.yaml:5, field rules[0].when.kind: an empty list never matches; remove the key instead',
    ],
    [
      'rule without action',
      rule('    severity: high\n'),
      'p.yaml:4, field rules[0]: missing key "action" in rule "r"',
    ],
    [
      'duplicate rule id',
      rule('    action: mask\n  - id: r\n    action: hash\n'),
      'p.yaml:6, field rules[1].id: duplicate rule id "r"',
    ],
    [
      'reserved rule id',
      'version: 1\nextends: default\nrules:\n  - id: default\n    action: mask\n',
      'p.yaml:4, field rules[0].id: the id "default" is reserved for the `default:` entry',
    ],
    [
      'bad risk id',
      'version: 1\nextends: default\nrisks:\n  Missing_Aud: { severity: low }\n',
      'p.yaml:4, field risks.Missing_Aud: bad risk id "Missing_Aud"; risk ids are a-z 0-9 -',
    ],
    [
      'risk override without severity',
      'version: 1\nextends: default\nrisks:\n  missing-aud: {}\n',
      'p.yaml:4, field risks.missing-aud: missing key "severity"',
    ],
    [
      'missing version',
      'extends: default\n',
      'p.yaml:1, field version: missing; add `version: 1` at the top of the file',
    ],
    [
      'future version',
      'version: 2\nextends: default\n',
      'p.yaml:1, field version: unsupported version 2; this build reads version 1',
    ],
    ['empty file', '', 'p.yaml, field version: the policy file is empty; it must start with `version: 1`'],
    [
      'token length below the floor',
      'version: 1\nextends: default\nlimits:\n  max_token_length: 4096\n',
      'p.yaml:4, field limits.max_token_length: 4096 is out of range 16384..67108864: real tokens (x5c chains, large claim sets) run to several KiB and must stay decodable',
    ],
    [
      'limit that is not an integer',
      'version: 1\nextends: default\nlimits:\n  max_record_bytes: 1MiB\n',
      'p.yaml:4, field limits.max_record_bytes: expected an integer, got a string',
    ],
    [
      'raw quarantine',
      'version: 1\nextends: default\nquarantine:\n  content: raw\n',
      'p.yaml:4, field quarantine.content: raw quarantine is not supported: it would store tokens in clear (R1); use masked or metadata-only',
    ],
    [
      'keeping unclassified content',
      'version: 1\nextends: default\nclaims:\n  unclassified: keep\n',
      'p.yaml:4, field claims.unclassified: unclassified content is sensitive (R2) and cannot be kept in clear; use hash or remove',
    ],
    [
      'keeping secrets',
      'version: 1\nextends: default\nclaims:\n  secret.*: keep\n',
      'p.yaml:4, field claims.secret.*: embedded secrets cannot be kept in clear; use hash or remove',
    ],
    [
      'disabled rule with a condition',
      'version: 1\nextends: default\nrules:\n  - id: live\n    enabled: false\n    action: mask\n',
      'p.yaml:6, field rules[0].action: a rule with `enabled: false` only removes the inherited rule; drop this key',
    ],
  ])('%s', (_name, text, message) => {
    const err = errorOf(text);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('ERR_CONFIG');
    expect(err.message).toBe(message);
  });

  it('carries file, line and field as properties too', () => {
    const err = errorOf(rule('    action: delete\n'));
    expect({ file: err.file, line: err.line, field: err.field }).toEqual({
      file: 'p.yaml',
      line: 5,
      field: 'rules[0].action',
    });
  });

  it('reports a YAML syntax error with its line', () => {
    expect(errorOf('version: 1\nrules:\n  - id: x\n    action: [mask\n').message).toBe(
      'p.yaml:5: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    );
    expect(errorOf('version: 1\nextends: default\nversion: 1\n').message).toBe(
      'p.yaml:3: invalid YAML: Map keys must be unique',
    );
  });
});

describe('errors found while resolving and merging', () => {
  it('names the extends line that closes a cycle', () => {
    const dir = policyDir({
      'a.yaml': 'version: 1\nextends: b.yaml\n',
      'b.yaml': 'version: 1\nextends: sub/c.yaml\n',
      'sub/c.yaml': 'version: 1\n# back to the top\nextends: ../a.yaml\n',
    });
    expect(configError(() => load(dir, 'a.yaml')).message).toBe(
      'sub/c.yaml:3, field extends: extends cycle: a.yaml -> b.yaml -> sub/c.yaml -> a.yaml',
    );
  });

  it('names a file that extends itself', () => {
    const dir = policyDir({ 'a.yaml': 'version: 1\nextends: ./a.yaml\n' });
    expect(configError(() => load(dir, 'a.yaml')).message).toBe(
      'a.yaml:2, field extends: extends cycle: a.yaml -> a.yaml',
    );
  });

  it('names the extends line of a missing file', () => {
    const dir = policyDir({ 'conf/p.yaml': 'version: 1\nextends: ./base.yaml\n' });
    expect(configError(() => load(dir, 'conf/p.yaml')).message).toBe(
      'conf/p.yaml:2, field extends: cannot read conf/base.yaml (ENOENT)',
    );
  });

  it('names a misspelt built-in', () => {
    const dir = policyDir({ 'p.yaml': 'version: 1\nextends: defualt\n' });
    expect(configError(() => load(dir, 'p.yaml')).message).toBe(
      'p.yaml:2, field extends: no built-in policy "defualt" (built-ins: audit-only, default, strict); for a file give a path like ./defualt.yaml',
    );
    expect(configError(() => loadPolicy(['strictt'])).message).toBe(
      'no built-in policy "strictt" (built-ins: audit-only, default, strict); for a file give a path like ./strictt.yaml',
    );
  });

  it('names a missing file given on the command line', () => {
    const dir = policyDir({});
    expect(configError(() => load(dir, 'nope.yaml')).message).toBe(
      'nope.yaml: cannot read policy file (ENOENT)',
    );
  });

  it('refuses report outside audit mode, naming the rule', () => {
    const e = errorOf(rule('    when: { identity: github-actions }\n    action: report\n'));
    expect(e.message).toBe(
      `p.yaml:6, field rules[0].action: action report leaves tokens in clear and needs \`mode: audit\` (the active mode is redact, set in ${DEFAULT_FILE})`,
    );
    expect(errorOf('version: 1\nextends: default\ndefault:\n  action: report\n').message).toBe(
      `p.yaml:4, field default.action: action report leaves tokens in clear and needs \`mode: audit\` (the active mode is redact, set in ${DEFAULT_FILE})`,
    );
  });

  it('refuses to switch audit-only to redact mode while its report rules stand', () => {
    const firstAction = readFileSync(AUDIT_FILE, 'utf8').split('\n').indexOf('    action: report') + 1;
    expect(errorOf('version: 1\nextends: audit-only\nmode: redact\n').message).toBe(
      `${AUDIT_FILE}:${firstAction}, field rules[0].action: action report leaves tokens in clear and needs \`mode: audit\` (the active mode is redact, set in p.yaml)`,
    );
  });

  it('refuses to disable a rule that does not exist', () => {
    expect(
      errorOf('version: 1\nextends: default\nrules:\n  - id: expird\n    enabled: false\n').message,
    ).toBe(
      'p.yaml:5, field rules[0].enabled: rule "expird" removes nothing: no policy applied before this file has a rule with this id',
    );
  });

  it('needs a default action in the base file', () => {
    expect(errorOf('version: 1\nrules:\n  - id: x\n    action: mask\n').message).toBe(
      'p.yaml:1, field default: no default action: the first policy file must set `default: { action: ... }` or extend one that does (e.g. `extends: default`)',
    );
  });

  it('checks category names exactly when the classifier list is given', () => {
    const dir = policyDir({
      'p.yaml': 'version: 1\nextends: default\nclaims:\n  pii.emial: remove\n',
      'q.yaml': 'version: 1\nextends: default\nclaims:\n  routing.x*: remove\n',
    });
    const opts = { cwd: dir, categories: KNOWN_CATEGORIES };
    expect(configError(() => loadPolicy(['p.yaml'], opts)).message).toBe(
      'p.yaml:4, field claims.pii.emial: unknown claim category "pii.emial"; did you mean "pii.email"?',
    );
    expect(configError(() => loadPolicy(['q.yaml'], opts)).message).toBe(
      'q.yaml:4, field claims.routing.x*: "routing.x*" matches no known claim category',
    );
    // without the list, any name in a known family is accepted
    expect(loadPolicy(['p.yaml'], { cwd: dir }).claimTreatment('pii.emial')).toBe('remove');
  });
});
