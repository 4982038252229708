// A member's output must be complete before it enters an archive: tar headers carry the size up front,
// and a member that fails half-way must be left out entirely (fail closed) rather than be cut off.
// The spool keeps small outputs in memory and moves large ones to a private temporary file.
import { randomBytes } from 'node:crypto';
import { constants, createReadStream, type WriteStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type ByteSink, endWritable, writeChunk } from './byte-sink.ts';

export interface Spool extends ByteSink {
  readonly size: number;
  /** The spooled bytes, once; call after `end`. */
  read(): Readable;
  /** Removes the temporary file, if any. Safe to call more than once. */
  dispose(): Promise<void>;
}

export function createSpool(tempDir: string, memoryLimit: number): Spool {
  let chunks: Uint8Array[] = [];
  let size = 0;
  let file: { path: string; stream: WriteStream } | undefined;
  let spilling: Promise<void> | undefined;

  const spill = async (): Promise<void> => {
    const path = join(tempDir, `spool-${randomBytes(8).toString('hex')}`);
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const stream = handle.createWriteStream({ highWaterMark: 1 << 20 });
    stream.on('error', () => undefined);
    file = { path, stream };
    const pending = chunks;
    chunks = [];
    for (const c of pending) await writeChunk(stream, c);
  };

  return {
    discard: false,
    get size() {
      return size;
    },
    async write(chunk) {
      size += chunk.length;
      if (file === undefined && spilling === undefined) {
        chunks.push(chunk);
        if (size > memoryLimit) {
          spilling = spill();
          await spilling;
        }
        return;
      }
      await spilling;
      await writeChunk(file!.stream, chunk);
    },
    async end() {
      await spilling;
      if (file) await endWritable(file.stream);
    },
    read() {
      if (file) return createReadStream(file.path, { highWaterMark: 1 << 20 });
      const held = chunks;
      chunks = [];
      return Readable.from(held, { objectMode: false });
    },
    async dispose() {
      chunks = [];
      if (file) {
        file.stream.destroy();
        await unlink(file.path).catch(() => undefined);
        file = undefined;
      }
    },
  };
}
