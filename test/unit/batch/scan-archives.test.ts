// Archives: each member scanned by its own format, written back as an archive of the same kind;
// nested archives; truncated and corrupt archives; zip bombs; unsafe member names and symlinks.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/model.ts';
import {
  gunzipSync,
  gzipSync,
  makeTar,
  makeZip,
  makeZipWithNames,
  readTarBuffer,
  readZipBuffer,
} from './archive-fixtures.ts';
import { fakeToken, placeholderFor } from './engine-double.ts';
import { scan, tempDir } from './helpers.ts';

const T1 = fakeToken({ sub: 'alice' });
const T2 = fakeToken({ sub: 'bob' });
const T3 = fakeToken({ sub: 'carol' });
const red = (s: string) => [T1, T2, T3].reduce((acc, t) => acc.split(t).join(placeholderFor(t)), s);
const loc = (f: Finding) =>
  [f.source.member, f.source.line, f.source.pointer].filter((x) => x !== undefined).join(' ');

describe('scan: compressed and archived input', () => {
  it('writes a .gz back as gzip, scanned by the inner name', async () => {
    const dir = tempDir();
    const text = `${JSON.stringify({ t: T1 })}\n${JSON.stringify({ u: 2 })}\n`;
    writeFileSync(join(dir, 'events.jsonl.gz'), gzipSync(text));
    const r = await scan({ inputs: [join(dir, 'events.jsonl.gz')], outDir: join(dir, 'out') });
    expect(gunzipSync(readFileSync(join(dir, 'out', 'events.jsonl.gz'))).toString()).toBe(red(text));
    expect(r.tokens.map(loc)).toEqual(['1 /t']);
    expect(r.report.archives).toBe(1);
  });

  it('mirrors a .tar.gz bundle with nested archives, member by member', async () => {
    const dir = tempDir();
    const inner = await makeZip([
      { name: 'deep/app.log', body: `x ${T2}\n` },
      { name: 'deep/', body: '' },
    ]);
    const tgz = gzipSync(
      await makeTar([
        { name: 'logs/', type: 'directory' },
        { name: 'logs/app.log', body: `one\nBearer ${T1}\n` },
        { name: 'logs/old.log.gz', body: gzipSync(`old ${T3}\n`) },
        { name: 'inner.zip', body: inner },
        { name: 'logs/current', type: 'symlink', linkname: 'app.log' },
        { name: 'export.json', body: JSON.stringify({ a: [T1] }, null, 2) },
      ]),
    );
    writeFileSync(join(dir, 'bundle.tgz'), tgz);
    const r = await scan({ inputs: [join(dir, 'bundle.tgz')], outDir: join(dir, 'out') });
    expect(r.report.failed).toBe(false);
    const members = await readTarBuffer(gunzipSync(readFileSync(join(dir, 'out', 'bundle.tgz'))));
    expect(members.map((m) => [m.name, m.type])).toEqual([
      ['logs/', 'directory'],
      ['logs/app.log', 'file'],
      ['logs/old.log.gz', 'file'],
      ['inner.zip', 'file'],
      ['logs/current', 'symlink'],
      ['export.json', 'file'],
    ]);
    expect(members[1]!.body.toString()).toBe(red(`one\nBearer ${T1}\n`));
    expect(gunzipSync(members[2]!.body).toString()).toBe(red(`old ${T3}\n`));
    const zipped = await readZipBuffer(members[3]!.body);
    expect(zipped.map((z) => [z.name, z.body.toString()])).toEqual([
      ['deep/app.log', red(`x ${T2}\n`)],
      ['deep/', ''],
    ]);
    expect(members[4]!.linkname).toBe('app.log');
    expect(JSON.parse(members[5]!.body.toString())).toEqual({ a: [placeholderFor(T1)] });
    expect(r.tokens.map(loc)).toEqual([
      'logs/app.log 2',
      'logs/old.log.gz 1',
      'inner.zip!/deep/app.log 1',
      'export.json /a/0',
    ]);
    expect(r.tokens.every((f) => f.source.name === join(dir, 'bundle.tgz'))).toBe(true);
  });

  it('reads a zip that is a member of nothing (in place) and one inside gzip (via a temp copy)', async () => {
    const dir = tempDir();
    const zip = await makeZip([
      { name: 'a.txt', body: `a ${T1}\n` },
      { name: 'b.txt', body: 'clean\n', compress: false },
    ]);
    writeFileSync(join(dir, 'x.zip'), zip);
    writeFileSync(join(dir, 'y.zip.gz'), gzipSync(zip));
    const r = await scan({ inputs: [join(dir, 'x.zip'), join(dir, 'y.zip.gz')], outDir: join(dir, 'out') });
    for (const out of [
      readFileSync(join(dir, 'out', 'x.zip')),
      gunzipSync(readFileSync(join(dir, 'out', 'y.zip.gz'))),
    ]) {
      expect((await readZipBuffer(out)).map((z) => [z.name, z.body.toString()])).toEqual([
        ['a.txt', red(`a ${T1}\n`)],
        ['b.txt', 'clean\n'],
      ]);
    }
    expect(r.tokens).toHaveLength(2);
    expect(r.report.bytesRead).toBe(zip.length + readFileSync(join(dir, 'y.zip.gz')).length);
  });
});

describe('scan: broken archives', () => {
  it('reports a truncated gzip, writes no copy of it, and scans the other inputs', async () => {
    const dir = tempDir();
    const gz = gzipSync(`a ${T1}\n`.repeat(2000));
    writeFileSync(join(dir, 'cut.log.gz'), gz.subarray(0, gz.length - 40));
    writeFileSync(join(dir, 'fine.log'), `b ${T2}\n`);
    const r = await scan({
      inputs: [join(dir, 'cut.log.gz'), join(dir, 'fine.log')],
      outDir: join(dir, 'out'),
    });
    expect(r.report.failed).toBe(true);
    expect(r.report.failures).toEqual([
      {
        name: join(dir, 'cut.log.gz'),
        code: 'ERR_TRUNCATED',
        reason: expect.stringMatching(/truncated gzip/),
      },
    ]);
    expect(readdirSync(join(dir, 'out'))).toEqual(['fine.log']);
    expect(r.findings.filter((f) => f.rule === 'processing-error')).toHaveLength(1);
    expect(r.stderr).toMatch(/failed: 1/);
  });

  it('reports a tar cut in the middle of a member', async () => {
    const dir = tempDir();
    const t = await makeTar([
      { name: 'a.log', body: `a ${T1}\n` },
      { name: 'b.log', body: 'b'.repeat(5000) },
    ]);
    writeFileSync(join(dir, 'cut.tar'), t.subarray(0, 512 * 3 + 100));
    const r = await scan({ inputs: [join(dir, 'cut.tar')], outDir: join(dir, 'out') });
    expect(r.report.failures.map((f) => f.code)).toEqual(['ERR_TRUNCATED']);
    expect(existsSync(join(dir, 'out', 'cut.tar'))).toBe(false);
  });

  it('reports a zip without its central directory', async () => {
    const dir = tempDir();
    const z = await makeZip([{ name: 'a.log', body: `a ${T1}\n`.repeat(100) }]);
    writeFileSync(join(dir, 'cut.zip'), z.subarray(0, z.length - 30));
    const r = await scan({ inputs: [join(dir, 'cut.zip')], outDir: join(dir, 'out') });
    expect(r.report.failures.map((f) => f.code)).toEqual(['ERR_TRUNCATED']);
    expect(existsSync(join(dir, 'out', 'cut.zip'))).toBe(false);
  });
});

describe('scan: zip bombs', () => {
  it('stops a gzip stream past the ratio limit', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bomb.log.gz'), gzipSync(Buffer.alloc(64 * 1024 * 1024)));
    const r = await scan({ inputs: [join(dir, 'bomb.log.gz')], outDir: join(dir, 'out') });
    expect(r.report.failures.map((f) => f.code)).toEqual(['ERR_LIMIT_RATIO']);
    expect(r.report.bytesScanned).toBeLessThan(32 * 1024 * 1024);
    expect(existsSync(join(dir, 'out', 'bomb.log.gz'))).toBe(false);
  });

  it('leaves a zip member past the ratio limit out and keeps the rest of the archive', async () => {
    const dir = tempDir();
    const z = await makeZip([
      { name: 'ok.log', body: `x ${T1}\n` },
      { name: 'bomb.bin', body: Buffer.alloc(20 * 1024 * 1024) },
      { name: 'after.log', body: `y ${T2}\n` },
    ]);
    writeFileSync(join(dir, 'mixed.zip'), z);
    const r = await scan({ inputs: [join(dir, 'mixed.zip')], outDir: join(dir, 'out') });
    expect(r.report.failures).toEqual([
      {
        name: join(dir, 'mixed.zip'),
        member: 'bomb.bin',
        code: 'ERR_LIMIT_RATIO',
        reason: expect.stringMatching(/200:1/),
      },
    ]);
    const out = await readZipBuffer(readFileSync(join(dir, 'out', 'mixed.zip')));
    expect(out.map((e) => e.name)).toEqual(['ok.log', 'after.log']);
    expect(r.tokens).toHaveLength(2);
  });

  it('stops an input whose layers together expand past the size limit', async () => {
    const dir = tempDir();
    const member = gzipSync(Buffer.from('z'.repeat(600 * 1024)));
    const t = gzipSync(
      await makeTar(Array.from({ length: 5 }, (_, i) => ({ name: `m${i}.log.gz`, body: member }))),
    );
    writeFileSync(join(dir, 'many.tgz'), t);
    const r = await scan({
      inputs: [join(dir, 'many.tgz')],
      outDir: join(dir, 'out'),
      limits: { maxExpandedBytes: 2 * 1024 * 1024 },
    });
    expect(r.report.failures.map((f) => [f.member, f.code])).toEqual([[undefined, 'ERR_LIMIT_SIZE']]);
    expect(existsSync(join(dir, 'out', 'many.tgz'))).toBe(false);
  });

  it('refuses archives nested deeper than the limit', async () => {
    const dir = tempDir();
    let blob: Buffer = Buffer.from(`deep ${T1}\n`);
    for (let i = 0; i < 4; i++) blob = await makeZip([{ name: `level${i}`, body: blob }]);
    writeFileSync(join(dir, 'nest.zip'), blob);
    const r = await scan({
      inputs: [join(dir, 'nest.zip')],
      outDir: join(dir, 'out'),
      limits: { maxArchiveDepth: 2 },
    });
    expect(r.report.failures.map((f) => [f.member, f.code])).toEqual([['level3!/level2', 'ERR_LIMIT_DEPTH']]);
  });
});

describe('scan: member names and links never write outside the output folder', () => {
  it('scans members named ../../x or /abs, leaves them out of the redacted archive, reports them', async () => {
    const dir = tempDir();
    const t = await makeTar([
      { name: '../../escape.log', body: `a ${T1}\n` },
      { name: '/etc/abs.log', body: `b ${T2}\n` },
      { name: 'fine.log', body: `c ${T3}\n` },
      { name: 'link', type: 'symlink', linkname: '/etc/passwd' },
    ]);
    writeFileSync(join(dir, 'evil.tar'), t);
    writeFileSync(
      join(dir, 'evil.zip'),
      await makeZipWithNames([
        { name: '../../zescape.log', body: `d ${T1}\n` },
        { name: 'ok.log', body: 'fine\n' },
      ]),
    );
    const out = join(dir, 'nested', 'out');
    const r = await scan({ inputs: [join(dir, 'evil.tar'), join(dir, 'evil.zip')], outDir: out });
    expect(r.report.failures.map((f) => [f.member, f.code])).toEqual([
      ['../../escape.log', 'ERR_UNSAFE_MEMBER'],
      ['/etc/abs.log', 'ERR_UNSAFE_MEMBER'],
      ['../../zescape.log', 'ERR_UNSAFE_MEMBER'],
    ]);
    expect(r.tokens.map(loc)).toEqual([
      '../../escape.log 1',
      '/etc/abs.log 1',
      'fine.log 1',
      '../../zescape.log 1',
    ]);
    const tarOut = await readTarBuffer(readFileSync(join(out, 'evil.tar')));
    expect(tarOut.map((m) => [m.name, m.type])).toEqual([
      ['fine.log', 'file'],
      ['link', 'symlink'],
    ]);
    expect((await readZipBuffer(readFileSync(join(out, 'evil.zip')))).map((m) => m.name)).toEqual(['ok.log']);
    expect(readdirSync(dir).sort()).toEqual(['evil.tar', 'evil.zip', 'nested']);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['out']);
    expect(readdirSync(out).sort()).toEqual(['evil.tar', 'evil.zip']);
  });

  it('only scans (writes nothing, reports nothing unsafe) without an output', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'evil.tar'), await makeTar([{ name: '../x.log', body: `a ${T1}\n` }]));
    const r = await scan({ inputs: [join(dir, 'evil.tar')] });
    expect(r.report.failed).toBe(false);
    expect(r.tokens.map(loc)).toEqual(['../x.log 1']);
  });
});
