// Output files: atomic (temp + rename), confined below the output folder, never through a link.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isSafeSegment,
  openAtomicFile,
  openOutputFile,
  prepareOutputRoot,
  resolveOutputFile,
} from '../../../src/sinks/file.ts';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const fresh = () => (dir = mkdtempSync(join(tmpdir(), 'jr-sink-')));

describe('openAtomicFile', () => {
  it('shows the file only once committed, with the requested mode', async () => {
    fresh();
    const f = await openAtomicFile(join(dir, 'out.log'), 0o640);
    await f.write(Buffer.from('hello '));
    await f.write(Buffer.from('world'));
    expect(readdirSync(dir).filter((n) => n === 'out.log')).toEqual([]);
    await f.commit();
    expect(readFileSync(join(dir, 'out.log'), 'utf8')).toBe('hello world');
    expect(statSync(join(dir, 'out.log')).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['out.log']);
    expect(f.bytes).toBe(11);
  });

  it('leaves nothing behind on abort, and the old file as it was', async () => {
    fresh();
    writeFileSync(join(dir, 'out.log'), 'old');
    const f = await openAtomicFile(join(dir, 'out.log'));
    await f.write(Buffer.from('partial'));
    await f.abort();
    expect(readdirSync(dir)).toEqual(['out.log']);
    expect(readFileSync(join(dir, 'out.log'), 'utf8')).toBe('old');
  });
});

describe('openOutputFile', () => {
  it('is atomic for a missing or regular file and refuses a directory', async () => {
    fresh();
    const f = await openOutputFile(join(dir, 'new.log'), 0o600);
    await f.write(Buffer.from('fresh'));
    expect(readdirSync(dir)).toHaveLength(1);
    expect(readdirSync(dir)[0]).toMatch(/^\.new\.log\.[0-9a-f]{12}\.partial$/);
    await f.commit();
    expect(readdirSync(dir)).toEqual(['new.log']);
    expect(readFileSync(join(dir, 'new.log'), 'utf8')).toBe('fresh');
    mkdirSync(join(dir, 'sub'));
    await expect(openOutputFile(join(dir, 'sub'))).rejects.toThrow(/is a directory; use --out-dir/);
  });
});

describe('resolveOutputFile', () => {
  it('creates folders below the root', async () => {
    fresh();
    const root = await prepareOutputRoot(join(dir, 'out'));
    expect(await resolveOutputFile(root, ['a', 'b', 'c.log'])).toBe(join(root, 'a', 'b', 'c.log'));
    expect(statSync(join(root, 'a', 'b')).isDirectory()).toBe(true);
  });

  it('refuses unsafe segments and links or files in the way', async () => {
    fresh();
    const root = await prepareOutputRoot(join(dir, 'out'));
    for (const bad of [['..', 'x'], ['a/b'], ['/abs'], [''], ['.'], ['a\0b']]) {
      await expect(resolveOutputFile(root, bad)).rejects.toMatchObject({ code: 'ERR_UNSAFE_OUTPUT' });
    }
    mkdirSync(join(dir, 'elsewhere'));
    symlinkSync(join(dir, 'elsewhere'), join(root, 'link'));
    await expect(resolveOutputFile(root, ['link', 'x.log'])).rejects.toMatchObject({
      code: 'ERR_UNSAFE_OUTPUT',
    });
    writeFileSync(join(root, 'file'), '');
    await expect(resolveOutputFile(root, ['file', 'x.log'])).rejects.toMatchObject({
      code: 'ERR_UNSAFE_OUTPUT',
    });
    mkdirSync(join(root, 'dir'));
    await expect(resolveOutputFile(root, ['dir'])).rejects.toThrow(/is a directory/);
    expect(readdirSync(join(dir, 'elsewhere'))).toEqual([]);
  });

  it('knows safe segments', () => {
    expect(isSafeSegment('app.log')).toBe(true);
    expect(isSafeSegment('..')).toBe(false);
    expect(isSafeSegment('a\\b')).toBe(false);
  });
});

describe('release', () => {
  it('is called once the file sink has written a chunk, and at once by the null sink', async () => {
    fresh();
    const { nullSink } = await import('../../../src/sinks/byte-sink.ts');
    const f = await openAtomicFile(join(dir, 'out.log'));
    const released: string[] = [];
    const chunk = Buffer.from('abc');
    await f.write(chunk, () => released.push('file'));
    await f.commit();
    expect(released).toEqual(['file']);
    expect(readFileSync(join(dir, 'out.log'), 'utf8')).toBe('abc');
    await nullSink().write(chunk, () => released.push('null'));
    expect(released).toEqual(['file', 'null']);
  });
});
