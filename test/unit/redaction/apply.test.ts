// applyRedactions writes its output into a buffer it is handed (a reused one in batch scans): every
// byte must be written, or it must refuse.
import { describe, expect, it } from 'vitest';
import { scan } from '../../../src/detection/index.ts';
import { applyRedactions } from '../../../src/redaction/index.ts';
import { jwsES256 } from '../../helpers/tokens.ts';

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
    const reused = applyRedactions(input, result.items, replace, suspect, dirty);
    expect(Buffer.from(reused!).toString()).toBe('a=JWTR~x b=JWTR~x end');

    const tooBig = (n: number) => Buffer.alloc(n + 1, 0x41);
    expect(() => applyRedactions(input, result.items, replace, suspect, tooBig)).toThrow(
      /wrote 21 of 22 bytes/,
    );
  });
});
