// fast-check arbitraries for every field of a Finding and an ErrorFinding, including hostile
// strings (control characters, line separators, lone surrogates, "__proto__") and odd numbers.
import fc from 'fast-check';
import {
  ACTIONS,
  type AnyFinding,
  type Encoding,
  type ErrorFinding,
  type Finding,
  type JsonValue,
  SEVERITIES,
  type SourceRef,
  type TokenContext,
  type TokenType,
} from '../../../src/model.ts';

const hostile = fc.constantFrom(
  '__proto__',
  'constructor',
  '\u2028',
  '\ud800',
  '\u001b[31m',
  '',
  ' ',
  '!/',
  '#',
  '%',
);
export const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 24 }) },
  { weight: 1, arbitrary: hostile },
);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const num = fc.oneof(fc.integer(), fc.double({ noNaN: false }), fc.constant(-0));
const iso = fc
  .date({ min: new Date(0), max: new Date(Date.UTC(2200, 0)), noInvalidDate: true })
  .map((d) => d.toISOString());
const severity = fc.constantFrom(...SEVERITIES);

const json: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    num,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(text, tie('v'), { maxKeys: 4 }),
  ),
})).v;
const jsonRecord = fc.dictionary(text, json, { maxKeys: 6 });

export const source: fc.Arbitrary<SourceRef> = fc.record(
  {
    kind: fc.constantFrom('file', 'stdin', 'kafka'),
    name: text,
    line: fc.integer({ min: 1, max: 2 ** 31 }),
    pointer: text.map((s) => `/${s}`),
    topic: text,
    partition: fc.nat(),
    offset: fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String),
    member: text,
  },
  { requiredKeys: ['kind'] },
);

const token = fc.record({
  kind: fc.constantFrom('jws', 'jwe', 'unsecured'),
  serialization: fc.constantFrom('compact', 'json', 'json_flat'),
  encoding: fc.array(
    fc.constantFrom<Encoding>('base64', 'base64url', 'percent', 'json-escape', 'html-entity'),
    {
      maxLength: 3,
    },
  ),
  context: fc.constantFrom<TokenContext>(
    'bearer',
    'dpop',
    'cookie',
    'query',
    'form',
    'header',
    'json',
    'text',
  ),
  nested: fc.boolean(),
  fingerprint: text,
  length: fc.nat(),
});

const risk = fc.record({ id: text, severity, reason: text, frameworks: fc.array(text, { maxLength: 3 }) });

const tokenFields = {
  token,
  header: jsonRecord,
  claims: jsonRecord,
  classification: fc.record(
    {
      identity: text,
      profile: text,
      token_type: fc.constantFrom<TokenType>(
        'access',
        'id',
        'refresh',
        'dpop-proof',
        'security-event',
        'logout',
        'api-key',
        'client-assertion',
        'unknown',
      ),
      claims: fc.dictionary(text, text, { maxKeys: 4 }),
    },
    { requiredKeys: ['identity', 'token_type', 'claims'] },
  ),
  status: fc.record(
    {
      issued_at: iso,
      expires_at: fc.oneof(iso, text),
      expired: fc.boolean(),
      not_before: iso,
      not_yet_valid: fc.boolean(),
      lifetime_seconds: num,
      remaining_seconds: num,
    },
    { requiredKeys: [] },
  ),
  risks: fc.array(risk, { maxLength: 3 }),
  frameworks: fc.array(text, { maxLength: 3 }),
  action: fc.constantFrom(...ACTIONS),
};

const inner = fc.record({ rule: text, severity, ...tokenFields });

export const finding: fc.Arbitrary<Finding> = fc
  .record({
    id: text,
    time: fc.oneof({ weight: 5, arbitrary: iso }, { weight: 1, arbitrary: text }),
    rule: text,
    severity,
    source,
    ...tokenFields,
    inner: opt(inner),
  })
  .map((f) => {
    const { inner: i, ...rest } = f;
    const out: Finding = { schema: 'jwt-redactor/finding@1', ...rest };
    if (i !== undefined) out.inner = i;
    return out;
  });

export const errorFinding: fc.Arbitrary<ErrorFinding> = fc.record({
  schema: fc.constant('jwt-redactor/finding@1' as const),
  id: text,
  time: iso,
  rule: fc.constant('processing-error' as const),
  severity,
  source,
  error: fc.record({ code: text, reason: text }),
  action: fc.constantFrom('quarantine', 'skip'),
});

export const anyFinding: fc.Arbitrary<AnyFinding> = fc.oneof(
  { weight: 4, arbitrary: finding },
  { weight: 1, arbitrary: errorFinding },
);
