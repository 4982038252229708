// Writes a zip archive member by member, in one pass: APPNOTE 6.3 with UTF-8 names, deflate or
// stored, zip64 where a size, an offset or the member count needs it.
//
// Written here rather than with yazl (which this project used before): yazl looks for the next member
// to write from the first one each time, and keeps every member's stream until the archive ends, so a
// zip of 50,000 small members took 51 s and 334 MB (yazl pull request #91, open). Here a written
// member leaves only its central directory record behind (~100 bytes).
//
// A small member (held in memory: the spool's size is known, and at most SMALL_BYTES) is compressed in
// one call and written with its CRC and sizes in its local header. A larger one is streamed through
// deflate, and its CRC and sizes follow it in a data descriptor (general purpose bit 3).
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';
import type { ByteSink } from './byte-sink.ts';
import type { Spool } from './spool.ts';

export interface ZipMemberOptions {
  mtime: Date;
  /** Unix mode including the file type bits, when the input carried one. */
  mode?: number;
  compress: boolean;
}

export interface ZipWriter {
  addFile(name: string, content: Spool, options: ZipMemberOptions): Promise<void>;
  addDirectory(name: string, options: { mtime: Date; mode?: number }): void;
  finish(): Promise<void>;
}

/** Members up to this size are compressed in one call, their CRC and sizes in the local header. */
const SMALL_BYTES = 256 * 1024;
/**
 * A streamed member at least this large gets zip64 sizes (decided before its data is written):
 * deflate can grow incompressible data a little (5 bytes per 16 KiB block), never by 16 MiB here.
 */
const ZIP64_SIZE = 0xffffffff - 16 * 1024 * 1024;
const MAX32 = 0xffffffff;

const VERSION_MADE_BY = (3 << 8) | 63; // Unix, APPNOTE 6.3
const VERSION_NEEDED = 20;
const VERSION_NEEDED_ZIP64 = 45;
const FLAG_DESCRIPTOR = 1 << 3;
const FLAG_UTF8 = 1 << 11;
const STORED = 0;
const DEFLATED = 8;
const DEFAULT_FILE_MODE = 0o100664;
const DEFAULT_DIRECTORY_MODE = 0o40775;

/** What the central directory needs of a written member. */
interface Record {
  name: Buffer;
  flags: number;
  method: number;
  time: number;
  date: number;
  /** Unix seconds for the extended timestamp field, clamped to 32 bits signed. */
  unixTime: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
  attributes: number;
  /** The local header has zip64 sizes: so do the data descriptor and the central record. */
  zip64Sizes?: boolean;
}

export interface ZipWriterOptions {
  /** A streamed member of at least this many bytes gets zip64 sizes (default: just under 4 GiB). */
  zip64From?: number;
}

export function createZipWriter(out: ByteSink, { zip64From = ZIP64_SIZE }: ZipWriterOptions = {}): ZipWriter {
  // The central directory, built as members are written: their records' bytes, in chunks.
  const central = new ChunkedBytes();
  let count = 0;
  let cursor = 0;
  // Members are written one after the other; a directory added while a file is being written waits.
  let queue: Promise<void> = Promise.resolve();
  let failure: unknown;

  const write = async (bytes: Uint8Array): Promise<void> => {
    cursor += bytes.length;
    await out.write(bytes);
  };
  // A member that fails before any of its bytes are written leaves the archive as it was; one that
  // fails after does not, and every later step fails with its error.
  const enqueue = (step: () => Promise<void>): Promise<void> => {
    const run = queue.then(async () => {
      if (failure !== undefined) throw failure;
      const start = cursor;
      try {
        await step();
      } catch (err) {
        if (cursor !== start) failure ??= err;
        throw err;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };

  /** A member written: its record goes into the central directory. */
  const written = (record: Record): void => {
    central.append(centralRecord(record));
    count++;
  };

  const addFile = async (name: Buffer, content: Spool, options: ZipMemberOptions): Promise<void> => {
    const base = memberBase(name, options.compress ? DEFLATED : STORED, options, DEFAULT_FILE_MODE, cursor);
    if (content.size <= SMALL_BYTES) {
      const raw = await collect(content, content.size);
      const data = options.compress ? deflateRawSync(raw, { windowBits: windowBitsFor(raw.length) }) : raw;
      const record: Record = {
        ...base,
        flags: FLAG_UTF8,
        crc: crc32(raw),
        compressed: data.length,
        size: raw.length,
      };
      await write(Buffer.concat([localHeader(record, false), data]));
      written(record);
      return;
    }
    const zip64 = content.size >= zip64From;
    const record: Record = {
      ...base,
      flags: FLAG_UTF8 | FLAG_DESCRIPTOR,
      crc: 0,
      compressed: 0,
      size: 0,
      zip64Sizes: zip64,
    };
    await write(localHeader(record, zip64));
    let crc = 0;
    let size = 0;
    let compressed = 0;
    const source = content.read();
    if (options.compress) {
      const deflate = createDeflateRaw();
      const feeding = (async () => {
        try {
          for await (const chunk of source) {
            crc = crc32(chunk, crc);
            size += chunk.length;
            if (!deflate.write(chunk)) await new Promise<void>((r) => deflate.once('drain', () => r()));
          }
          deflate.end();
        } catch (err) {
          deflate.destroy(err as Error);
        }
      })();
      for await (const chunk of deflate as AsyncIterable<Buffer>) {
        compressed += chunk.length;
        await write(chunk);
      }
      await feeding;
    } else {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        compressed += chunk.length;
        await write(chunk);
      }
    }
    if (size !== content.size)
      throw new Error(`zip member ${name}: ${size} bytes read, ${content.size} spooled`);
    if (!zip64 && compressed >= MAX32)
      throw new Error(`zip member ${name}: compressed past 4 GiB without zip64`);
    Object.assign(record, { crc, size, compressed });
    await write(dataDescriptor(record, zip64));
    written(record);
  };

  return {
    addFile(name, content, options) {
      let path: Buffer;
      try {
        path = Buffer.from(memberPath(name, false));
      } catch (err) {
        return Promise.reject(err);
      }
      return enqueue(() => addFile(path, content, options));
    },
    addDirectory(name, options) {
      const path = Buffer.from(memberPath(name, true));
      enqueue(async () => {
        const record: Record = {
          ...memberBase(path, STORED, options, DEFAULT_DIRECTORY_MODE, cursor),
          flags: FLAG_UTF8,
          crc: 0,
          compressed: 0,
          size: 0,
        };
        await write(localHeader(record, false));
        written(record);
      }).catch(() => undefined);
    },
    async finish() {
      await enqueue(async () => {
        const start = cursor;
        for (const chunk of central.take()) await write(chunk);
        await write(endOfCentralDirectory(count, start, cursor - start));
      });
    },
  };
}

/** What a member's record takes from its name, method, options and place, whatever its content. */
function memberBase(
  name: Buffer,
  method: number,
  options: Pick<ZipMemberOptions, 'mtime' | 'mode'>,
  defaultMode: number,
  offset: number,
): Pick<Record, 'name' | 'method' | 'time' | 'date' | 'unixTime' | 'offset' | 'attributes'> {
  return {
    name,
    method,
    ...dosDateTime(options.mtime),
    unixTime: unixSeconds(options.mtime),
    offset,
    attributes: attributes(options.mode ?? defaultMode),
  };
}

/**
 * The deflate window for a member of `n` bytes: no larger than the member (9-15 bits). zlib sets up
 * its window and hash tables for each call; for a member of a few bytes the full 32 KiB window made
 * the call take twice as long (16 against 8 us), and archives of many tiny members are where this
 * shows.
 */
function windowBitsFor(n: number): number {
  return Math.min(15, Math.max(9, Math.ceil(Math.log2(n + 1))));
}

/** Bytes appended in 64 KiB chunks: no object per append is kept. */
class ChunkedBytes {
  private chunks: Buffer[] = [];
  private tail = Buffer.allocUnsafe(0);
  private fill = 0;

  append(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      if (this.fill === this.tail.length) {
        if (this.tail.length > 0) this.chunks.push(this.tail);
        this.tail = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bytes.length - at));
        this.fill = 0;
      }
      const n = Math.min(bytes.length - at, this.tail.length - this.fill);
      bytes.copy(this.tail, this.fill, at, at + n);
      this.fill += n;
      at += n;
    }
  }

  /** Everything appended, in order; empties this. */
  take(): Buffer[] {
    const all = [...this.chunks, this.tail.subarray(0, this.fill)].filter((c) => c.length > 0);
    this.chunks = [];
    this.tail = Buffer.allocUnsafe(0);
    this.fill = 0;
    return all;
  }
}

const CHUNK_BYTES = 64 * 1024;

/** The spool's bytes, all of them (a small member). */
async function collect(content: Spool, size: number): Promise<Buffer> {
  const into = Buffer.allocUnsafe(size);
  let at = 0;
  for await (const chunk of content.read() as AsyncIterable<Uint8Array>) {
    if (at + chunk.length > size) throw new Error('zip member: more bytes than spooled');
    into.set(chunk, at);
    at += chunk.length;
  }
  if (at !== size) throw new Error('zip member: fewer bytes than spooled');
  return into;
}

/**
 * A member name as it goes into the archive (yazl's rules, kept): `/` for `\`, never absolute, no `..`
 * segment, a directory's name ending in `/` and a file's not.
 */
export function memberPath(name: string, directory: boolean): string {
  if (name === '') throw new Error('empty zip member name');
  const path = name.replace(/\\/g, '/');
  if (/^[a-zA-Z]:/.test(path) || path.startsWith('/')) throw new Error(`absolute path: ${path}`);
  if (path.split('/').includes('..')) throw new Error(`invalid relative path: ${path}`);
  const looksLikeDirectory = path.endsWith('/');
  if (!directory && looksLikeDirectory) throw new Error(`file path cannot end with '/': ${path}`);
  const named = directory && !looksLikeDirectory ? `${path}/` : path;
  if (Buffer.byteLength(named) > 0xffff) throw new Error('zip member name longer than 65535 bytes');
  return named;
}

function attributes(mode: number): number {
  if ((mode & 0xffff) !== mode) throw new Error(`invalid mode: ${mode}`);
  return (mode << 16) >>> 0;
}

const MIN_DOS_DATE = new Date(1980, 0, 1);
const MAX_DOS_DATE = new Date(2107, 11, 31, 23, 59, 58);

/** MS-DOS date and time, in local time as the format has it (clamped to 1980-2107). */
function dosDateTime(mtime: Date): { time: number; date: number } {
  const d = mtime < MIN_DOS_DATE ? MIN_DOS_DATE : mtime > MAX_DOS_DATE ? MAX_DOS_DATE : mtime;
  return {
    date: (d.getDate() & 0x1f) | (((d.getMonth() + 1) & 0xf) << 5) | (((d.getFullYear() - 1980) & 0x7f) << 9),
    time: Math.floor(d.getSeconds() / 2) | ((d.getMinutes() & 0x3f) << 5) | ((d.getHours() & 0x1f) << 11),
  };
}

function unixSeconds(mtime: Date): number {
  const t = Math.floor(mtime.getTime() / 1000);
  return Math.max(-0x80000000, Math.min(0x7fffffff, Number.isFinite(t) ? t : 0));
}

function localHeader(r: Record, zip64: boolean): Buffer {
  const extra = zip64 ? 20 : 0;
  const b = Buffer.alloc(30 + r.name.length + extra);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(zip64 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED, 4);
  b.writeUInt16LE(r.flags, 6);
  b.writeUInt16LE(r.method, 8);
  b.writeUInt16LE(r.time, 10);
  b.writeUInt16LE(r.date, 12);
  // With a data descriptor, CRC and sizes are 0 here (0xffffffff with zip64: the extra field's 0s).
  b.writeUInt32LE(r.crc, 14);
  b.writeUInt32LE(zip64 ? MAX32 : r.compressed, 18);
  b.writeUInt32LE(zip64 ? MAX32 : r.size, 22);
  b.writeUInt16LE(r.name.length, 26);
  b.writeUInt16LE(extra, 28);
  r.name.copy(b, 30);
  if (zip64) {
    const at = 30 + r.name.length;
    b.writeUInt16LE(0x0001, at);
    b.writeUInt16LE(16, at + 2);
    // Sizes: 0, given by the data descriptor.
  }
  return b;
}

function dataDescriptor(r: Record, zip64: boolean): Buffer {
  const b = Buffer.alloc(zip64 ? 24 : 16);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(r.crc, 4);
  if (zip64) {
    b.writeBigUInt64LE(BigInt(r.compressed), 8);
    b.writeBigUInt64LE(BigInt(r.size), 16);
  } else {
    b.writeUInt32LE(r.compressed, 8);
    b.writeUInt32LE(r.size, 12);
  }
  return b;
}

/** The central directory record: zip64 extra with the fields that do not fit in 32 bits, in order. */
function centralRecord(r: Record): Buffer {
  const sizes = r.zip64Sizes === true;
  const wide = [sizes || r.size >= MAX32, sizes || r.compressed >= MAX32, r.offset >= MAX32];
  const zip64Fields = [r.size, r.compressed, r.offset].filter((_, i) => wide[i]);
  const zip64Extra = zip64Fields.length > 0 ? 4 + 8 * zip64Fields.length : 0;
  const timestampExtra = 9;
  const b = Buffer.alloc(46 + r.name.length + timestampExtra + zip64Extra);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(VERSION_MADE_BY, 4);
  b.writeUInt16LE(zip64Extra > 0 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED, 6);
  b.writeUInt16LE(r.flags, 8);
  b.writeUInt16LE(r.method, 10);
  b.writeUInt16LE(r.time, 12);
  b.writeUInt16LE(r.date, 14);
  b.writeUInt32LE(r.crc, 16);
  b.writeUInt32LE(wide[1] ? MAX32 : r.compressed, 20);
  b.writeUInt32LE(wide[0] ? MAX32 : r.size, 24);
  b.writeUInt16LE(r.name.length, 28);
  b.writeUInt16LE(timestampExtra + zip64Extra, 30);
  // comment length, disk number, internal attributes: 0
  b.writeUInt32LE(r.attributes, 38);
  b.writeUInt32LE(wide[2] ? MAX32 : r.offset, 42);
  r.name.copy(b, 46);
  let at = 46 + r.name.length;
  // Info-ZIP extended timestamp ("UT"): modification time in Unix seconds, UTC (flags as Info-ZIP's
  // central records have them: mtime and atime, atime never present there).
  b.writeUInt16LE(0x5455, at);
  b.writeUInt16LE(5, at + 2);
  b.writeUInt8(0b11, at + 4);
  b.writeInt32LE(r.unixTime, at + 5);
  at += timestampExtra;
  if (zip64Extra > 0) {
    b.writeUInt16LE(0x0001, at);
    b.writeUInt16LE(zip64Extra - 4, at + 2);
    at += 4;
    for (const v of zip64Fields) {
      b.writeBigUInt64LE(BigInt(v), at);
      at += 8;
    }
  }
  return b;
}

/** The end of central directory record, preceded by the zip64 record and locator when needed. */
function endOfCentralDirectory(count: number, start: number, size: number): Buffer {
  const zip64 = count >= 0xffff || start >= MAX32 || size >= MAX32;
  const parts: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(VERSION_MADE_BY, 12);
    record.writeUInt16LE(VERSION_NEEDED_ZIP64, 14);
    // this disk, disk with the central directory: 0
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(size), 40);
    record.writeBigUInt64LE(BigInt(start), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(start + size), 8);
    locator.writeUInt32LE(1, 16);
    parts.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : count, 8);
  end.writeUInt16LE(zip64 ? 0xffff : count, 10);
  end.writeUInt32LE(zip64 ? MAX32 : size, 12);
  end.writeUInt32LE(zip64 ? MAX32 : start, 16);
  parts.push(end);
  return Buffer.concat(parts);
}
