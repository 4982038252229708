import { describe, expect, it } from 'vitest';
import { CLAIM_CATEGORIES, classify } from '../../../src/classification/index.ts';
import type { DecodedToken, JsonObject } from '../../../src/model.ts';
import { analyse, decode, fresh, rules, sign } from './fixtures.ts';

function claimsOf(payload: JsonObject): DecodedToken {
  return {
    kind: 'jws',
    serialization: 'compact',
    header: { alg: 'ES256' },
    headers: [{ alg: 'ES256' }],
    payload: { type: 'claims', claims: payload },
    nested: false,
    decrypted: false,
    length: 100,
  };
}

const categories = (payload: JsonObject) => classify(claimsOf(payload), rules()).claims;

describe('claim names', () => {
  it('classifies registered, OIDC and vendor claims by exact name', async () => {
    const token = await sign(
      fresh({
        iss: 'https://issuer.example.com',
        aud: 'api',
        sub: 'user-1',
        jti: 'id-1',
        email: 'ada@example.com',
        name: 'Ada',
        phone_number: '+44 20 7946 0000',
        scope: 'read write',
        roles: ['reader'],
        groups: ['g1'],
        tid: 'tenant-a',
        azp: 'client-a',
        sid: 'session-a',
        act: { sub: 'admin@example.com' },
        client_secret: 'abc',
      }),
    );
    const { classification } = analyse(token);
    expect(classification.claims).toMatchObject({
      iss: 'public',
      aud: 'public',
      exp: 'public',
      iat: 'public',
      nbf: 'public',
      sub: 'identifier.subject',
      jti: 'identifier.token',
      email: 'pii.email',
      name: 'pii.name',
      phone_number: 'pii.phone',
      scope: 'authz.scope',
      roles: 'authz.role',
      groups: 'authz.group',
      tid: 'identifier.tenant',
      azp: 'identifier.client',
      sid: 'identifier.session',
      act: 'authz.delegation',
      '/act/sub': 'pii.email',
      client_secret: 'secret.embedded',
    });
  });

  it('classifies by glob, case-insensitively', () => {
    expect(
      categories({ work_email: 'x', Backup_Email: 'y', custom_roles: ['a'], 'custom:department': 'z' }),
    ).toEqual({
      work_email: 'pii.email',
      Backup_Email: 'pii.email',
      custom_roles: 'authz.role',
      'custom:department': 'pii.other',
    });
  });

  it('leaves unknown claims unclassified and only uses the categories it declares', () => {
    const got = categories({ foo: 'bar', n: 3, flag: true, nothing: null });
    expect(got).toEqual({
      foo: 'unclassified',
      n: 'unclassified',
      flag: 'unclassified',
      nothing: 'unclassified',
    });
    for (const c of Object.values(categories({ email: 'a@b.example', x: '10.0.0.1' }))) {
      expect(CLAIM_CATEGORIES).toContain(c);
    }
  });

  it('gives the claims map only to claim-bearing payloads', () => {
    const opaque = { ...claimsOf({}), payload: { type: 'opaque', length: 12 } } as DecodedToken;
    expect(classify(opaque, rules()).claims).toEqual({});
  });
});

describe('nested claims and JSON pointers', () => {
  it('classifies Kubernetes bound-token claims by pointer', () => {
    const got = categories({
      'kubernetes.io': {
        namespace: 'payments',
        pod: { name: 'api-1', uid: 'u1' },
        serviceaccount: { name: 'api', uid: 'u2' },
        warnafter: 1,
      },
    });
    expect(got).toEqual({
      'kubernetes.io': 'identifier.workload',
      '/kubernetes.io/namespace': 'identifier.tenant',
      '/kubernetes.io/pod/name': 'identifier.workload',
      '/kubernetes.io/pod/uid': 'identifier.workload',
      '/kubernetes.io/serviceaccount/name': 'identifier.subject',
      '/kubernetes.io/serviceaccount/uid': 'identifier.subject',
      '/kubernetes.io/warnafter': 'public',
    });
  });

  it('classifies GCP compute_engine and SET events by pointer pattern', () => {
    const got = categories({
      google: { compute_engine: { instance_id: '1', project_id: 'p', zone: 'z' } },
      events: {
        'https://schemas.openid.net/secevent/risc/event-type/account-disabled': {
          subject: { format: 'email', email: 'ada@example.com' },
        },
      },
    });
    const ev = '/events/https:~1~1schemas.openid.net~1secevent~1risc~1event-type~1account-disabled';
    expect(got).toMatchObject({
      '/google/compute_engine/instance_id': 'identifier.workload',
      '/google/compute_engine/project_id': 'identifier.account',
      '/google/compute_engine/zone': 'public',
      [`${ev}/subject/format`]: 'public',
      [`${ev}/subject/email`]: 'pii.email',
      events: 'pii.email',
    });
  });

  it('escapes ~ and / in pointer keys (RFC 6901)', () => {
    const got = categories({ 'a/b': { 'c~d': 'x', 'e/f': { email: 'z@example.org' } } });
    expect(got).toEqual({
      'a/b': 'pii.email',
      '/a~1b/c~0d': 'unclassified',
      '/a~1b/e~1f/email': 'pii.email',
    });
  });

  it('lets nested leaves inherit a container rule and walks arrays of objects', () => {
    const got = categories({
      address: { street_address: '1 Main St', locality: 'Springfield' },
      amr: [{ method: 'otp' }, 'pwd'],
    });
    expect(got).toEqual({
      address: 'pii.address',
      '/address/street_address': 'pii.address',
      '/address/locality': 'pii.address',
      amr: 'public',
      '/amr/0/method': 'public',
      '/amr/1': 'public',
    });
  });

  it('does not let a __proto__ claim touch the prototype', () => {
    const claims = JSON.parse('{"__proto__": {"email": "a@b.example"}, "sub": "x"}') as JsonObject;
    const got = categories(claims);
    expect(Object.getPrototypeOf(got)).toBeNull();
    expect(got['/__proto__/email']).toBe('pii.email');
    expect(({} as Record<string, unknown>)['email']).toBeUndefined();
  });
});

describe('value detectors', () => {
  it.each([
    ['contact', 'reach me at ada.lovelace+jwt@example.co.uk please', 'pii.email'],
    ['tel', '+1 415 555 0123', 'pii.phone'],
    ['tel2', '(415) 555-0123', 'pii.phone'],
    ['origin', '203.0.113.7', 'pii.ip'],
    ['origin6', '2001:db8::1', 'pii.ip'],
    ['backend', '10.1.2.3', 'routing.internal'],
    ['backend6', 'fd12:3456:789a::1', 'routing.internal'],
    ['callback', 'https://billing.svc.cluster.local:8443/hook', 'routing.internal'],
    ['upstream', 'http://jenkins:8080/job/x', 'routing.internal'],
    ['db', 'postgres://app@db.corp:5432/main', 'routing.internal'],
    ['host', 'vault.internal', 'routing.internal'],
    ['callback2', 'http://[::1]:9000/', 'routing.internal'],
    ['org', '72f988bf-86f1-41af-91ab-2d7cd011db47', 'identifier.tenant'],
    ['note', 'key AKIAIOSFODNN7EXAMPLE here', 'secret.embedded'],
    ['gh', `ghp_${'a1B2'.repeat(9)}`, 'secret.embedded'],
    ['ghs', `ghs_${'Z9y8'.repeat(9)}`, 'secret.embedded'],
    ['slack', 'xoxb-123456789012-abcdefghijkl', 'secret.embedded'],
    ['pem', '-----BEGIN RSA PRIVATE KEY-----\nMIIE...', 'secret.embedded'],
    ['inner', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig', 'secret.embedded'],
    ['db_password', 'Tr0ub4dor&3-horse-battery', 'secret.embedded'],
  ])('%s = %j -> %s', (name, value, category) => {
    expect(categories({ [name]: value })[name]).toBe(category);
  });

  it.each([
    ['version', '1.2.3.4.5'],
    ['count', '1234567890'],
    ['when', '2024-01-15'],
    ['word', 'local'],
    ['site', 'https://www.example.com/path'],
    ['short_password_note', 'aaaa'],
    ['akia', 'AKIA-not-a-key'],
    ['build', '999.1.1.1'],
  ])('%s = %j stays unclassified', (name, value) => {
    expect(categories({ [name]: value })[name]).toBe('unclassified');
  });

  it('upgrades a rule category when a detector finds something more sensitive', () => {
    expect(
      categories({
        sub: 'ada@example.com',
        iss: 'https://keycloak.corp/realms/x',
        htu: 'https://10.0.0.8/token',
      }),
    ).toEqual({
      sub: 'pii.email',
      iss: 'routing.internal',
      htu: 'routing.internal',
    });
  });

  it('does not let an applies_to: unmatched detector override a rule', () => {
    expect(categories({ aud: '72f988bf-86f1-41af-91ab-2d7cd011db47' }).aud).toBe('public');
  });

  it('checks every element of a scalar array and keeps the most sensitive', () => {
    expect(categories({ aud: ['api', 'https://api.internal/'] }).aud).toBe('routing.internal');
  });

  it('takes a signed token through decode and classify', async () => {
    const token = await sign({ sub: 'x', nested: { deeper: { ip: '192.168.1.10' } } });
    expect(classify(decode(token), rules()).claims).toMatchObject({
      nested: 'pii.ip',
      '/nested/deeper/ip': 'pii.ip',
    });
  });
});
