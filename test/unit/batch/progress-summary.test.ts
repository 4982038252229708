// The progress line (only on a terminal) and the end-of-run summary and report.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../../src/batch/index.ts';
import { createProgress, formatBytes, formatDuration } from '../../../src/batch/progress.ts';
import { fakeToken } from './engine-double.ts';
import { scan, tempDir } from './helpers.ts';

describe('progress', () => {
  it('draws bytes, files, rate and ETA on a terminal and clears itself', () => {
    let out = '';
    let t = 0;
    const p = createProgress(
      { write: (s: string) => (out += s), columns: 200 },
      true,
      { bytes: 10_000_000, files: 4 },
      () => t,
    );
    t = 1000;
    p.bytes(2_500_000);
    t = 2000;
    p.fileDone(2_500_000, 5_000_000);
    expect(out).toContain('[##########----------]  50%');
    expect(out).toContain('5.0 MB/10.0 MB');
    expect(out).toContain('1/4 files');
    expect(out).toContain('2.5 MB/s');
    expect(out).toContain('ETA 0:02');
    p.stop();
    expect(out.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('stays silent when off', () => {
    let out = '';
    const p = createProgress({ write: (s: string) => (out += s) }, false, { bytes: 1, files: 1 });
    p.bytes(1);
    p.fileDone(1, 1);
    p.stop();
    expect(out).toBe('');
  });

  it('is drawn by a scan on a TTY only, and never with --no-progress', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.log'), 'a\n');
    expect((await scan({ inputs: [join(dir, 'a.log')] }, { isTTY: true })).stderr).toContain('\r\x1b[2K');
    expect((await scan({ inputs: [join(dir, 'a.log')] }, { isTTY: false })).stderr).not.toContain('\x1b');
    expect(
      (await scan({ inputs: [join(dir, 'a.log')], progress: false }, { isTTY: true })).stderr,
    ).not.toContain('\x1b');
  });

  it('formats sizes and durations', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_234_567)).toBe('1.2 MB');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(65)).toBe('1:05');
  });
});

describe('summary and report', () => {
  it('counts files, bytes and findings; lists live tokens; sets max severity and fail-on', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.log'), `a ${fakeToken({ sub: 'x' })}\nb ${fakeToken({ sub: 'x' })}\n`);
    const r = await scan({ inputs: [join(dir, 'a.log')], failOn: 'high' });
    expect(r.report).toMatchObject({
      inputs: 1,
      files: 1,
      archives: 0,
      maxSeverity: 'high',
      failOnReached: true,
      failed: false,
    });
    expect(r.report.bytesRead).toBeGreaterThan(0);
    expect(r.report.findings.findings).toBe(2);
    expect(r.stderr).toMatch(/^jwt-redactor scan: 1 input, 1 file scanned, .* read, .* scanned in/);
    expect(r.stderr).toContain('2 findings');
    expect(r.stderr).toContain('live tokens:');
    expect(r.stderr).toContain('no redacted copies written');
    expect(exitCodeFor(r.report)).toBe(1);
    const below = await scan({ inputs: [join(dir, 'a.log')], failOn: 'critical' });
    expect(exitCodeFor(below.report)).toBe(0);
    const failing = await scan({ inputs: [join(dir, 'nope.log')], failOn: 'critical' });
    expect(exitCodeFor(failing.report)).toBe(3);
  });

  it('keeps terminal control characters in file names off the terminal', async () => {
    const dir = tempDir();
    const r = await scan({ inputs: [join(dir, 'evil\x1b[31mname')] });
    expect(r.stderr).not.toContain('\x1b[31m');
    expect(r.stderr).toContain('evil?[31mname');
  });
});
