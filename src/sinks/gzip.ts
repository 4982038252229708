// A gzip layer in front of another sink: `.gz` and `.tar.gz` inputs are written back compressed.
import { createGzip } from 'node:zlib';
import { type ByteSink, endWritable, gatheringSink, pump, writableSink } from './byte-sink.ts';

/**
 * Writes under this size are gathered (gatheringSink) before they reach zlib: each write to a zlib
 * stream is a round trip through the thread pool, and a tar writer writes a header, the data and its
 * padding per member. A .tar.gz of 40,000 two-byte members took 13.7 s, most of it waiting on those
 * round trips.
 */
const SMALL_BYTES = 16 * 1024;

/** Compresses into `out`. `end` finishes the gzip stream; ending `out` stays with its owner. */
export function gzipSink(out: ByteSink): ByteSink {
  const gz = createGzip();
  const pumping = pump(gz, out).catch((err: unknown) => {
    gz.destroy(err as Error);
    throw err;
  });
  // Awaited in `end`; a rejection before that is still observed there.
  pumping.catch(() => undefined);
  const sink = gatheringSink(writableSink(gz, true), SMALL_BYTES);
  return {
    discard: false,
    write: (chunk, release) => sink.write(chunk, release),
    async end() {
      await sink.flush();
      await endWritable(gz);
      await pumping;
    },
  };
}
