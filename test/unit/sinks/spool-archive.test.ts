// Spools (memory, then a private temp file) and the archive writers fed from them.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { memorySink, nullSink } from '../../../src/sinks/byte-sink.ts';
import { gzipSink } from '../../../src/sinks/gzip.ts';
import { createSpool } from '../../../src/sinks/spool.ts';
import { createTarWriter } from '../../../src/sinks/tar.ts';
import { createZipWriter } from '../../../src/sinks/zip.ts';
import { readTarBuffer, readZipBuffer } from '../batch/archive-fixtures.ts';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

describe('spool', () => {
  it('keeps small content in memory and large content in a 0600 temp file it removes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'jr-spool-'));
    const small = createSpool(dir, 100);
    await small.write(Buffer.from('abc'));
    await small.end();
    expect(readdirSync(dir)).toEqual([]);
    expect((await collect(small.read())).toString()).toBe('abc');
    const big = createSpool(dir, 100);
    for (let i = 0; i < 10; i++) await big.write(Buffer.alloc(50, 65 + i));
    await big.end();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
    expect(big.size).toBe(500);
    const back = await collect(big.read());
    expect(back.length).toBe(500);
    expect(back[499]).toBe(65 + 9);
    await big.dispose();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('archive writers', () => {
  it('write tar, zip and gzip that their readers accept', async () => {
    dir = mkdtempSync(join(tmpdir(), 'jr-arch-'));
    const spoolOf = async (text: string) => {
      const s = createSpool(dir, 1 << 20);
      await s.write(Buffer.from(text));
      await s.end();
      return s;
    };
    const tarOut = memorySink();
    const tw = createTarWriter(tarOut);
    await tw.addEntry({ name: 'd/', type: 'directory', mode: 0o755 });
    await tw.addFile({ name: 'd/a.txt', mode: 0o600, size: 999 }, await spoolOf('alpha'));
    await tw.finish();
    expect((await readTarBuffer(tarOut.bytes())).map((e) => [e.name, e.type, e.body.toString()])).toEqual([
      ['d/', 'directory', ''],
      ['d/a.txt', 'file', 'alpha'],
    ]);
    const zipOut = memorySink();
    const zw = createZipWriter(zipOut);
    zw.addDirectory('d/', { mtime: new Date() });
    await zw.addFile('d/b.txt', await spoolOf('beta'), { mtime: new Date(), compress: true });
    await zw.finish();
    expect((await readZipBuffer(zipOut.bytes())).map((e) => [e.name, e.body.toString()])).toEqual([
      ['d/', ''],
      ['d/b.txt', 'beta'],
    ]);
    const gzOut = memorySink();
    const gz = gzipSink(gzOut);
    await gz.write(Buffer.from('gamma'));
    await gz.end();
    expect(gunzipSync(gzOut.bytes()).toString()).toBe('gamma');
  });

  it('compress small writes gathered, in order with the large ones between them', async () => {
    const gzOut = memorySink();
    const gz = gzipSink(gzOut);
    const parts: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Mostly small pieces (a tar header, a member's bytes); now and then a piece too large to gather.
      const part = i % 5000 === 2500 ? Buffer.alloc(100_000, 65 + (i % 26)) : Buffer.from(`piece ${i};`);
      parts.push(part);
      await gz.write(part);
    }
    await gz.end();
    expect(gunzipSync(gzOut.bytes()).equals(Buffer.concat(parts))).toBe(true);
  });
});

describe('tar writer memory', () => {
  it('keeps nothing of a member once it is written (the archive may have 100,000)', async () => {
    // A reaction per member on the promise of the whole archive kept every member's streams until
    // the end: 50,000 members of a .tar.gz made a 434 MB scan.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    dir = mkdtempSync(join(tmpdir(), 'jr-tar-'));
    const writer = createTarWriter(nullSink());
    const bodies: WeakRef<object>[] = [];
    const add = async (i: number) => {
      const spool = createSpool(dir, 1 << 20);
      await spool.write(Buffer.from(`member ${i}\n`));
      await spool.end();
      const read = spool.read.bind(spool);
      // The writer reads the member through this: a weak reference to what it got.
      spool.read = () => {
        const stream = read();
        bodies.push(new WeakRef(stream));
        return stream;
      };
      await writer.addFile({ name: `m${i}.txt` }, spool);
    };
    for (let i = 0; i < 200; i++) await add(i);
    await new Promise((r) => setImmediate(r));
    gc();
    await new Promise((r) => setImmediate(r));
    const alive = bodies.filter((b) => b.deref() !== undefined).length;
    expect(bodies).toHaveLength(200);
    expect(alive).toBeLessThan(5);
    await writer.finish();
  });
});
