// The compact JWS decoder reads the claims set itself; it must accept exactly what jose's
// decodeJwt accepts, and give the same object.
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { decodeReadable } from '../../../src/decoding/index.ts';
import type { TokenItem } from '../../../src/detection/index.ts';

const b = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');
const H = b('{"alg":"HS256"}');

function viaJose(token: string): unknown {
  try {
    return decodeJwt(token);
  } catch {
    return 'not claims';
  }
}

function viaDecoder(token: string): unknown {
  const item = {
    type: 'token',
    kind: 'jws',
    serialization: 'compact',
    token,
    header: { alg: 'HS256' },
    start: 0,
    end: token.length,
    encoding: [],
    context: 'text',
    quoting: { kind: 'plain' },
  } as unknown as TokenItem;
  const d = decodeReadable(item);
  return d.payload.type === 'claims' ? d.payload.claims : 'not claims';
}

describe('claims set of a compact JWS', () => {
  const payloads = [
    '',
    b('{"a":1}'),
    b('[1]'),
    b('null'),
    b('1'),
    b('"x"'),
    b('{"a":'),
    b(new Uint8Array([0xff, 0xfe])),
    b('  {"a":1}  '),
    b('{"__proto__":{"x":1}}'),
    'e30',
    'e30=',
    'e30==',
    'e3 0',
    'e+0',
    'e/0',
    '!!!',
    'e',
    b('{}'),
    b('\ufeff{}'),
  ];

  it('equals jose decodeJwt on odd payloads and segment counts', () => {
    for (const p of payloads) {
      for (const rest of ['', '.x', '.x.y.z', '.']) {
        const token = `${H}.${p}.sig${rest}`;
        expect(viaDecoder(token)).toEqual(viaJose(token));
      }
    }
  });

  it('equals jose decodeJwt on arbitrary payload text and bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 40 }).map((s) => b(s)),
          fc.json().map((s) => b(s)),
          fc.uint8Array({ maxLength: 40 }).map((u) => b(u)),
          fc.string({
            unit: fc.constantFrom('e', '3', '0', 'J', '=', '-', '_', '+', '/', ' ', 'A'),
            maxLength: 12,
          }),
        ),
        (p) => {
          const token = `${H}.${p}.c2ln`;
          expect(viaDecoder(token)).toEqual(viaJose(token));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
