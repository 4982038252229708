// R4/R7 through the whole scan: for any text or JSONL content, any job size and any chunking of the
// input, the output is what the engine makes of the whole input in one call: framing (blocks, long
// lines, chunks) never changes a byte, and only token spans change.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fakeToken, processTextSync } from './engine-double.ts';
import { scanStdin } from './helpers.ts';

const TOKENS = [fakeToken({ sub: 'a' }), fakeToken({ sub: 'b', x: 'y' })];

function scanBytes(
  input: Buffer,
  chunk: number,
  recordBytes: number,
  inputFormat: 'auto' | 'text' | 'jsonl',
) {
  return scanStdin(input, chunk, { recordBytes, blockBytes: 1024, inputFormat });
}

const piece = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('\n', '\r\n', ' ', '"', '{"k":"', '"}', 'w'.repeat(1500), ...TOKENS),
  fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('latin1')),
);

describe('scan preserves every byte outside redacted spans', () => {
  it('for arbitrary text, lines of any length and any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 200 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.constantFrom(1024, 2048, 8192),
        fc.constantFrom('auto', 'text', 'jsonl') as fc.Arbitrary<'auto' | 'text' | 'jsonl'>,
        async (pieces, chunk, recordBytes, format) => {
          const text = pieces.join('');
          const input = Buffer.from(text, 'latin1');
          const { output, report } = await scanBytes(input, chunk, recordBytes, format);
          const expected = Buffer.from(processTextSync(input, { kind: 'stdin' }).output);
          expect(output.toString('latin1')).toBe(expected.toString('latin1'));
          expect(report.failed).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });
});
