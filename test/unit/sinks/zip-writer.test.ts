// The zip writer (src/sinks/zip.ts), read back with yauzl: members, attributes, the two ways a member
// is written (small: sizes in the local header; large: streamed, with a data descriptor), zip64 (sizes
// and member count), and what a failing member does to the archive.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { memorySink } from '../../../src/sinks/byte-sink.ts';
import { createSpool, type Spool } from '../../../src/sinks/spool.ts';
import { createZipWriter, memberPath } from '../../../src/sinks/zip.ts';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jr-zipw-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function spoolOf(bytes: Buffer): Promise<Spool> {
  const s = createSpool(dir, 1 << 20);
  for (let at = 0; at < bytes.length; at += 100_000) await s.write(bytes.subarray(at, at + 100_000));
  await s.end();
  return s;
}

interface Read {
  name: string;
  body: Buffer;
  method: number;
  flags: number;
  mode: number;
  mtime: number;
  versionNeeded: number;
  offset: number;
}

async function readAll(zip: Buffer): Promise<{ entries: Read[]; count: number }> {
  const z = await yauzl.fromBufferPromise(zip, { lazyEntries: true, validateEntrySizes: true });
  const entries: Read[] = [];
  for await (const e of z.eachEntry()) {
    let body = Buffer.alloc(0);
    if (!e.fileName.endsWith('/')) {
      const chunks: Buffer[] = [];
      for await (const c of (await z.openReadStreamPromise(e)) as AsyncIterable<Buffer>) chunks.push(c);
      body = Buffer.concat(chunks);
    }
    entries.push({
      name: e.fileName,
      body,
      method: e.compressionMethod,
      flags: e.generalPurposeBitFlag,
      mode: e.externalFileAttributes >>> 16,
      mtime: e.getLastModDate().getTime(),
      versionNeeded: e.versionNeededToExtract,
      offset: e.relativeOffsetOfLocalHeader,
    });
  }
  return { entries, count: z.entryCount };
}

const MTIME = new Date('2025-03-04T05:06:07Z');

describe('zip writer', () => {
  it('writes small and large, stored and deflated members, directories and UTF-8 names, as yauzl reads them', async () => {
    const out = memorySink();
    const zw = createZipWriter(out);
    const text = Buffer.from('log line with a token-shaped thing\n'.repeat(50));
    const noise = randomBytes(300 * 1024); // incompressible, over the small-member size
    const big = Buffer.from('a compressible line of a large log\n'.repeat(20_000)); // 700 KB
    await zw.addFile('small-stored.txt', await spoolOf(text), { mtime: MTIME, compress: false });
    await zw.addFile('dir/small-deflated.txt', await spoolOf(text), {
      mtime: MTIME,
      compress: true,
      mode: 0o100600,
    });
    zw.addDirectory('dir', { mtime: MTIME });
    await zw.addFile('large-noise.bin', await spoolOf(noise), { mtime: MTIME, compress: true });
    await zw.addFile('large-stored.log', await spoolOf(big), { mtime: MTIME, compress: false });
    await zw.addFile('large-deflated.log', await spoolOf(big), { mtime: MTIME, compress: true });
    await zw.addFile('empty', await spoolOf(Buffer.alloc(0)), { mtime: MTIME, compress: true });
    await zw.addFile('naïve/ünïcode.txt', await spoolOf(Buffer.from('é')), { mtime: MTIME, compress: true });
    await zw.finish();
    const zip = out.bytes();
    const { entries, count } = await readAll(zip);
    expect(count).toBe(8);
    const by = new Map(entries.map((e) => [e.name, e]));
    expect([...by.keys()]).toEqual([
      'small-stored.txt',
      'dir/small-deflated.txt',
      'dir/',
      'large-noise.bin',
      'large-stored.log',
      'large-deflated.log',
      'empty',
      'naïve/ünïcode.txt',
    ]);
    expect(by.get('small-stored.txt')!.body).toEqual(text);
    expect(by.get('dir/small-deflated.txt')!.body).toEqual(text);
    expect(by.get('large-noise.bin')!.body).toEqual(noise);
    expect(by.get('large-stored.log')!.body).toEqual(big);
    expect(by.get('large-deflated.log')!.body).toEqual(big);
    expect(by.get('empty')!.body).toEqual(Buffer.alloc(0));
    expect(by.get('naïve/ünïcode.txt')!.body.toString()).toBe('é');
    // Methods as asked; small members carry their sizes up front, large ones a data descriptor (bit 3).
    expect(entries.map((e) => [e.name, e.method, e.flags])).toEqual([
      ['small-stored.txt', 0, 0x800],
      ['dir/small-deflated.txt', 8, 0x800],
      ['dir/', 0, 0x800],
      ['large-noise.bin', 8, 0x808],
      ['large-stored.log', 0, 0x808],
      ['large-deflated.log', 8, 0x808],
      ['empty', 8, 0x800],
      ['naïve/ünïcode.txt', 8, 0x800],
    ]);
    // Deflate did shrink what it could.
    expect(zip.length).toBeLessThan(noise.length + big.length + 100 * 1024);
    // Modes: given, or the defaults (yazl's); times to the second (the extended timestamp field).
    expect(by.get('dir/small-deflated.txt')!.mode).toBe(0o100600);
    expect(by.get('small-stored.txt')!.mode).toBe(0o100664);
    expect(by.get('dir/')!.mode).toBe(0o40775);
    for (const e of entries) expect(e.mtime).toBe(MTIME.getTime());
    for (const e of entries) expect(e.versionNeeded).toBe(20);
  });

  it('gives a streamed member zip64 sizes from the threshold on: local header, data descriptor, central record', async () => {
    const out = memorySink();
    const zw = createZipWriter(out, { zip64From: 0 });
    const big = randomBytes(400 * 1024);
    await zw.addFile('first.txt', await spoolOf(Buffer.from('small, never zip64')), {
      mtime: MTIME,
      compress: true,
    });
    await zw.addFile('big.bin', await spoolOf(big), { mtime: MTIME, compress: true });
    await zw.finish();
    const zip = out.bytes();
    const { entries } = await readAll(zip);
    expect(entries.map((e) => [e.name, e.versionNeeded])).toEqual([
      ['first.txt', 20],
      ['big.bin', 45],
    ]);
    expect(entries[1]!.body).toEqual(big);
    // The local header: version 45, sizes 0xffffffff, a zip64 extra field (id 1, 16 bytes).
    const at = entries[1]!.offset;
    expect(zip.readUInt32LE(at)).toBe(0x04034b50);
    expect(zip.readUInt16LE(at + 4)).toBe(45);
    expect(zip.readUInt32LE(at + 18)).toBe(0xffffffff);
    expect(zip.readUInt32LE(at + 22)).toBe(0xffffffff);
    const nameLength = zip.readUInt16LE(at + 26);
    expect(zip.readUInt16LE(at + 28)).toBe(20);
    expect(zip.readUInt16LE(at + 30 + nameLength)).toBe(1);
    // The data descriptor after the data: 64-bit sizes, ending where the central directory starts.
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 30 + nameLength + 20 + 1000);
    const descriptor = zip.subarray(central - 24, central);
    expect(descriptor.readUInt32LE(0)).toBe(0x08074b50);
    expect(Number(descriptor.readBigUInt64LE(16))).toBe(big.length);
    expect(Number(descriptor.readBigUInt64LE(8))).toBe(central - 24 - (at + 30 + nameLength + 20));
  });

  it('writes more than 65,535 members with a zip64 end of central directory', async () => {
    const out = memorySink();
    const zw = createZipWriter(out);
    const n = 70_000;
    for (let i = 0; i < n; i++) {
      await zw.addFile(`m/${i}.txt`, await spoolOf(Buffer.from(String(i))), {
        mtime: MTIME,
        compress: i % 2 === 0,
      });
    }
    await zw.finish();
    const zip = out.bytes();
    // The zip64 end of central directory record and its locator precede the classic record.
    const eocd = zip.length - 22;
    expect(zip.readUInt32LE(eocd)).toBe(0x06054b50);
    expect(zip.readUInt16LE(eocd + 10)).toBe(0xffff);
    expect(zip.readUInt32LE(eocd - 20)).toBe(0x07064b50);
    expect(zip.readUInt32LE(eocd - 20 - 56)).toBe(0x06064b50);
    expect(Number(zip.readBigUInt64LE(eocd - 20 - 56 + 32))).toBe(n);
    // Every name in order; the bodies of a sample (yauzl takes ~0.1 ms to open each).
    const z = await yauzl.fromBufferPromise(zip, { lazyEntries: true, validateEntrySizes: true });
    expect(z.entryCount).toBe(n);
    let i = 0;
    let wrong = 0;
    for await (const e of z.eachEntry()) {
      if (e.fileName !== `m/${i}.txt`) wrong++;
      if (i % 997 === 0 || i === n - 1) {
        const chunks: Buffer[] = [];
        for await (const c of (await z.openReadStreamPromise(e)) as AsyncIterable<Buffer>) chunks.push(c);
        if (Buffer.concat(chunks).toString() !== String(i)) wrong++;
      }
      i++;
    }
    expect([i, wrong]).toEqual([n, 0]);
  }, 30_000);

  it('refuses a bad name without harm to the archive, and fails every step after a member broken half-way', async () => {
    const out = memorySink();
    const zw = createZipWriter(out);
    await expect(
      zw.addFile('../escape.txt', await spoolOf(Buffer.from('x')), { mtime: MTIME, compress: true }),
    ).rejects.toThrow(/invalid relative path/);
    await expect(
      zw.addFile('/abs.txt', await spoolOf(Buffer.from('x')), { mtime: MTIME, compress: true }),
    ).rejects.toThrow(/absolute path/);
    expect(() => zw.addDirectory('a/../..', { mtime: MTIME })).toThrow(/invalid relative path/);
    await zw.addFile('kept.txt', await spoolOf(Buffer.from('kept')), { mtime: MTIME, compress: true });
    // A large member whose content fails after its header and some data are written.
    const broken: Spool = {
      discard: false,
      size: 1024 * 1024,
      read: () =>
        Readable.from(
          (async function* () {
            yield Buffer.alloc(64 * 1024, 1);
            throw new Error('disk went away');
          })(),
        ),
      write: () => Promise.resolve(),
      end: () => Promise.resolve(),
      dispose: () => Promise.resolve(),
    };
    await expect(zw.addFile('broken.bin', broken, { mtime: MTIME, compress: true })).rejects.toThrow(
      /disk went away/,
    );
    await expect(
      zw.addFile('after.txt', await spoolOf(Buffer.from('x')), { mtime: MTIME, compress: true }),
    ).rejects.toThrow(/disk went away/);
    await expect(zw.finish()).rejects.toThrow(/disk went away/);
  });

  it('refuses a member whose spool holds fewer bytes than it says', async () => {
    const out = memorySink();
    const zw = createZipWriter(out);
    const short: Spool = {
      discard: false,
      size: 512 * 1024,
      read: () => Readable.from([Buffer.alloc(1000)]),
      write: () => Promise.resolve(),
      end: () => Promise.resolve(),
      dispose: () => Promise.resolve(),
    };
    await expect(zw.addFile('short.bin', short, { mtime: MTIME, compress: false })).rejects.toThrow(
      /1000 bytes read, 524288 spooled/,
    );
  });

  it('normalises names as yazl did', () => {
    expect(memberPath('a\\b.txt', false)).toBe('a/b.txt');
    expect(memberPath('d', true)).toBe('d/');
    expect(memberPath('d/', true)).toBe('d/');
    expect(() => memberPath('f/', false)).toThrow(/cannot end with/);
    expect(() => memberPath('C:x', false)).toThrow(/absolute/);
    expect(() => memberPath('', false)).toThrow(/empty/);
    // The name's length field has 16 bits, for files and directories alike.
    expect(() => memberPath('d'.repeat(0x10000), false)).toThrow(/longer than 65535/);
    expect(() => memberPath('d'.repeat(0xffff), true)).toThrow(/longer than 65535/);
    expect(memberPath('d'.repeat(0xfffe), true)).toHaveLength(0xffff);
  });
});
