// gzip input (single or multi-member), decompressed as a stream under the bomb limits.
import { createGunzip } from 'node:zlib';
import { endWritable, writeChunk } from '../sinks/byte-sink.ts';
import { ProcessingError } from '../util/errors.ts';
import type { RatioGuard } from './limits.ts';

export async function* gunzip(
  input: AsyncIterable<Uint8Array>,
  guard: RatioGuard,
): AsyncGenerator<Uint8Array> {
  const gz = createGunzip({ chunkSize: 256 * 1024 });
  const feeding = (async () => {
    for await (const chunk of input) {
      guard.compressed(chunk.length);
      await writeChunk(gz, chunk);
    }
    await endWritable(gz);
  })().catch((err: unknown) => {
    gz.destroy(err as Error);
  });
  try {
    for await (const chunk of gz as AsyncIterable<Uint8Array>) {
      guard.expanded(chunk.length);
      yield chunk;
    }
  } catch (err) {
    throw describeZlibError(err);
  } finally {
    gz.destroy();
    await feeding;
  }
}

/** zlib's messages name no file and suggest nothing; these are what a user sees. */
function describeZlibError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'Z_BUF_ERROR') {
    return new ProcessingError(
      'ERR_TRUNCATED',
      'truncated gzip stream (unexpected end of file); re-copy or re-download it',
    );
  }
  if (e?.code === 'Z_DATA_ERROR') {
    return new ProcessingError('ERR_CORRUPT', `corrupt gzip stream (${e.message})`);
  }
  return err;
}
