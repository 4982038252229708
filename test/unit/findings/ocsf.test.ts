import { describe, expect, it } from 'vitest';
import { OCSF_VERSION, toOcsf } from '../../../src/findings/index.ts';
import type { Severity } from '../../../src/model.ts';
import { ERROR_FINDING, expectExact, FINDING, NESTED_FINDING, OPTS, pick } from './fixtures.ts';
import { ocsfProblems } from './schema-checks.ts';

/** The class and activity every finding is written as. */
const DETECTION_FINDING_CREATE = {
  activity_id: 1,
  activity_name: 'Create',
  category_uid: 2,
  category_name: 'Findings',
  class_uid: 2004,
  class_name: 'Detection Finding',
  type_uid: 200401,
  type_name: 'Detection Finding: Create',
};

describe('toOcsf (Detection Finding, class 2004)', () => {
  it('maps a token finding', () => {
    expectExact(toOcsf(FINDING, OPTS), {
      ...DETECTION_FINDING_CREATE,
      severity_id: 4,
      severity: 'High',
      status_id: 1,
      status: 'New',
      is_alert: true,
      time: 1768472430000,
      message:
        'JWS access token (k8s-service-account) at logs/app.log:42; expires 2027-01-15T08:39:59.000Z; fingerprint k1:3q2-7wAAAAAAAAAAAAAAAA; risks: long-lived; action: sanitize',
      metadata: {
        version: '1.4.0',
        uid: 'f-01JH7Q3M8Z',
        correlation_uid: 'k1:3q2-7wAAAAAAAAAAAAAAAA',
        product: {
          name: 'jwt-redactor',
          vendor_name: 'jwt-redactor',
          version: '0.1.0',
        },
      },
      finding_info: {
        uid: 'f-01JH7Q3M8Z',
        title: 'JWS access token (k8s-service-account) exposed',
        types: ['Credential Exposure', 'JSON Web Token'],
        analytic: {
          uid: 'jwt-exposed',
          name: 'jwt-exposed',
          type_id: 1,
          type: 'Rule',
        },
        created_time: 1768472430000,
        data_sources: ['file'],
      },
      risk_level_id: 3,
      risk_level: 'High',
      risk_details: 'long-lived: lifetime 364 days, above the 24 h limit',
      resources: [
        {
          type: 'JSON Web Token',
          uid: 'k1:3q2-7wAAAAAAAAAAAAAAAA',
          data: pick(FINDING, 'token header claims classification status'),
        },
      ],
      evidences: [
        {
          file: {
            name: 'app.log',
            path: 'logs/app.log',
            type_id: 1,
            type: 'Regular File',
          },
          data: pick(FINDING, 'source'),
        },
      ],
      unmapped: {
        jwt_redactor: pick(FINDING, 'schema risks frameworks action'),
      },
    });
  });

  it('maps a processing error', () => {
    expectExact(toOcsf(ERROR_FINDING, OPTS), {
      ...DETECTION_FINDING_CREATE,
      severity_id: 3,
      severity: 'Medium',
      status_id: 1,
      status: 'New',
      is_alert: true,
      time: 1768472431500,
      message:
        'Record quarantined at kafka app-logs/3@1200: record is 12 MiB, above the 8 MiB limit (ERR_RECORD_TOO_LARGE)',
      metadata: {
        version: '1.4.0',
        uid: 'e-01JH7Q3N2K',
        product: {
          name: 'jwt-redactor',
          vendor_name: 'jwt-redactor',
          version: '0.1.0',
        },
      },
      finding_info: {
        uid: 'e-01JH7Q3N2K',
        title: 'Processing error: ERR_RECORD_TOO_LARGE',
        desc: 'record is 12 MiB, above the 8 MiB limit',
        types: ['Processing Error'],
        analytic: {
          uid: 'processing-error',
          name: 'processing-error',
          type_id: 1,
          type: 'Rule',
        },
        created_time: 1768472431500,
        data_sources: ['kafka'],
      },
      evidences: [
        {
          data: pick(ERROR_FINDING, 'source'),
        },
      ],
      unmapped: {
        jwt_redactor: pick(ERROR_FINDING, 'schema error action'),
      },
    });
  });

  it('has every required attribute, typed, for tokens, nested tokens and errors', () => {
    for (const f of [FINDING, NESTED_FINDING, ERROR_FINDING]) {
      const o = toOcsf(f, OPTS);
      expect(ocsfProblems(o)).toEqual([]);
      for (const k of ['activity_id', 'category_uid', 'class_uid', 'type_uid', 'severity_id', 'time']) {
        expect(Number.isInteger(o[k]), k).toBe(true);
      }
      expect(o.metadata).toMatchObject({
        version: OCSF_VERSION,
        product: { name: 'jwt-redactor', vendor_name: 'jwt-redactor' },
      });
      expect(o.finding_info).toMatchObject({ uid: f.id });
    }
  });

  it('maps each severity to severity_id and keeps type_uid = class_uid * 100 + activity_id', () => {
    const expected: [Severity, number, string][] = [
      ['info', 1, 'Informational'],
      ['low', 2, 'Low'],
      ['medium', 3, 'Medium'],
      ['high', 4, 'High'],
      ['critical', 5, 'Critical'],
    ];
    for (const [severity, id, caption] of expected) {
      const o = toOcsf({ ...FINDING, severity }, OPTS);
      expect([o.severity_id, o.severity, o.type_uid, o.is_alert]).toEqual([
        id,
        caption,
        200401,
        severity !== 'info',
      ]);
    }
  });

  it('lists the nested token as a second resource and its rule facts under unmapped', () => {
    const o = toOcsf(NESTED_FINDING, OPTS);
    const resources = o.resources as { uid: string }[];
    expect(resources.map((r) => r.uid)).toEqual(['k1:jweAAAAAAAAAAAAAAAAAAA', 'k1:jwsAAAAAAAAAAAAAAAAAAA']);
    expect(o.unmapped).toMatchObject({
      jwt_redactor: { inner: { rule: 'jwt-exposed', severity: 'critical' } },
    });
    expect(o.risk_level_id).toBeUndefined();
  });

  it('names an archive member as name!/member in the file evidence', () => {
    const o = toOcsf(NESTED_FINDING, OPTS);
    expect((o.evidences as { file: unknown }[])[0]?.file).toEqual({
      name: 'session.har',
      path: 'support/case 1234.tgz!/export/session.har',
      type_id: 1,
      type: 'Regular File',
    });
  });

  it('takes rule names and descriptions from the rule catalog', () => {
    const o = toOcsf(FINDING, {
      ...OPTS,
      rules: { 'jwt-exposed': { name: 'JWT exposed', description: 'A bearer token in logs.' } },
    });
    expect(o.finding_info).toMatchObject({
      desc: 'A bearer token in logs.',
      analytic: { uid: 'jwt-exposed', name: 'JWT exposed', type_id: 1, type: 'Rule' },
    });
    const proto = toOcsf({ ...FINDING, rule: 'constructor' }, { ...OPTS, rules: {} });
    expect(proto.finding_info).toMatchObject({ analytic: { name: 'constructor' } });
  });

  it('writes time as epoch milliseconds, 0 when the time does not parse or is before 1970', () => {
    expect(toOcsf(FINDING, OPTS).time).toBe(Date.UTC(2026, 0, 15, 10, 20, 30));
    expect(toOcsf({ ...FINDING, time: 'not a time' }, OPTS).time).toBe(0);
    // Found by the property test (seed -1770604465): "50" parses as 1950, a negative timestamp_t.
    const old = toOcsf({ ...FINDING, time: '50' }, OPTS);
    expect([old.time, (old.finding_info as { created_time: unknown }).created_time]).toEqual([0, 0]);
  });
});
