// Builds archives in memory for the tests (tar, tar.gz, zip, gzip), and reads them back.
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import yazl from 'yazl';

export interface TarEntry {
  name: string;
  body?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
}

export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const done = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type: e.type ?? 'file',
        mode: 0o640,
        mtime: new Date('2024-01-01T00:00:00Z'),
        ...(e.linkname ? { linkname: e.linkname } : {}),
      };
      if ((e.type ?? 'file') === 'file')
        pack.entry(header, Buffer.from(e.body ?? ''), (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  return done;
}

export async function readTarBuffer(
  buf: Buffer,
): Promise<{ name: string; type: string; body: Buffer; linkname?: string }[]> {
  const ex = tar.extract();
  const out: { name: string; type: string; body: Buffer; linkname?: string }[] = [];
  const feeding = (async () => {
    ex.write(buf);
    ex.end(undefined);
  })();
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry as unknown as AsyncIterable<Buffer>) chunks.push(c);
    out.push({
      name: entry.header.name,
      type: entry.header.type,
      body: Buffer.concat(chunks),
      ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}),
    });
  }
  await feeding;
  return out;
}

export interface ZipEntry {
  name: string;
  body: string | Buffer;
  compress?: boolean;
}

export async function makeZip(entries: ZipEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.name.endsWith('/')) zip.addEmptyDirectory(e.name);
    else
      zip.addBuffer(Buffer.from(e.body), e.name, {
        compress: e.compress ?? true,
        mtime: new Date('2024-01-01T00:00:00Z'),
      });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A zip whose member names bypass yazl's checks (`../x`, `/abs`): names are patched after writing. */
export async function makeZipWithNames(entries: { name: string; body: string }[]): Promise<Buffer> {
  const placeholders = entries.map((e, i) => `n${i}`.padEnd(e.name.length, '_'));
  let buf = await makeZip(entries.map((e, i) => ({ name: placeholders[i]!, body: e.body, compress: false })));
  entries.forEach((e, i) => {
    const from = Buffer.from(placeholders[i]!);
    const to = Buffer.from(e.name);
    let at = buf.indexOf(from);
    while (at !== -1) {
      to.copy(buf, at);
      at = buf.indexOf(from, at + 1);
    }
  });
  buf = Buffer.from(buf);
  return buf;
}

export async function readZipBuffer(buf: Buffer): Promise<{ name: string; body: Buffer }[]> {
  const zip = await yauzl.fromBufferPromise(buf, { lazyEntries: true });
  const out: { name: string; body: Buffer }[] = [];
  for await (const entry of zip.eachEntry()) {
    if (entry.fileName.endsWith('/')) {
      out.push({ name: entry.fileName, body: Buffer.alloc(0) });
      continue;
    }
    const stream = await zip.openReadStreamPromise(entry);
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    out.push({ name: entry.fileName, body: Buffer.concat(chunks) });
  }
  return out;
}

export { gunzipSync, gzipSync };
