import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeStatus } from '../../../src/classification/index.ts';
import type { JsonObject } from '../../../src/model.ts';
import { NOW, NOW_S } from './fixtures.ts';

describe('timeStatus', () => {
  it('reports issue, expiry, not-before, lifetime and remaining time', () => {
    expect(timeStatus({ iat: NOW_S - 100, nbf: NOW_S - 100, exp: NOW_S + 500 }, NOW)).toEqual({
      issued_at: new Date((NOW_S - 100) * 1000).toISOString(),
      not_before: new Date((NOW_S - 100) * 1000).toISOString(),
      expires_at: new Date((NOW_S + 500) * 1000).toISOString(),
      expired: false,
      not_yet_valid: false,
      lifetime_seconds: 600,
      remaining_seconds: 500,
    });
  });

  it('is expired exactly at exp (RFC 7519: now must be before exp)', () => {
    expect(timeStatus({ exp: NOW_S }, NOW)).toMatchObject({ expired: true, remaining_seconds: 0 });
    expect(timeStatus({ exp: NOW_S + 1 }, NOW)).toMatchObject({ expired: false, remaining_seconds: 1 });
    expect(timeStatus({ exp: NOW_S - 1 }, NOW)).toMatchObject({ expired: true, remaining_seconds: -1 });
    // fractional NumericDate: half a second left is not expired
    expect(timeStatus({ exp: NOW_S + 0.5 }, NOW)).toMatchObject({ expired: false, remaining_seconds: 0 });
  });

  it('is not yet valid before nbf and valid from nbf on', () => {
    expect(timeStatus({ nbf: NOW_S + 1 }, NOW)).toMatchObject({ not_yet_valid: true });
    expect(timeStatus({ nbf: NOW_S }, NOW)).toMatchObject({ not_yet_valid: false });
  });

  it('uses nbf for the lifetime when iat is missing', () => {
    expect(timeStatus({ nbf: NOW_S, exp: NOW_S + 60 }, NOW).lifetime_seconds).toBe(60);
    expect(timeStatus({ exp: NOW_S + 60 }, NOW).lifetime_seconds).toBeUndefined();
  });

  it('accepts decimal strings some issuers emit', () => {
    expect(timeStatus({ exp: String(NOW_S + 10), iat: `${NOW_S}.25` }, NOW)).toMatchObject({
      expired: false,
      remaining_seconds: 10,
      lifetime_seconds: 10,
    });
  });

  it.each<[string, JsonObject]>([
    ['objects and booleans', { exp: { a: 1 }, iat: true, nbf: [1] }],
    ['text', { exp: 'tomorrow', iat: '', nbf: '1e9' }],
    ['null', { exp: null, iat: null }],
    ['huge strings', { exp: '9'.repeat(1_000_000) }],
  ])('ignores non-numeric values (%s) without throwing', (_, claims) => {
    expect(timeStatus(claims, NOW)).toEqual({});
  });

  it('tolerates absurd numbers: no date for them, numbers stay finite', () => {
    const s = timeStatus({ exp: 1e300, iat: -1e300, nbf: Number.MAX_VALUE }, NOW);
    expect(s.expires_at).toBeUndefined();
    expect(s.issued_at).toBeUndefined();
    expect(s.expired).toBe(false);
    expect(Number.isFinite(s.remaining_seconds)).toBe(true);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    // the last representable instant still gets a date
    expect(timeStatus({ exp: 8.64e12 }, NOW).expires_at).toBe('+275760-09-13T00:00:00.000Z');
    expect(timeStatus({ exp: -1 }, NOW)).toMatchObject({
      expired: true,
      expires_at: '1969-12-31T23:59:59.000Z',
    });
  });

  it('reads only own properties and returns nothing without claims', () => {
    expect(timeStatus(Object.create({ exp: NOW_S + 5 }) as JsonObject, NOW)).toEqual({});
    expect(timeStatus(undefined, NOW)).toEqual({});
  });
});

describe('issued_at, expires_at and not_before are Date#toISOString of the NumericDate', () => {
  it('for whole and fractional seconds, at the fast-path edges and beyond', () => {
    const reference = (s: number) => (Math.abs(s) <= 8.64e12 ? new Date(s * 1000).toISOString() : undefined);
    const edges = [
      0, -0, -1, 1, 1.5, -62_167_219_200, -62_167_219_201, 253_402_300_799, 253_402_300_800, 8.64e12,
    ];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(...edges),
          fc.integer({ min: -9e12, max: 9e12 }),
          fc.integer({ min: 0, max: 4e9 }),
          fc.double({ min: -1e13, max: 1e13, noNaN: true }),
        ),
        (s) => {
          const st = timeStatus({ iat: s, exp: s, nbf: s }, NOW);
          expect(st.issued_at).toBe(reference(s));
          expect(st.expires_at).toBe(reference(s));
          expect(st.not_before).toBe(reference(s));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
