import { describe, expect, it } from 'vitest';
import { serialize, toNative } from '../../../src/findings/index.ts';
import type { Finding } from '../../../src/model.ts';
import { ERROR_FINDING, expectExact, FINDING, NESTED_FINDING } from './fixtures.ts';

describe('toNative', () => {
  it('writes a token finding as jwt-redactor/finding@1, fields in schema order', () => {
    const out = toNative(FINDING);
    expect(Object.keys(out).join(' ')).toBe(
      'schema id time rule severity source token header claims classification status risks frameworks action',
    );
    expectExact(out, FINDING);
  });

  it('writes a processing error', () => {
    const out = toNative(ERROR_FINDING);
    expect(Object.keys(out).join(' ')).toBe('schema id time rule severity source error action');
    expectExact(out, ERROR_FINDING);
  });

  it('keeps the nested token under inner, in the same order', () => {
    const inner = toNative(NESTED_FINDING).inner as Record<string, unknown>;
    expect(Object.keys(inner).join(' ')).toBe(
      'rule severity token header claims classification status risks frameworks action',
    );
    expect(inner.token).toEqual(NESTED_FINDING.inner?.token);
  });

  it('puts keys in schema order whatever order the engine built them in', () => {
    const scrambled = {
      action: FINDING.action,
      frameworks: FINDING.frameworks,
      risks: FINDING.risks,
      status: FINDING.status,
      classification: FINDING.classification,
      claims: FINDING.claims,
      header: FINDING.header,
      token: { ...FINDING.token },
      source: { line: 42, name: 'logs/app.log', kind: 'file' },
      severity: FINDING.severity,
      rule: FINDING.rule,
      time: FINDING.time,
      id: FINDING.id,
      schema: FINDING.schema,
    } as Finding;
    expect(serialize(toNative(scrambled))).toBe(serialize(toNative(FINDING)));
  });

  it('copies only the fields of the schema, never extra properties on the object', () => {
    const polluted = {
      ...FINDING,
      raw: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
      detection: { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' },
      token: { ...FINDING.token, value: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' },
      source: { ...FINDING.source, record: 'Authorization: Bearer eyJ...' },
    } as Finding;
    expect(serialize(toNative(polluted))).toBe(serialize(toNative(FINDING)));
  });

  it('keeps a claim named __proto__ as a claim', () => {
    const claims = JSON.parse('{"__proto__":{"admin":true},"sub":"hmac:k1:x"}') as Finding['claims'];
    const out = toNative({ ...FINDING, claims });
    const text = serialize(out);
    expect(text).toContain('"claims":{"__proto__":{"admin":true},"sub":"hmac:k1:x"}');
    expect(Object.getPrototypeOf(out.claims)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('turns what JSON cannot hold into JSON, and drops bytes and class instances', () => {
    const header = {
      alg: 'HS256',
      n: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      z: -0,
      big: 10n,
      gone: undefined,
      sig: new Uint8Array([1, 2, 3]),
      when: new Date(0),
      list: [1, undefined, () => 1],
    } as unknown as Finding['header'];
    expect(toNative({ ...FINDING, header }).header).toEqual({
      alg: 'HS256',
      n: null,
      inf: null,
      z: 0,
      big: '10',
      list: [1, null, null],
    });
  });

  it('cuts claims nested deeper than the limit instead of recursing without end', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const text = serialize(toNative({ ...FINDING, claims: deep as Finding['claims'] }));
    expect(text).toContain('"[nested too deep]"');
    expect(text).not.toContain('leaf');
  });
});
