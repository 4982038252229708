// The compile cache holds code V8 runs: it is used only in a folder nobody else can write.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCacheDirectory, enableCompileCache } from '../../../src/util/compile-cache.ts';
import { tempDir } from '../../helpers/temp.ts';

const BIN = new URL('../../../bin/jwt-redactor.js', import.meta.url).pathname;

function recorder() {
  const calls: string[] = [];
  const enable = (directory: string) => {
    calls.push(directory);
    return { status: 1, directory };
  };
  return { calls, enable };
}

describe('compile cache', () => {
  it('creates a private folder under XDG_CACHE_HOME (or ~/.cache) and hands it to workers', () => {
    const base = tempDir('jwtr-cc-');
    const env: NodeJS.ProcessEnv = { XDG_CACHE_HOME: base };
    const { calls, enable } = recorder();
    const state = enableCompileCache(env, enable);
    const dir = join(base, 'jwt-redactor', 'compile-cache');
    expect(state).toEqual({ enabled: true, directory: dir });
    expect(calls).toEqual([dir]);
    expect(env['NODE_COMPILE_CACHE']).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: 'relative/path' }, '/home/u').directory).toBe(
      '/home/u/.cache/jwt-redactor/compile-cache',
    );
  });

  it('refuses a folder others can write, or a symlink in its place, and never calls Node then', () => {
    const base = tempDir('jwtr-cc-');
    mkdirSync(join(base, 'jwt-redactor', 'compile-cache'), { recursive: true, mode: 0o700 });
    chmodSync(join(base, 'jwt-redactor'), 0o777);
    const { calls, enable } = recorder();
    expect(enableCompileCache({ XDG_CACHE_HOME: base }, enable)).toMatchObject({
      enabled: false,
      reason: `${join(base, 'jwt-redactor')} can be written by others`,
    });

    const base2 = tempDir('jwtr-cc-');
    const elsewhere = tempDir('jwtr-cc-planted-');
    mkdirSync(join(base2, 'jwt-redactor'), { mode: 0o700 });
    symlinkSync(elsewhere, join(base2, 'jwt-redactor', 'compile-cache'));
    expect(enableCompileCache({ XDG_CACHE_HOME: base2 }, enable)).toMatchObject({
      enabled: false,
      reason: `${join(base2, 'jwt-redactor', 'compile-cache')} is not a directory`,
    });

    const world = tempDir('jwtr-cc-');
    chmodSync(world, 0o1777); // like /tmp as XDG_CACHE_HOME
    expect(enableCompileCache({ XDG_CACHE_HOME: world }, enable).enabled).toBe(false);
    expect(calls).toEqual([]);
  });

  it('takes NODE_COMPILE_CACHE as given, obeys NODE_DISABLE_COMPILE_CACHE, and never throws', () => {
    const { calls, enable } = recorder();
    expect(enableCompileCache({ NODE_COMPILE_CACHE: '/chosen/by/user' }, enable)).toEqual({
      enabled: true,
      directory: '/chosen/by/user',
    });
    expect(enableCompileCache({ NODE_DISABLE_COMPILE_CACHE: '1' }, enable)).toMatchObject({ enabled: false });
    expect(calls).toEqual(['/chosen/by/user']);
    const boom = () => {
      throw new Error('no');
    };
    expect(enableCompileCache({ NODE_COMPILE_CACHE: '/x' }, boom)).toEqual({ enabled: false, reason: 'no' });
    expect(
      enableCompileCache({ NODE_COMPILE_CACHE: '/x' }, () => ({ status: 2, message: 'failed' })),
    ).toEqual({
      enabled: false,
      reason: 'failed',
    });
    expect(enableCompileCache({}, null)).toMatchObject({ enabled: false });
  });

  it('is filled by the CLI on its first run, and not at all when disabled', () => {
    const base = tempDir('jwtr-cc-');
    const run = (extra: NodeJS.ProcessEnv) =>
      execFileSync(process.execPath, [BIN, '--help'], {
        env: { ...process.env, NODE_COMPILE_CACHE: '', XDG_CACHE_HOME: base, ...extra },
        encoding: 'utf8',
      });
    run({ NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(readdirSync(base)).toEqual([]);
    const { NODE_DISABLE_COMPILE_CACHE: _, ...rest } = process.env;
    execFileSync(process.execPath, [BIN, '--help'], {
      env: { ...rest, NODE_COMPILE_CACHE: '', XDG_CACHE_HOME: base },
      encoding: 'utf8',
    });
    const dir = join(base, 'jwt-redactor', 'compile-cache');
    const versions = readdirSync(dir);
    expect(versions).toHaveLength(1);
    expect(readdirSync(join(dir, versions[0]!)).length).toBeGreaterThan(10); // one entry per module
  });
});
