// Sources: peeking at a stream, container detection, decompression limits, gzip errors.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzip } from '../../../src/sources/gzip.ts';
import {
  checkDeclaredRatio,
  createBudget,
  DEFAULT_LIMITS,
  LimitError,
  RatioGuard,
} from '../../../src/sources/limits.ts';
import { peek } from '../../../src/sources/peek.ts';
import { detectContainer, detectUnsupported, innerName } from '../../../src/sources/sniff.ts';
import { makeTar, makeZip } from '../batch/archive-fixtures.ts';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function all(it: AsyncIterable<Uint8Array>): Promise<string> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c);
  return Buffer.concat(out).toString();
}

describe('peek', () => {
  it('returns the head and the whole stream again', async () => {
    const p = await peek(chunks('ab', 'cd', 'ef'), 3);
    expect(Buffer.from(p.head).toString()).toBe('abcd');
    expect(await all(p.stream)).toBe('abcdef');
  });

  it('closes the source when the replay is closed unread', async () => {
    let closed = false;
    async function* source() {
      try {
        yield Buffer.from('head');
        yield Buffer.from('more');
      } finally {
        closed = true;
      }
    }
    const p = await peek(source(), 2);
    await p.stream[Symbol.asyncIterator]().return?.();
    expect(closed).toBe(true);
  });
});

describe('detectContainer', () => {
  it('knows gzip, tar and zip by content, not by name', async () => {
    expect(detectContainer(gzipSync('x'))).toBe('gzip');
    expect(detectContainer(await makeTar([{ name: 'a', body: 'b' }]))).toBe('tar');
    expect(detectContainer(await makeZip([{ name: 'a', body: 'b' }]))).toBe('zip');
    expect(detectContainer(Buffer.from('PK not really'))).toBe('none');
    expect(detectContainer(Buffer.alloc(600))).toBe('none');
    expect(detectUnsupported(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz');
    expect(detectUnsupported(Buffer.from('BZh91AY'))).toBe('bzip2');
    expect(innerName('a.log.gz')).toBe('a.log');
    expect(innerName('b.TGZ')).toBe('b.tar');
  });
});

describe('limits', () => {
  it('trips the ratio only past the floor, and the total always', () => {
    const budget = createBudget({ ...DEFAULT_LIMITS, maxExpandedBytes: 64 * 1024 * 1024 });
    const g = new RatioGuard(budget, 'x.gz');
    g.compressed(1000);
    g.expanded(4 * 1024 * 1024);
    expect(() => g.expanded(8 * 1024 * 1024)).toThrow(LimitError);
    const other = new RatioGuard(budget, 'y.gz');
    other.compressed(64 * 1024 * 1024);
    expect(() => other.expanded(64 * 1024 * 1024)).toThrow(/expands past/);
    expect(() => checkDeclaredRatio(DEFAULT_LIMITS, 'm', 10, 100 * 1024 * 1024)).toThrow(/200:1/);
    expect(() => checkDeclaredRatio(DEFAULT_LIMITS, 'm', 1, 1024)).not.toThrow();
  });
});

describe('gunzip', () => {
  it('decompresses multi-member gzip and names truncation', async () => {
    const budget = createBudget(DEFAULT_LIMITS);
    const two = Buffer.concat([gzipSync('one '), gzipSync('two')]);
    expect(await all(gunzip(chunks(two), new RatioGuard(budget, 't.gz')))).toBe('one two');
    const cut = gzipSync('x'.repeat(10000)).subarray(0, 20);
    await expect(all(gunzip(chunks(cut), new RatioGuard(budget, 't.gz')))).rejects.toMatchObject({
      code: 'ERR_TRUNCATED',
    });
    await expect(
      all(
        gunzip(
          chunks(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff])),
          new RatioGuard(budget, 't.gz'),
        ),
      ),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/ERR_(CORRUPT|TRUNCATED)/),
    });
  });
});

describe('readFileReusing', () => {
  it('reads a file front to back into two buffers used in turn', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readFileReusing } = await import('../../../src/sources/files.ts');
    const dir = mkdtempSync(join(tmpdir(), 'jr-src-'));
    try {
      const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
      writeFileSync(join(dir, 'f'), data);
      const seen: Buffer[] = [];
      const buffers = new Set<ArrayBufferLike>();
      const n = await readFileReusing(join(dir, 'f'), 64, async (chunk) => {
        seen.push(Buffer.from(chunk));
        buffers.add(chunk.buffer);
      });
      expect(n).toBe(1000);
      expect(Buffer.concat(seen).equals(data)).toBe(true);
      expect(seen.map((c) => c.length)).toEqual([...Array(15).fill(64), 40]);
      expect(buffers.size).toBe(2);
      writeFileSync(join(dir, 'empty'), '');
      expect(await readFileReusing(join(dir, 'empty'), 64, async () => undefined)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
