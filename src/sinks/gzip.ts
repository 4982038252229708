// A gzip layer in front of another sink: `.gz` and `.tar.gz` inputs are written back compressed.
import { createGzip } from 'node:zlib';
import { type ByteSink, endWritable, pump, writeChunk } from './byte-sink.ts';

/**
 * Writes under this size are gathered into one buffer of GATHER_BYTES before they reach zlib: each
 * write to a zlib stream is a round trip through the thread pool, and a tar writer writes a header,
 * the data and its padding per member. A .tar.gz of 40,000 two-byte members took 13.7 s, most of it
 * waiting on those round trips.
 */
const SMALL_BYTES = 16 * 1024;
const GATHER_BYTES = 64 * 1024;

/** Compresses into `out`. `end` finishes the gzip stream; ending `out` stays with its owner. */
export function gzipSink(out: ByteSink): ByteSink {
  const gz = createGzip();
  const pumping = pump(gz, out).catch((err: unknown) => {
    gz.destroy(err as Error);
    throw err;
  });
  // Awaited in `end`; a rejection before that is still observed there.
  pumping.catch(() => undefined);
  let gathered: Buffer | undefined;
  let fill = 0;
  const flush = (): Promise<void> => {
    if (gathered === undefined || fill === 0) return Promise.resolve();
    const chunk = gathered.subarray(0, fill);
    gathered = undefined;
    fill = 0;
    return writeChunk(gz, chunk);
  };
  return {
    discard: false,
    async write(chunk) {
      if (chunk.length >= SMALL_BYTES) {
        await flush();
        return writeChunk(gz, chunk);
      }
      if (fill + chunk.length > GATHER_BYTES) await flush();
      gathered ??= Buffer.allocUnsafeSlow(GATHER_BYTES);
      gathered.set(chunk, fill);
      fill += chunk.length;
    },
    async end() {
      await flush();
      await endWritable(gz);
      await pumping;
    },
  };
}
