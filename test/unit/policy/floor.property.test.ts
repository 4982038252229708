// The safety floor as a property: whatever the policy says and whatever the token is, nothing
// but `report` (and only in audit mode) leaves a token in clear, and `sanitize` only reaches
// readable, non-nested JWS or unsecured tokens. Random policies are generated, validated and merged
// over the built-ins exactly as files would be.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ACTIONS, SEVERITIES } from '../../../src/model.ts';
import { buildPolicy } from '../../../src/policy/compile.ts';
import {
  applyFloor,
  type DecisionInput,
  loadPolicy,
  type Policy,
  severityRank,
} from '../../../src/policy/index.ts';
import { LayerReader, type PolicyLayer } from '../../../src/policy/schema.ts';
import { SERIALIZATIONS, TOKEN_KINDS, TOKEN_STATUSES, TOKEN_TYPES } from '../../../src/policy/types.ts';
import { ConfigError } from '../../../src/util/errors.ts';
import { parseYaml } from '../../../src/util/yaml.ts';
import { KNOWN_CATEGORIES } from './helpers.ts';

const BUILTINS = ['default', 'strict', 'audit-only'] as const;
const IDENTITIES = ['k8s-service-account', 'github-actions', 'gitlab-ci', 'spiffe', 'human', 'unknown'];
const RISKS = [
  'alg-none',
  'weak-hmac-secret',
  'header-jku',
  'header-jwk',
  'missing-aud',
  'missing-exp',
  'live-token',
];

const severity = fc.constantFrom(...SEVERITIES);
const isoDate = fc.constantFrom('2020-01-01T00:00:00Z', '2030-01-01T00:00:00Z');

const decisionInput: fc.Arbitrary<DecisionInput> = fc.record({
  kind: fc.constantFrom(...TOKEN_KINDS),
  serialization: fc.constantFrom(...SERIALIZATIONS),
  nested: fc.boolean(),
  readable: fc.boolean(),
  classification: fc.record({
    identity: fc.oneof(fc.constantFrom(...IDENTITIES), fc.string({ maxLength: 12 })),
    token_type: fc.constantFrom(...TOKEN_TYPES),
    claims: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.oneof(fc.constantFrom(...KNOWN_CATEGORIES), fc.string({ maxLength: 10 })),
      { maxKeys: 6 },
    ),
  }),
  risks: fc.array(
    fc.record({ id: fc.oneof(fc.constantFrom(...RISKS), fc.stringMatching(/^[a-z0-9-]{1,12}$/)), severity }),
    { maxLength: 4 },
  ),
  status: fc.record(
    {
      expires_at: isoDate,
      expired: fc.boolean(),
      not_yet_valid: fc.boolean(),
      lifetime_seconds: fc.integer({ min: 0, max: 10_000_000 }),
    },
    { requiredKeys: [] },
  ),
});

const oneOrMany = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.array(arb, { minLength: 1, maxLength: 3 }));
const categoryGlob = fc.constantFrom(
  'public',
  '*',
  'pii.*',
  'pii.email',
  'secret.*',
  'identifier.sub*',
  'authz.scope',
);

const when = fc.record(
  {
    kind: oneOrMany(fc.constantFrom(...TOKEN_KINDS)),
    serialization: oneOrMany(fc.constantFrom(...SERIALIZATIONS)),
    identity: oneOrMany(fc.constantFrom('k8s-*', '*', 'human', '*-ci', 'unknown')),
    token_type: oneOrMany(fc.constantFrom(...TOKEN_TYPES)),
    categories: oneOrMany(categoryGlob),
    risks: oneOrMany(fc.constantFrom('alg-none', 'header-*', '*', 'missing-aud')),
    risk_severity: severity,
    status: oneOrMany(fc.constantFrom(...TOKEN_STATUSES)),
    nested: fc.boolean(),
    readable: fc.boolean(),
  },
  { requiredKeys: [] },
);

const ruleList = fc.uniqueArray(
  fc.record(
    {
      id: fc.constantFrom('live', 'expired', 'encrypted', 'unreadable', 'alg-none', 'r1', 'r2', 'r3', 'r4'),
      when,
      action: fc.constantFrom(...ACTIONS),
      severity,
    },
    { requiredKeys: ['id', 'action'] },
  ),
  { selector: (r) => r.id, maxLength: 6 },
);

/** A random policy file: standalone (with `default`) or an overlay on a built-in. */
const policyFile = fc.record(
  {
    version: fc.constant(1),
    mode: fc.constantFrom('redact', 'audit'),
    default: fc.record({ action: fc.constantFrom(...ACTIONS), severity }, { requiredKeys: [] }),
    rules: ruleList,
    claims: fc.dictionary(
      fc.constantFrom('public', '*', 'pii.*', 'pii.email', 'identifier.*', 'authz.*', 'routing.internal'),
      fc.constantFrom('keep', 'hash', 'remove'),
      { maxKeys: 4 },
    ),
    risks: fc.dictionary(fc.constantFrom(...RISKS), fc.record({ severity })),
  },
  { requiredKeys: ['version'] },
);

function layerOf(text: string, file: string): PolicyLayer {
  return new LayerReader(parseYaml(text, file)).read();
}

const builtinLayers = Object.fromEntries(
  BUILTINS.map((name) => {
    const file = loadPolicy([name]).files[0]!;
    return [name, layerOf(readFileSync(file, 'utf8'), file)];
  }),
) as Record<(typeof BUILTINS)[number], PolicyLayer>;

/** The policy, or undefined when validation rightly refused it. */
function build(base: (typeof BUILTINS)[number] | undefined, doc: object): Policy | undefined {
  const layers = [...(base ? [builtinLayers[base]] : []), layerOf(stringify(doc), 'random.yaml')];
  try {
    return buildPolicy(layers, ['random.yaml']);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return undefined;
  }
}

function checkFloor(policy: Policy, input: DecisionInput): void {
  const d = policy.decide(input);
  expect(ACTIONS).toContain(d.action);
  expect(SEVERITIES).toContain(d.severity);
  if (d.action === 'report') expect(policy.mode).toBe('audit');
  if (d.action === 'sanitize') {
    expect(input.kind).not.toBe('jwe');
    expect(input.readable).toBe(true);
    expect(input.nested).toBe(false);
  }
  for (const r of input.risks) {
    expect(severityRank(d.severity)).toBeGreaterThanOrEqual(
      severityRank(policy.riskSeverity(r.id, r.severity)),
    );
  }
  // pure: the same input gives the same answer
  expect(policy.decide(structuredClone(input))).toEqual(d);
}

describe('safety floor', () => {
  it('holds for the built-in policies and any token', () => {
    const policies = BUILTINS.map((n) => loadPolicy([n]));
    fc.assert(
      fc.property(decisionInput, (input) => {
        for (const p of policies) checkFloor(p, input);
      }),
      { numRuns: 2000 },
    );
  });

  it('holds for any policy file, alone or over a built-in, and any token', () => {
    const base = fc.constantFrom(undefined, ...BUILTINS);
    fc.assert(
      fc.property(
        base,
        policyFile,
        fc.array(decisionInput, { minLength: 1, maxLength: 5 }),
        (b, doc, inputs) => {
          const policy = build(b, doc);
          const mode = doc.mode ?? (b === 'audit-only' ? 'audit' : 'redact');
          const asksReport =
            doc.default?.action === 'report' ||
            (doc.rules ?? []).some((r) => r.action === 'report') ||
            (b === 'audit-only' && mode !== 'audit');
          if (mode !== 'audit' && asksReport) {
            // validation refuses report outside audit mode: nothing loads
            expect(policy).toBeUndefined();
            return;
          }
          if (policy === undefined) {
            // the only other refusal: a standalone file without a default action
            expect(b === undefined && doc.default?.action === undefined).toBe(true);
            return;
          }
          for (const input of inputs) checkFloor(policy, input);
          expect(policy.claimTreatment(undefined)).not.toBe('keep');
          expect(policy.claimTreatment('secret.embedded')).not.toBe('keep');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('applyFloor maps every action and token to an allowed action', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ACTIONS),
        fc.constantFrom(...TOKEN_KINDS),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('redact' as const, 'audit' as const),
        (action, kind, readable, nested, mode) => {
          const out = applyFloor(action, { kind, readable, nested }, mode);
          if (out.action === 'report') expect(mode).toBe('audit');
          if (out.action === 'sanitize') expect(kind !== 'jwe' && readable && !nested).toBe(true);
          expect(out.floor === undefined).toBe(out.action === action);
        },
      ),
    );
  });

  it('names the reason when it steps in', () => {
    expect(applyFloor('sanitize', { kind: 'jwe', readable: true, nested: false }, 'redact')).toEqual({
      action: 'mask',
      floor: 'encrypted',
    });
    expect(applyFloor('sanitize', { kind: 'jws', readable: false, nested: false }, 'redact').floor).toBe(
      'unreadable',
    );
    expect(applyFloor('sanitize', { kind: 'jws', readable: true, nested: true }, 'redact').floor).toBe(
      'nested',
    );
    expect(applyFloor('report', { kind: 'jws', readable: true, nested: false }, 'redact')).toEqual({
      action: 'mask',
      floor: 'not-audit',
    });
  });

  it('reports the fallback in the decision', () => {
    const files = loadPolicy(['default']).files;
    // a user rule asking to sanitize everything still masks a JWE
    const layer = layerOf('version: 1\nrules:\n  - id: all\n    action: sanitize\n', 'p.yaml');
    const p = buildPolicy([builtinLayers.default, layer], [...files, 'p.yaml']);
    const jwe: DecisionInput = {
      kind: 'jwe',
      serialization: 'compact',
      nested: false,
      readable: true,
      classification: { identity: 'unknown', token_type: 'unknown', claims: {} },
      risks: [],
      status: {},
    };
    expect(p.decide(jwe)).toEqual({ action: 'mask', severity: 'info', rule: 'all', floor: 'encrypted' });
  });
});
