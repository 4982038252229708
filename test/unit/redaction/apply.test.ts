// applyRedactions writes its output into a buffer it is handed (a reused one in batch scans): every
// byte must be written, or it must refuse. Over its own input (`inPlace`, a worker's job) only when no
// byte is overwritten before it is read: the same bytes as a fresh output, whatever the lengths.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scan } from '../../../src/detection/index.ts';
import { applyRedactions } from '../../../src/redaction/index.ts';
import { jwsES256 } from '../../helpers/tokens.ts';

/** `text` in a buffer of its own (small Buffers share Node's pool: an output may come from it too). */
const own = (text: string) => {
  const b = Buffer.from(new ArrayBuffer(text.length));
  b.write(text, 'latin1');
  return b;
};

describe('applyRedactions', () => {
  it('fills a dirty reused buffer exactly, and refuses one it cannot fill', async () => {
    const t = await jwsES256({ sub: 'x' });
    const input = Buffer.from(`a=${t} b=${t} end`);
    const result = scan(input);
    const replace = () => 'JWTR~x';
    const suspect = () => 'JWTR~s';
    const fresh = applyRedactions(input, result.items, replace, suspect);
    expect(Buffer.from(fresh!).toString()).toBe('a=JWTR~x b=JWTR~x end');

    const dirty = (n: number) => Buffer.alloc(n, 0x41); // what a previous job left: 'AAAA...'
    const reused = applyRedactions(input, result.items, replace, suspect, { alloc: dirty });
    expect(Buffer.from(reused!).toString()).toBe('a=JWTR~x b=JWTR~x end');

    const tooBig = (n: number) => Buffer.alloc(n + 1, 0x41);
    expect(() => applyRedactions(input, result.items, replace, suspect, { alloc: tooBig })).toThrow(
      /wrote 21 of 22 bytes/,
    );
  });

  it('over its own input when the output never runs ahead of it, with the bytes a fresh output has', async () => {
    const t = await jwsES256({ sub: 'x' });
    const text = `a=${t} b="${t}" ${Buffer.from(`{"t":"${t}"}`).toString('base64')} end`;
    const result = scan(Buffer.from(text));
    const suspect = () => 'S';
    // Replacement lengths per token, in order: shorter, as long, longer than the token (which is
    // longer than 20 characters), in every combination, and the tail after the last one.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: t.length + 40 }), { minLength: 3, maxLength: 3 }),
        (lengths) => {
          let k = 0;
          const replace = () => String.fromCharCode(0x61 + (k % 26)).repeat(lengths[k++ % lengths.length]!);
          const fresh = Buffer.from(applyRedactions(Buffer.from(text), result.items, replace, suspect)!);
          k = 0;
          const input = own(text);
          const over = applyRedactions(input, result.items, replace, suspect, { inPlace: true })!;
          expect(Buffer.from(over).toString('latin1')).toBe(fresh.toString('latin1'));
          // In place exactly when every replacement so far kept the output behind the input.
          const shorter = lengths[0]! <= t.length && lengths[0]! + lengths[1]! <= 2 * t.length;
          if (over.buffer === input.buffer) expect(over.byteOffset).toBe(input.byteOffset);
          else expect(input.toString('latin1')).toBe(text); // not in place: the input is untouched
          if (!shorter) expect(over.buffer).not.toBe(input.buffer);
        },
      ),
      { numRuns: 200 },
    );
    // Placeholders shorter than their tokens (the usual case): in place.
    const input = own(text);
    const over = applyRedactions(input, result.items, () => 'JWTR~x', suspect, { inPlace: true })!;
    expect(over.buffer).toBe(input.buffer);
    expect(Buffer.from(over).toString('latin1')).toMatch(/^a=JWTR~x b="JWTR~x" [A-Za-z0-9+/=~]+ end$/);
  });

  it('says where every byte outside a replaced span went (shifts)', async () => {
    const t = await jwsES256({ sub: 'x' });
    const text = `a=${t} b="${t}" ${Buffer.from(`{"t":"${t}"}`).toString('base64')} end ${t}`;
    const input = Buffer.from(text);
    const result = scan(input);
    const spans = result.items.map((it) => [it.start, it.end] as const);
    expect(spans.length).toBe(4);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: t.length + 40 }), { minLength: 4, maxLength: 4 }),
        (lengths) => {
          let k = 0;
          const shifts: number[] = [];
          const out = applyRedactions(
            input,
            result.items,
            () => 'r'.repeat(lengths[k++ % 4]!),
            () => 'S',
            { shifts },
          )!;
          expect(shifts.length).toBe(2 * spans.length);
          let pair = 0;
          let shift = 0;
          for (let p = 0; p < input.length; p++) {
            while (pair < shifts.length && shifts[pair]! <= p) {
              shift = shifts[pair + 1]!;
              pair += 2;
            }
            if (spans.some(([s, e]) => p >= s && p < e)) continue;
            expect(out[p + shift], `input offset ${p}`).toBe(input[p]);
          }
          expect(shifts[shifts.length - 1]).toBe(out.length - input.length);
        },
      ),
      { numRuns: 100 },
    );
  });
});
