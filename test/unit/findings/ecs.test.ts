import { describe, expect, it } from 'vitest';
import { toEcs } from '../../../src/findings/index.ts';
import { ERROR_FINDING, expectExact, FINDING, NESTED_FINDING, OPTS, pick } from './fixtures.ts';
import { ecsProblems } from './schema-checks.ts';

describe('toEcs', () => {
  it('maps a token finding to an ECS alert', () => {
    expectExact(toEcs(FINDING, OPTS), {
      '@timestamp': '2026-01-15T10:20:30.000Z',
      ecs: {
        version: '8.11.0',
      },
      event: {
        kind: 'alert',
        category: ['intrusion_detection'],
        type: ['info'],
        action: 'sanitize',
        severity: 4,
        id: 'f-01JH7Q3M8Z',
        dataset: 'jwt_redactor.finding',
        module: 'jwt_redactor',
      },
      message:
        'JWS access token (k8s-service-account) at logs/app.log:42; expires 2027-01-15T08:39:59.000Z; fingerprint k1:3q2-7wAAAAAAAAAAAAAAAA; risks: long-lived; action: sanitize',
      rule: {
        id: 'jwt-exposed',
        name: 'jwt-exposed',
        ruleset: 'jwt-redactor',
      },
      observer: {
        product: 'jwt-redactor',
        vendor: 'jwt-redactor',
        version: '0.1.0',
      },
      file: {
        path: 'logs/app.log',
        name: 'app.log',
      },
      log: {
        file: {
          path: 'logs/app.log',
        },
      },
      related: {
        hash: ['k1:3q2-7wAAAAAAAAAAAAAAAA'],
      },
      jwt_redactor: pick(
        FINDING,
        'schema severity source token header claims classification status risks frameworks',
      ),
    });
  });

  it('maps a processing error to an ECS pipeline_error', () => {
    expectExact(toEcs(ERROR_FINDING, OPTS), {
      '@timestamp': '2026-01-15T10:20:31.500Z',
      ecs: {
        version: '8.11.0',
      },
      event: {
        kind: 'pipeline_error',
        action: 'quarantine',
        outcome: 'failure',
        severity: 3,
        id: 'e-01JH7Q3N2K',
        dataset: 'jwt_redactor.finding',
        module: 'jwt_redactor',
      },
      message:
        'Record quarantined at kafka app-logs/3@1200: record is 12 MiB, above the 8 MiB limit (ERR_RECORD_TOO_LARGE)',
      rule: {
        id: 'processing-error',
        name: 'processing-error',
        ruleset: 'jwt-redactor',
      },
      observer: {
        product: 'jwt-redactor',
        vendor: 'jwt-redactor',
        version: '0.1.0',
      },
      error: {
        code: 'ERR_RECORD_TOO_LARGE',
        message: 'record is 12 MiB, above the 8 MiB limit',
      },
      jwt_redactor: pick(ERROR_FINDING, 'schema severity source'),
    });
  });

  it('uses only ECS field names outside the jwt_redactor namespace', () => {
    for (const f of [FINDING, NESTED_FINDING, ERROR_FINDING]) expect(ecsProblems(toEcs(f, OPTS))).toEqual([]);
    expect(ecsProblems({ ...toEcs(FINDING, OPTS), kafka: { topic: 'x' } })).toEqual([
      'not an ECS field: kafka.topic',
    ]);
  });

  it('puts archive members in file.path and the input in log.file.path', () => {
    const o = toEcs(NESTED_FINDING, OPTS);
    expect(o.file).toEqual({ path: 'support/case 1234.tgz!/export/session.har', name: 'session.har' });
    expect(o.log).toEqual({ file: { path: 'support/case 1234.tgz' } });
  });

  it('lists outer and nested fingerprints in related.hash', () => {
    expect(toEcs(NESTED_FINDING, OPTS).related).toEqual({
      hash: ['k1:jweAAAAAAAAAAAAAAAAAAA', 'k1:jwsAAAAAAAAAAAAAAAAAAA'],
    });
  });

  it('keeps Kafka coordinates under jwt_redactor.source, with no file fields', () => {
    const o = toEcs(ERROR_FINDING, OPTS);
    expect(o.file).toBeUndefined();
    expect(o.log).toBeUndefined();
    expect(o.jwt_redactor).toMatchObject({
      source: { kind: 'kafka', topic: 'app-logs', partition: 3, offset: '1200' },
    });
  });
});
