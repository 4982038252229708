// zip input. Zip needs random access (the directory is at the end), so it is read from a file: the
// input itself when it is one, a private temporary copy otherwise. Names are decoded here rather than
// by yauzl, whose validation would reject the whole archive over one member named `../x`; the caller
// decides what an unsafe name means.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
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
  try {
    zipfile = await yauzl.openPromise(path, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: true,
    });
  } catch (err) {
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
