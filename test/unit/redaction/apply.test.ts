// applyRedactions writes its output into a buffer it is handed (a reused one in batch scans): every
// byte must be written, or it must refuse. Over its own input (`inPlace`, a worker's job) only when no
// byte is overwritten before it is read: the same bytes as a fresh output, whatever the lengths.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scan } from '../../../src/detection/index.ts';
import { applyRedactions, type LiteralEdits } from '../../../src/redaction/index.ts';
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

  it('makes literal edits in the same pass, in order among the replacements, or none when one overlaps', async () => {
    const t = await jwsES256({ sub: 'x' });
    // Words between the tokens: edits replace whole words (never a token's bytes).
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const text = `${words[0]} ${t} ${words[1]} ${words[2]} "${t}" ${words[3]} ${words[4]} ${t} ${words[5]}`;
    const result = scan(Buffer.from(text));
    expect(result.items.length).toBe(3);
    const spans = words.map((w) => ({ start: text.indexOf(w), end: text.indexOf(w) + w.length }));
    fc.assert(
      fc.property(
        fc.subarray([0, 1, 2, 3, 4, 5]),
        fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 1, max: t.length + 10 }),
        fc.boolean(),
        (chosen, lengths, placeholder, inPlace) => {
          const list = chosen.map((i) => ({ ...spans[i]!, bytes: Buffer.from('E'.repeat(lengths[i]!) + i) }));
          // Expected: the text with each token and each chosen word replaced, by position.
          const all = [
            ...result.items.map((it) => ({ start: it.start, end: it.end, text: 'P'.repeat(placeholder) })),
            ...list.map((e) => ({ start: e.start, end: e.end, text: e.bytes.toString('latin1') })),
          ].sort((a, b) => a.start - b.start);
          let expected = '';
          let pos = 0;
          for (const r of all) {
            expected += text.slice(pos, r.start) + r.text;
            pos = r.end;
          }
          expected += text.slice(pos);
          const edits: LiteralEdits = { list };
          const shifts: number[] = [];
          const input = own(text);
          const out = applyRedactions(
            input,
            result.items,
            () => 'P'.repeat(placeholder),
            () => 'S',
            {
              inPlace,
              edits,
              shifts,
            },
          )!;
          expect(Buffer.from(out).toString('latin1')).toBe(expected);
          expect(edits.applied).toBe(list.length > 0 ? true : undefined);
          expect(shifts[shifts.length - 1]).toBe(out.length - text.length);
          if (out.buffer !== input.buffer) expect(input.toString('latin1')).toBe(text);
        },
      ),
      { numRuns: 200 },
    );
    // Edits alone (every token left as it is, a report-only policy): still an output, with them.
    const only: LiteralEdits = { list: [{ ...spans[1]!, bytes: Buffer.from('B') }] };
    const out = applyRedactions(
      Buffer.from(text),
      result.items,
      () => null,
      () => 'S',
      { edits: only },
    );
    expect(Buffer.from(out!).toString('latin1')).toBe(text.replace('beta', 'B'));
    // An edit over a token's bytes: none is made (the caller makes them its own way).
    const tokenAt = result.items[1]!;
    const overlapping: LiteralEdits = {
      list: [
        { ...spans[0]!, bytes: Buffer.from('A') },
        { start: tokenAt.start - 2, end: tokenAt.start + 3, bytes: Buffer.from('X') },
      ],
    };
    const redacted = applyRedactions(
      Buffer.from(text),
      result.items,
      () => 'P',
      () => 'S',
      {
        edits: overlapping,
      },
    );
    expect(overlapping.applied).toBeUndefined();
    expect(Buffer.from(redacted!).toString('latin1')).toBe(text.split(t).join('P'));
    // Edits out of order: none made either.
    const unordered: LiteralEdits = {
      list: [
        { ...spans[3]!, bytes: Buffer.from('D') },
        { ...spans[0]!, bytes: Buffer.from('A') },
      ],
    };
    applyRedactions(
      Buffer.from(text),
      result.items,
      () => 'P',
      () => 'S',
      { edits: unordered },
    );
    expect(unordered.applied).toBeUndefined();
  });

  it('never writes over the input an edit reads from', async () => {
    const t = await jwsES256({ sub: 'x' });
    const text = `aaaa ${t} bbbbbbbb cccc`;
    const input = own(text);
    const result = scan(input);
    // The edit's bytes are the input's own "cccc", put in place of "bbbbbbbb" (the output shorter).
    const b = text.indexOf('bbbbbbbb');
    const c = text.indexOf('cccc');
    const edits: LiteralEdits = { list: [{ start: b, end: b + 8, bytes: input.subarray(c, c + 4) }] };
    const out = applyRedactions(
      input,
      result.items,
      () => 'P',
      () => 'S',
      { inPlace: true, edits },
    )!;
    expect(out.buffer).not.toBe(input.buffer);
    expect(Buffer.from(out).toString('latin1')).toBe('aaaa P cccc cccc');
  });
});
