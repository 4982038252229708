import { describe, expect, it } from 'vitest';
import { SARIF_FINGERPRINT_KEY, toSarifLog, toSarifResult } from '../../../src/findings/index.ts';
import { pathToUri } from '../../../src/findings/sarif.ts';
import type { Finding, Severity, SourceRef } from '../../../src/model.ts';
import { ERROR_FINDING, expectExact, FINDING, NESTED_FINDING, OPTS, pick } from './fixtures.ts';
import { sarifProblems } from './schema-checks.ts';

const at = (source: SourceRef): Finding => ({ ...FINDING, source });
const locationsOf = (f: Finding) => toSarifResult(f).locations;

describe('SARIF 2.1.0', () => {
  it('writes a whole log: results, then the tool with its rules', () => {
    expectExact(toSarifLog([FINDING, ERROR_FINDING], OPTS), {
      $schema: 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          results: [
            {
              ruleId: 'jwt-exposed',
              ruleIndex: 0,
              level: 'error',
              message: {
                text: 'JWS access token (k8s-service-account) at logs/app.log:42; expires 2027-01-15T08:39:59.000Z; fingerprint k1:3q2-7wAAAAAAAAAAAAAAAA; risks: long-lived; action: sanitize',
              },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: {
                      uri: 'logs/app.log',
                    },
                    region: {
                      startLine: 42,
                    },
                  },
                },
              ],
              partialFingerprints: {
                'jwtFingerprint/v1': 'k1:3q2-7wAAAAAAAAAAAAAAAA',
              },
              properties: pick(
                FINDING,
                'id time severity source token header claims classification status risks frameworks action',
              ),
            },
            {
              ruleId: 'processing-error',
              ruleIndex: 1,
              level: 'warning',
              message: {
                text: 'Record quarantined at kafka app-logs/3@1200: record is 12 MiB, above the 8 MiB limit (ERR_RECORD_TOO_LARGE)',
              },
              locations: [
                {
                  logicalLocations: [
                    {
                      kind: 'resource',
                      name: 'app-logs',
                      fullyQualifiedName: 'kafka:app-logs/3/1200',
                    },
                  ],
                },
              ],
              properties: pick(ERROR_FINDING, 'id time severity source error action'),
            },
          ],
          tool: {
            driver: {
              name: 'jwt-redactor',
              informationUri: 'https://www.npmjs.com/package/jwt-redactor',
              version: '0.1.0',
              rules: [
                {
                  id: 'jwt-exposed',
                  shortDescription: {
                    text: 'JSON Web Token finding: jwt-exposed',
                  },
                  defaultConfiguration: {
                    level: 'error',
                  },
                  help: {
                    text: 'A JSON Web Token was found in logs or exported data. Treat a live token as compromised: revoke it or rotate the credential that issued it, fix the code path that logged it, and keep redaction in front of the log pipeline.',
                  },
                  properties: {
                    tags: ['security', 'jwt'],
                    'security-severity': '8.0',
                  },
                },
                {
                  id: 'processing-error',
                  shortDescription: {
                    text: 'A record could not be processed safely and was kept out of the redacted output (fail closed).',
                  },
                  defaultConfiguration: {
                    level: 'warning',
                  },
                  help: {
                    text: 'The record went to quarantine (masked) or was skipped instead of being passed through. Check the error code, then raise the limit or fix the input and scan it again.',
                  },
                  properties: {
                    tags: ['security', 'jwt'],
                    'security-severity': '5.5',
                  },
                },
              ],
            },
          },
        },
      ],
    });
  });

  it('passes the structural check for tokens, nested tokens and errors', () => {
    const log = toSarifLog([FINDING, NESTED_FINDING, ERROR_FINDING, { ...FINDING, rule: 'alg-none' }], OPTS);
    expect(sarifProblems(log)).toEqual([]);
    expect(sarifProblems(toSarifLog([], OPTS))).toEqual([]);
  });

  it('has a structural check that catches what code scanning rejects', () => {
    const log = toSarifLog([FINDING], OPTS) as { runs: { results: Record<string, unknown>[] }[] };
    const result = log.runs[0]?.results[0] ?? {};
    result.ruleId = 'not-a-rule';
    delete result.message;
    expect(sarifProblems(log)).toEqual([
      'runs[0].results[0].message.text',
      'runs[0].results[0].ruleId not in rules',
      'runs[0].results[0].ruleIndex',
    ]);
  });

  it('maps severities to levels: error for high and critical, warning for medium, note below', () => {
    const levels = (['info', 'low', 'medium', 'high', 'critical'] as Severity[]).map(
      (severity) => toSarifResult({ ...FINDING, severity }).level,
    );
    expect(levels).toEqual(['note', 'note', 'warning', 'error', 'error']);
  });

  it('numbers rules in the order they first appear, points ruleIndex at them, and gives each its most severe level', () => {
    const log = toSarifLog(
      [
        { ...FINDING, rule: 'zeta', severity: 'low' },
        { ...FINDING, rule: 'alpha', severity: 'medium' },
        { ...FINDING, rule: 'zeta', severity: 'critical' },
      ],
      OPTS,
    ) as {
      runs: { tool: { driver: { rules: Record<string, unknown>[] } }; results: Record<string, unknown>[] }[];
    };
    const run = log.runs[0];
    expect(run?.tool.driver.rules.map((r) => [r.id, r.defaultConfiguration])).toEqual([
      ['zeta', { level: 'error' }],
      ['alpha', { level: 'warning' }],
    ]);
    expect(run?.results.map((r) => [r.ruleId, r.ruleIndex, r.level])).toEqual([
      ['zeta', 0, 'note'],
      ['alpha', 1, 'warning'],
      ['zeta', 0, 'error'],
    ]);
  });

  it('uses the rule catalog for names, descriptions and help', () => {
    const log = toSarifLog([FINDING], {
      ...OPTS,
      rules: {
        'jwt-exposed': { name: 'JwtExposed', description: 'Bearer token in logs', help: 'Rotate it.' },
      },
    }) as { runs: { tool: { driver: { rules: unknown[] } } }[] };
    expect(log.runs[0]?.tool.driver.rules[0]).toMatchObject({
      id: 'jwt-exposed',
      name: 'JwtExposed',
      shortDescription: { text: 'Bearer token in logs' },
      help: { text: 'Rotate it.' },
    });
  });

  it('carries the token fingerprint as a partial fingerprint, and none for errors', () => {
    expect(toSarifResult(FINDING).partialFingerprints).toEqual({
      [SARIF_FINGERPRINT_KEY]: FINDING.token.fingerprint,
    });
    expect(toSarifResult(ERROR_FINDING).partialFingerprints).toBeUndefined();
  });

  it('locates archive members as archive!/member and JSON values by pointer', () => {
    expect(locationsOf(NESTED_FINDING)).toEqual([
      {
        physicalLocation: { artifactLocation: { uri: 'support/case%201234.tgz!/export/session.har' } },
        logicalLocations: [{ kind: 'value', fullyQualifiedName: '/log/entries/0/request/headers/3/value' }],
      },
    ]);
  });

  it('locates stdin lines and Kafka records without inventing a file', () => {
    expect(locationsOf(at({ kind: 'stdin', line: 7 }))).toEqual([
      {
        physicalLocation: {
          artifactLocation: { description: { text: 'standard input' } },
          region: { startLine: 7 },
        },
      },
    ]);
    expect(
      locationsOf(at({ kind: 'kafka', topic: 'logs', partition: 0, offset: '42', pointer: '/msg' })),
    ).toEqual([
      {
        logicalLocations: [
          { kind: 'resource', name: 'logs', fullyQualifiedName: 'kafka:logs/0/42' },
          { kind: 'value', fullyQualifiedName: '/msg' },
        ],
      },
    ]);
    expect(locationsOf(at({ kind: 'kafka' }))).toBeUndefined();
  });

  it('encodes paths as URI references', () => {
    expect(pathToUri('logs/app 1.log')).toBe('logs/app%201.log');
    expect(pathToUri('/var/log/a#b?.log')).toBe('file:///var/log/a%23b%3F.log');
    expect(pathToUri('C:\\logs\\app.log')).toBe('file:///C:/logs/app.log');
    expect(pathToUri('weird!/name:x%.log')).toBe('weird%21/name%3Ax%25.log');
    expect(pathToUri('répertoire/ü.log')).toBe('r%C3%A9pertoire/%C3%BC.log');
  });
});
