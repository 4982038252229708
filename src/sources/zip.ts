// zip input. Zip needs random access (the directory is at the end), so it is read from a file: the
// input itself when it is one, a private temporary copy otherwise. Names are decoded here rather than
// by yauzl, whose validation would reject the whole archive over one member named `../x`; the caller
// decides what an unsafe name means.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ProcessingError } from '../util/errors.ts';
import { checkDeclaredRatio, type ExpansionBudget, LimitError, RatioGuard } from './limits.ts';

export interface ZipMember {
  /** Decoded name (CP437 or UTF-8; backslashes turned into slashes). */
  name: string;
  directory: boolean;
  encrypted: boolean;
  compressionMethod: number;
  compressedSize: number;
  uncompressedSize: number;
  mtime: Date;
  /** Unix mode with file-type bits, when the archive was made on a Unix-like system. */
  mode: number | undefined;
  /** The member's bytes, inflated and counted against the limits. */
  open(): AsyncIterable<Uint8Array>;
}

export type ZipMemberHandler = (member: ZipMember, archive: { readonly broken: boolean }) => Promise<void>;

const UNIX_HOST = 3;
const S_IFMT = 0o170000;

export async function readZip(
  path: string,
  fileSize: number,
  budget: ExpansionBudget,
  what: string,
  onMember: ZipMemberHandler,
): Promise<void> {
  let zipfile: yauzl.ZipFile;
  const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true };
  const handle = await open(path, 'r');
  try {
    zipfile = await yauzl.fromRandomAccessReaderPromise(
      new WindowedReader(handle, fileSize),
      fileSize,
      options,
    );
  } catch (err) {
    // Not a zip yauzl can open: the file is ours to close (an opened zip closes it, below).
    await handle.close().catch(() => undefined);
    throw describeZipError(err);
  }
  const state = { broken: false };
  const archiveGuard = new RatioGuard(budget, what);
  archiveGuard.compressed(fileSize);
  try {
    if (zipfile.entryCount > budget.limits.maxArchiveEntries) {
      throw new LimitError(
        'ERR_LIMIT_ENTRIES',
        `${what} has ${zipfile.entryCount} members, more than ${budget.limits.maxArchiveEntries} (raise limits.maxArchiveEntries if it is genuine)`,
        false,
      );
    }
    for await (const entry of zipfile.eachEntry()) {
      const raw = entry.fileName as unknown as Buffer;
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
      const host = entry.versionMadeBy >> 8;
      const attrMode = entry.externalFileAttributes >>> 16;
      const member: ZipMember = {
        name,
        directory: name.endsWith('/'),
        encrypted: entry.isEncrypted(),
        compressionMethod: entry.compressionMethod,
        compressedSize: entry.compressedSize,
        uncompressedSize: entry.uncompressedSize,
        mtime: entry.getLastModDate(),
        mode: host === UNIX_HOST && (attrMode & S_IFMT) !== 0 ? attrMode : undefined,
        open: () => inflate(zipfile, entry, name, budget, archiveGuard, state),
      };
      await onMember(member, state);
    }
  } catch (err) {
    throw describeZipError(err);
  } finally {
    zipfile.close();
  }
}

async function* inflate(
  zipfile: yauzl.ZipFile,
  entry: yauzl.Entry,
  name: string,
  budget: ExpansionBudget,
  archiveGuard: RatioGuard,
  state: { broken: boolean },
): AsyncGenerator<Uint8Array> {
  if (entry.isEncrypted()) {
    throw new ProcessingError('ERR_ENCRYPTED', `zip member ${name} is encrypted; decrypt the archive first`);
  }
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw new ProcessingError(
      'ERR_UNSUPPORTED',
      `zip member ${name} uses compression method ${entry.compressionMethod}; only stored and deflate are read`,
    );
  }
  checkDeclaredRatio(budget.limits, `zip member ${name}`, entry.compressedSize, entry.uncompressedSize);
  const what = `zip member ${name}`;
  const guard = new RatioGuard(budget, what, archiveGuard);
  guard.compressed(entry.compressedSize);
  let stream: Readable;
  try {
    stream = await zipfile.openReadStreamPromise(entry);
  } catch (err) {
    state.broken = true;
    throw describeZipError(err);
  }
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      try {
        guard.expanded(chunk.length);
      } catch (err) {
        // The archive as a whole, not this member, is over its ratio: nothing more is read from it.
        if (err instanceof LimitError && err.subject !== what) state.broken = true;
        throw err;
      }
      yield chunk;
    }
  } catch (err) {
    throw describeZipError(err);
  } finally {
    stream.destroy();
  }
}

/** `length` bytes of the file from `at`, in a buffer of their own; fewer at its end. */
async function readFrom(handle: FileHandle, at: number, length: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafeSlow(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(bytes, got, length - got, at + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return bytes.subarray(0, got);
}

/** Bytes of a window: what one read brings in. */
const WINDOW_BYTES = 1024 * 1024;
/** Windows kept: the central directory's, the members', and a spare for a range across two. */
const MAX_WINDOWS = 3;

/**
 * The zip file, read for yauzl through a few cached 1 MiB windows. Per member, yauzl reads its
 * central directory record (two reads), its local header (two) and its data: read one by one from
 * the file, as yauzl does, each is a round trip through the thread pool that the scan waits for; a
 * zip of 50,000 two-byte members (7.5 MB) took 23.6 s that way, and 6.8-9.2 s from windows (1 thread,
 * --out-dir, the zip writer of sinks/zip.ts in both). A range larger than a window (a large member's
 * data) is read from the file in window-sized chunks of its own.
 * Windows are not reused once handed out: a read or stream keeps its slice until it is done with it.
 */
class WindowedReader extends yauzl.RandomAccessReader {
  private windows: { at: number; bytes: Buffer }[] = [];
  private readonly handle: FileHandle;
  private readonly size: number;

  constructor(handle: FileHandle, size: number) {
    super();
    this.handle = handle;
    this.size = size;
  }

  /** [start, end) from a window, read in first when no window holds it (shorter at the end of the file). */
  private async slice(start: number, end: number): Promise<Buffer> {
    for (const w of this.windows) {
      if (start >= w.at && end <= w.at + w.bytes.length) return w.bytes.subarray(start - w.at, end - w.at);
    }
    const bytes = await readFrom(
      this.handle,
      start,
      Math.max(0, Math.min(Math.max(end - start, WINDOW_BYTES), this.size - start)),
    );
    this.windows.unshift({ at: start, bytes });
    if (this.windows.length > MAX_WINDOWS) this.windows.pop();
    return bytes.subarray(0, end - start);
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    // yauzl's callback takes the bytes read too: fewer than asked is its "unexpected EOF". Called
    // from setImmediate, as yauzl's own in-memory reader does: answered from a window in a microtask,
    // member after member, the scan never let the event loop turn, and what V8 and Node finish there
    // (freeing buffers and streams) waited: the zip of 50,000 members peaked at 255-306 MB, against
    // 212-219 MB this way (and took 3.3-3.7 s, against 6.8-9.2).
    const done = callback as (err: Error | null, bytesRead?: number) => void;
    this.slice(position, position + Math.min(length, buffer.length - offset)).then(
      (bytes) => {
        const n = bytes.copy(buffer, offset);
        setImmediate(() => done(null, n));
      },
      (err: Error) => setImmediate(() => done(err)),
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const handle = this.handle;
    if (end - start > WINDOW_BYTES) {
      // Read here rather than by handle.createReadStream, which closes the handle when it ends.
      return Readable.from(
        (async function* () {
          for (let at = start; at < end; ) {
            const bytes = await readFrom(handle, at, Math.min(WINDOW_BYTES, end - at));
            if (bytes.length === 0) return;
            at += bytes.length;
            yield bytes;
          }
        })(),
        { objectMode: false },
      );
    }
    const slice = this.slice.bind(this);
    return Readable.from(
      (async function* () {
        yield await slice(start, end);
      })(),
      { objectMode: false },
    );
  }

  override close(callback: (err: Error | null) => void): void {
    this.windows = [];
    this.handle.close().then(
      () => callback(null),
      (err: Error) => callback(err),
    );
  }
}

function describeZipError(err: unknown): unknown {
  if (err instanceof ProcessingError) return err;
  const message = (err as Error)?.message ?? String(err);
  if (
    /end of central directory record signature not found|unexpected EOF|invalid central directory/i.test(
      message,
    )
  ) {
    return new ProcessingError(
      'ERR_TRUNCATED',
      `truncated or corrupt zip archive (${message}); re-copy or re-download it`,
    );
  }
  if (
    /invalid local file header|invalid signature|size mismatch|too many bytes|not enough bytes|invalid/i.test(
      message,
    )
  ) {
    return new ProcessingError('ERR_CORRUPT', `corrupt zip archive (${message})`);
  }
  return err;
}

/**
 * A zip that is not a file of its own (a member of another archive, inside gzip, stdin): copied to a
 * private temporary file first (0600 in the scan's 0700 temp folder, removed right after: it holds
 * unredacted bytes).
 */
export async function readZipStream(
  input: AsyncIterable<Uint8Array>,
  tempDir: string,
  budget: ExpansionBudget,
  what: string,
  onMember: ZipMemberHandler,
): Promise<void> {
  const path = join(tempDir, `zip-${randomBytes(8).toString('hex')}`);
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    let size = 0;
    try {
      for await (const chunk of input) {
        size += chunk.length;
        let at = 0;
        while (at < chunk.length) at += (await handle.write(chunk, at)).bytesWritten;
      }
    } finally {
      await handle.close();
    }
    await readZip(path, size, budget, what, onMember);
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
