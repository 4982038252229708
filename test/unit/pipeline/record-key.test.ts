// The text a record's finding ids are hashed from: byte for byte what JSON.stringify of the source's
// fields gave (finding ids must not change).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourceRef } from '../../../src/model.ts';
import { recordKeyText } from '../../../src/pipeline/engine.ts';

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('"', '\\', '\n', '\u001f', '\u007f', '\ud800', 'a\udc00b', '\u2028', 'é'),
);
const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY));
const source = fc.record(
  {
    kind: fc.constantFrom<SourceRef['kind']>('file', 'stdin', 'kafka'),
    name: text,
    member: text,
    topic: text,
    partition: num,
    offset: text,
    line: num,
    pointer: text,
  },
  { requiredKeys: ['kind'] },
);

describe('recordKeyText', () => {
  it('equals JSON.stringify of the fields in order', () => {
    fc.assert(
      fc.property(source, (s) => {
        const r = s as SourceRef;
        expect(recordKeyText(r)).toBe(
          JSON.stringify([r.kind, r.name, r.member, r.topic, r.partition, r.offset, r.line, r.pointer]),
        );
      }),
      { numRuns: 3000 },
    );
  });
});
