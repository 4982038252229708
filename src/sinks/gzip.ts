// A gzip layer in front of another sink: `.gz` and `.tar.gz` inputs are written back compressed.
import { createGzip } from 'node:zlib';
import { type ByteSink, endWritable, pump, writeChunk } from './byte-sink.ts';

/** Compresses into `out`. `end` finishes the gzip stream; ending `out` stays with its owner. */
export function gzipSink(out: ByteSink): ByteSink {
  const gz = createGzip();
  const pumping = pump(gz, out).catch((err: unknown) => {
    gz.destroy(err as Error);
    throw err;
  });
  // Awaited in `end`; a rejection before that is still observed there.
  pumping.catch(() => undefined);
  return {
    discard: false,
    write: (chunk) => writeChunk(gz, chunk),
    async end() {
      await endWritable(gz);
      await pumping;
    },
  };
}
