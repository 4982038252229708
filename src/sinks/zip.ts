// Writes a zip archive member by member with yazl (sizes in data descriptors, zip64 when needed).
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import yazl from 'yazl';
import { type ByteSink, pump } from './byte-sink.ts';
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

export function createZipWriter(out: ByteSink): ZipWriter {
  const zip = new yazl.ZipFile();
  const failed = new Promise<never>((_, reject) => zip.on('error', reject));
  failed.catch(() => undefined);
  const pumping = Promise.race([pump(zip.outputStream as Readable, out), failed]);
  pumping.catch(() => undefined);

  return {
    async addFile(name, content, options) {
      const stream = content.read();
      const consumed = once(stream, 'end');
      zip.addReadStream(stream, name, {
        mtime: options.mtime,
        compress: options.compress,
        size: content.size,
        ...(options.mode !== undefined ? { mode: options.mode } : {}),
      });
      // Wait until yazl has read the member so that at most one spool is open at a time.
      await Promise.race([consumed, pumping]);
    },
    addDirectory(name, options) {
      zip.addEmptyDirectory(name, {
        mtime: options.mtime,
        ...(options.mode !== undefined ? { mode: options.mode } : {}),
      });
    },
    async finish() {
      zip.end();
      await pumping;
    },
  };
}
