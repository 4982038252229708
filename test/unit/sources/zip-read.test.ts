// Reading a zip from its file (src/sources/zip.ts): through cached windows for what is small (central
// directory records, local headers, small members' data), from the file for a member larger than a
// window; every byte as written, whatever falls across a window's end.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memorySink } from '../../../src/sinks/byte-sink.ts';
import { createSpool } from '../../../src/sinks/spool.ts';
import { createZipWriter } from '../../../src/sinks/zip.ts';
import { createBudget, DEFAULT_LIMITS } from '../../../src/sources/limits.ts';
import { readZip } from '../../../src/sources/zip.ts';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jr-zipr-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function zipOf(members: { name: string; body: Buffer; compress: boolean }[]): Promise<Buffer> {
  const out = memorySink();
  const zw = createZipWriter(out);
  for (const m of members) {
    const s = createSpool(dir, 64 << 20);
    await s.write(m.body);
    await s.end();
    await zw.addFile(m.name, s, { mtime: new Date('2024-05-06T07:08:09Z'), compress: m.compress });
  }
  await zw.finish();
  return out.bytes();
}

async function readFromFile(zip: Buffer): Promise<{ name: string; body: Buffer }[]> {
  const path = join(dir, `in-${randomBytes(4).toString('hex')}.zip`);
  writeFileSync(path, zip);
  const out: { name: string; body: Buffer }[] = [];
  await readZip(path, zip.length, createBudget(DEFAULT_LIMITS), 'test.zip', async (m) => {
    const chunks: Uint8Array[] = [];
    for await (const c of m.open()) chunks.push(c);
    out.push({ name: m.name, body: Buffer.concat(chunks) });
  });
  return out;
}

describe('zip read from a file', () => {
  it('reads members small and large, stored and deflated, across window ends', async () => {
    const members: { name: string; body: Buffer; compress: boolean }[] = [];
    // 3,000 small members of odd sizes put headers and data across the 1 MiB windows' ends; large
    // members (3 MiB, incompressible or not) are read from the file.
    for (let i = 0; i < 3000; i++) {
      members.push({
        name: `s/${i}.log`,
        body: randomBytes(1000 + ((i * 37) % 2000)),
        compress: i % 2 === 0,
      });
      if (i % 1000 === 500) {
        members.push({ name: `big/${i}.bin`, body: randomBytes(3 << 20), compress: i % 2 === 0 });
        members.push({ name: `big/${i}.log`, body: Buffer.from('line\n'.repeat(700_000)), compress: true });
      }
    }
    const zip = await zipOf(members);
    expect(zip.length).toBeGreaterThan(10 << 20);
    const read = await readFromFile(zip);
    expect(read.map((m) => m.name)).toEqual(members.map((m) => m.name));
    const wrong = read.filter((m, i) => !m.body.equals(members[i]!.body)).map((m) => m.name);
    expect(wrong).toEqual([]);
  }, 30_000);

  it('reads a central directory larger than a window', async () => {
    const members = Array.from({ length: 20_000 }, (_, i) => ({
      name: `a-rather-long-directory-name/and-a-long-member-name-${i}.txt`,
      body: Buffer.from(String(i)),
      compress: false,
    }));
    const zip = await zipOf(members);
    const read = await readFromFile(zip);
    expect(read.length).toBe(members.length);
    expect(read.every((m, i) => m.name === members[i]!.name && m.body.toString() === String(i))).toBe(true);
  }, 30_000);

  it('fails on a zip cut short, with what is readable read first', async () => {
    const members = Array.from({ length: 50 }, (_, i) => ({
      name: `${i}.txt`,
      body: randomBytes(30_000),
      compress: false,
    }));
    const zip = await zipOf(members);
    // The central directory intact, the data of the last members gone (a copy that lost its middle).
    const cut = Buffer.from(zip);
    cut.fill(0, 40 * 30_000, cut.readUInt32LE(cut.length - 22 + 16));
    const path = join(dir, 'cut.zip');
    writeFileSync(path, cut);
    const names: string[] = [];
    await expect(
      readZip(path, cut.length, createBudget(DEFAULT_LIMITS), 'cut.zip', async (m) => {
        for await (const _ of m.open());
        names.push(m.name);
      }),
    ).rejects.toMatchObject({ code: 'ERR_CORRUPT' });
    // Members 0-39 have their local header (39's data ends zeroed: stored, its CRC is not checked);
    // member 40's header is gone.
    expect(names).toEqual(members.slice(0, 40).map((m) => m.name));
    // A file shorter than its zip says: the end of central directory is not found.
    const short = join(dir, 'short.zip');
    writeFileSync(short, zip.subarray(0, zip.length - 30));
    const fds = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) {
      await expect(
        readZip(short, zip.length - 30, createBudget(DEFAULT_LIMITS), 'short.zip', async () => undefined),
      ).rejects.toMatchObject({ code: 'ERR_TRUNCATED' });
    }
    // Each failed open closed its file.
    expect(readdirSync('/proc/self/fd').length).toBeLessThan(fds + 5);
  });
});
