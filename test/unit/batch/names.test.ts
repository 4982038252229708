// R1 for names: a token in a file name, an archive member name or a JSON key never reaches findings,
// summaries, output paths or output archives in clear.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskName } from '../../../src/batch/names.ts';
import { makeTar, readTarBuffer } from './archive-fixtures.ts';
import { fakeToken } from './engine-double.ts';
import { scan, tempDir } from './helpers.ts';

const T = fakeToken({ sub: 'in-a-name' });
const SIG = T.split('.')[2]!;

describe('names holding tokens', () => {
  it('masks the token and keeps the rest of the name', () => {
    expect(maskName(`cache/api?access_token=${T}&x=1`)).toBe('cache/api?access_token=JWTR~masked&x=1');
    expect(maskName('plain/name.log')).toBe('plain/name.log');
  });

  it('never writes a token from a file, member or key name to findings, stderr or outputs', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'in'));
    writeFileSync(
      join(dir, 'in', `resp=${T}.json`),
      JSON.stringify({ [`k=${T}`]: Array.from({ length: 200 }, (_, i) => ({ i, v: fakeToken({ i }) })) }),
    );
    writeFileSync(
      join(dir, 'in', 'bundle.tar'),
      await makeTar([{ name: `m=${T}.log`, body: `x ${fakeToken({ m: 1 })}\n` }]),
    );
    const r = await scan({ inputs: [join(dir, 'in')], outDir: join(dir, 'out'), recordBytes: 2048 });
    const everything = JSON.stringify(r.findings) + r.stderr + JSON.stringify(r.report);
    expect(everything).not.toContain(SIG);
    // 200 values, the member in the tar, and the key itself.
    expect(r.tokens.length).toBe(202);
    expect(r.tokens.some((f) => f.source.pointer?.startsWith('/k=JWTR~0masked/'))).toBe(true);
    expect(readFileSync(join(dir, 'out', 'in', 'resp=JWTR~masked.json'), 'latin1')).not.toContain(SIG);
    const names = readdirSync(join(dir, 'out', 'in')).sort();
    expect(names).toEqual(['bundle.tar', 'resp=JWTR~masked.json']);
    const members = await readTarBuffer(readFileSync(join(dir, 'out', 'in', 'bundle.tar')));
    expect(members.map((m) => m.name)).toEqual(['m=JWTR~masked.log']);
  });
});
