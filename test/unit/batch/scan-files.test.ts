// Inputs on disk: folders walked recursively and mirrored under --out-dir, symlinks, unreadable and
// missing files, an output folder inside the input, links planted in the output folder, bad options.
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../../../src/batch/index.ts';
import { ConfigError } from '../../../src/util/errors.ts';
import { createEngineDouble, fakeToken, placeholderFor } from './engine-double.ts';
import { scan, tempDir } from './helpers.ts';

const T1 = fakeToken({ sub: 'alice' });

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), rel);
      else out.push(e.isSymbolicLink() ? `${rel}@` : rel);
    }
  };
  walk(dir, '');
  return out;
}

describe('scan: folders and --out-dir', () => {
  it('walks folders recursively and mirrors them under the output folder by base name', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'bundle', 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(dir, 'bundle', 'a.log'), `a ${T1}\n`);
    writeFileSync(join(dir, 'bundle', 'sub', 'b.jsonl'), `${JSON.stringify({ t: T1 })}\n`);
    writeFileSync(join(dir, 'bundle', 'sub', 'deeper', 'c.txt'), 'clean\n');
    writeFileSync(join(dir, 'single.log'), `s ${T1}\n`);
    const r = await scan({
      inputs: [join(dir, 'bundle'), join(dir, 'single.log')],
      outDir: join(dir, 'out'),
    });
    expect(tree(join(dir, 'out'))).toEqual([
      'bundle/a.log',
      'bundle/sub/b.jsonl',
      'bundle/sub/deeper/c.txt',
      'single.log',
    ]);
    expect(readFileSync(join(dir, 'out', 'bundle', 'sub', 'deeper', 'c.txt'), 'utf8')).toBe('clean\n');
    expect(readFileSync(join(dir, 'out', 'single.log'), 'utf8')).toBe(`s ${placeholderFor(T1)}\n`);
    expect(r.tokens.map((f) => f.source.name)).toEqual([
      join(dir, 'bundle', 'a.log'),
      join(dir, 'bundle', 'sub', 'b.jsonl'),
      join(dir, 'single.log'),
    ]);
    expect(r.report.inputs).toBe(4);
  });

  it('does not follow symlinks inside folders unless asked, and names what it skipped', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'secret'));
    writeFileSync(join(dir, 'secret', 'key.txt'), `k ${T1}\n`);
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'in', 'a.log'), 'a\n');
    symlinkSync(join(dir, 'secret', 'key.txt'), join(dir, 'in', 'link.txt'));
    symlinkSync(join(dir, 'secret'), join(dir, 'in', 'linkdir'));
    symlinkSync(join(dir, 'in'), join(dir, 'in', 'loop'));
    const r = await scan({ inputs: [join(dir, 'in')], outDir: join(dir, 'out') });
    expect(tree(join(dir, 'out'))).toEqual(['in/a.log']);
    expect(r.report.skipped.map((s) => basename(s.name))).toEqual(['link.txt', 'linkdir', 'loop']);
    expect(r.stderr).toMatch(/skipped: 3/);
    const followed = await scan({
      inputs: [join(dir, 'in')],
      outDir: join(dir, 'out2'),
      followSymlinks: true,
    });
    expect(tree(join(dir, 'out2'))).toEqual(['in/a.log', 'in/link.txt', 'in/linkdir/key.txt']);
    expect(followed.report.skipped.map((s) => [basename(s.name), s.message])).toEqual([
      ['loop', 'links back to a folder above it'],
    ]);
  });

  it('skips the output folder when it lies inside an input folder', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.log'), `a ${T1}\n`);
    const r1 = await scan({ inputs: [dir], outDir: join(dir, 'redacted') });
    const r2 = await scan({ inputs: [dir], outDir: join(dir, 'redacted') });
    expect(r1.report.inputs).toBe(1);
    expect(r2.report.inputs).toBe(1);
    expect(r2.report.skipped.map((s) => s.message)).toEqual(['is the output directory']);
    expect(tree(join(dir, 'redacted'))).toEqual([`${basename(dir)}/a.log`]);
  });

  it('never writes through a symlink planted in the output folder', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'in', 'logs'), { recursive: true });
    writeFileSync(join(dir, 'in', 'logs', 'a.log'), `a ${T1}\n`);
    writeFileSync(join(dir, 'in', 'b.log'), `b ${T1}\n`);
    mkdirSync(join(dir, 'elsewhere'));
    mkdirSync(join(dir, 'out', 'in'), { recursive: true });
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'out', 'in', 'logs'));
    symlinkSync(join(dir, 'elsewhere', 'victim'), join(dir, 'out', 'in', 'b.log'));
    const r = await scan({ inputs: [join(dir, 'in')], outDir: join(dir, 'out') });
    expect(readdirSync(join(dir, 'elsewhere'))).toEqual([]);
    expect(r.report.failures.map((f) => [basename(f.name), f.code])).toEqual([
      ['a.log', 'ERR_UNSAFE_OUTPUT'],
    ]);
    // b.log replaced the planted link itself (rename does not follow links).
    expect(tree(join(dir, 'out'))).toEqual(['in/b.log', 'in/logs@']);
    expect(readFileSync(join(dir, 'out', 'in', 'b.log'), 'utf8')).toBe(`b ${placeholderFor(T1)}\n`);
  });

  it('reports missing and unreadable inputs with file and reason, and goes on', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.log'), `ok ${T1}\n`);
    let unreadable = join(dir, 'locked.log');
    writeFileSync(unreadable, 'x\n');
    chmodSync(unreadable, 0);
    // root reads anything: use a file whose read fails for everyone instead.
    if (process.getuid?.() === 0) unreadable = '/proc/self/mem';
    const r = await scan({
      inputs: [join(dir, 'missing.log'), unreadable, join(dir, 'ok.log')],
      outDir: join(dir, 'out'),
    });
    expect(r.report.failed).toBe(true);
    expect(r.report.failures).toEqual([
      {
        name: join(dir, 'missing.log'),
        code: 'ERR_NOT_FOUND',
        reason: `${join(dir, 'missing.log')} does not exist`,
      },
      {
        name: unreadable,
        code: expect.stringMatching(/^ERR_(UNREADABLE|READ)$/),
        reason: expect.stringContaining(unreadable),
      },
    ]);
    expect(readdirSync(join(dir, 'out'))).toEqual(['ok.log']);
    expect(r.tokens).toHaveLength(1);
    expect(r.stderr).toContain('missing.log does not exist');
  });

  it('writes --out into a FIFO it names and leaves the FIFO in place (no rename over a device)', async () => {
    // As root, the temp-and-rename of a regular output once turned /dev/null into a regular file.
    const dir = tempDir();
    writeFileSync(join(dir, 'in.log'), `x ${T1}\n`);
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((resolve) => reader.once('close', () => resolve()));
    try {
      const r = await scan({ inputs: [join(dir, 'in.log')], out: fifo });
      expect(r.report.failures).toEqual([]);
      expect(lstatSync(fifo).isFIFO()).toBe(true);
      await closed;
      expect(Buffer.concat(chunks).toString('utf8')).toBe(`x ${placeholderFor(T1)}\n`);
      expect(readdirSync(dir).sort()).toEqual(['in.log', 'pipe']);
    } finally {
      reader.kill();
    }
  });

  it('rejects option combinations that cannot work, naming the flag', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'folder'));
    writeFileSync(join(dir, 'folder', 'a.log'), 'a\n');
    await expect(scan({ inputs: [join(dir, 'folder')], out: join(dir, 'x') })).rejects.toThrow(
      /--out.*folder; use --out-dir/,
    );
    await expect(scan({ inputs: ['a', 'b'], out: 'x' })).rejects.toThrow(ConfigError);
    await expect(scan({ inputs: ['a'], out: 'x', outDir: 'y' })).rejects.toThrow(/--out/);
    await expect(scan({ inputs: ['a'], limits: { maxCompressionRatio: -1 } })).rejects.toThrow(
      /limits.maxCompressionRatio/,
    );
    await expect(scan({ inputs: ['a'], workers: 2 })).rejects.toThrow(/engineFactory/);
  });
});

describe('scan: how many inputs at a time', () => {
  it('scans inputs of 16 MiB and more one after another, and small ones beside them', async () => {
    const dir = tempDir();
    // 17 MiB of lines between a first and a last token: a large input (LARGE_INPUT_BYTES, scan.ts).
    const filler = `${'x'.repeat(99)}\n`.repeat(174_000);
    const [ta, tb, tc] = [fakeToken({ sub: 'a' }), fakeToken({ sub: 'b' }), fakeToken({ sub: 'c' })];
    writeFileSync(join(dir, 'big1.log'), `${ta}\n${filler}${ta}\n`);
    writeFileSync(join(dir, 'big2.log'), `${tb}\n${filler}${tb}\n`);
    writeFileSync(join(dir, 'small.log'), `${tc}\n`);
    const engine = createEngineDouble();
    // Two lanes, as a 2-thread pool has; the jobs themselves run here.
    const executor = { ...localExecutor(engine), parallelism: 2 };
    const r = await scan(
      { inputs: ['big1.log', 'big2.log', 'small.log'].map((n) => join(dir, n)), outDir: join(dir, 'out') },
      { engine, executor },
    );
    const order = r.tokens.map((f) => basename(f.source.name ?? ''));
    expect(order.filter((n) => n !== 'small.log')).toEqual(['big1.log', 'big1.log', 'big2.log', 'big2.log']);
    // The small input did not wait for the second large one: it ran beside the first.
    expect(order.indexOf('small.log')).toBeLessThan(order.indexOf('big2.log'));
    expect(r.report.files).toBe(3);
    expect(readFileSync(join(dir, 'out', 'big2.log'), 'utf8').endsWith(`${placeholderFor(tb)}\n`)).toBe(true);
  });
});
