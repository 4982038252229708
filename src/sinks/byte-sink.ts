// The one output abstraction of the batch side: an ordered byte sink with backpressure.
// Files, stdout, gzip, tar and zip writers, spools and the discard sink all implement it,
// so a format processor never knows whether its bytes land in a file or an archive member.
import type { Writable } from 'node:stream';

export interface ByteSink {
  /**
   * Resolves when the sink can take more (backpressure). `release`, when given, is called once the
   * sink no longer reads `chunk` (its memory can be reused); a sink that keeps chunks or cannot tell
   * never calls it, and the chunk is simply left to the garbage collector.
   */
  write(chunk: Uint8Array, release?: () => void): Promise<void>;
  /** Flushes and finishes this sink (not its parent: a member sink ends only the member). */
  end(): Promise<void>;
  /** True when nothing is kept: archive writers skip spooling and packing for it. */
  readonly discard: boolean;
}

/** Scan without output (no --out / --out-dir): bytes are counted and dropped. */
export function nullSink(): ByteSink & { readonly bytes: number } {
  let bytes = 0;
  return {
    discard: true,
    get bytes() {
      return bytes;
    },
    write(chunk, release) {
      bytes += chunk.length;
      release?.();
      return Promise.resolve();
    },
    end: () => Promise.resolve(),
  };
}

/** Collects everything in memory (tests, small members). */
export function memorySink(): ByteSink & { bytes(): Buffer } {
  const chunks: Uint8Array[] = [];
  return {
    discard: false,
    write(chunk) {
      chunks.push(chunk);
      return Promise.resolve();
    },
    end: () => Promise.resolve(),
    bytes: () => Buffer.concat(chunks),
  };
}

/**
 * Writes one chunk to a Node writable, waiting for 'drain'; rejects when the stream fails or closes.
 * `release` is called once the stream has written the chunk (never when it failed).
 */
export function writeChunk(w: Writable, chunk: Uint8Array, release?: () => void): Promise<void> {
  if (w.destroyed || w.writableEnded) {
    return Promise.reject(w.errored ?? new Error('write after the output stream closed'));
  }
  const written =
    release === undefined
      ? undefined
      : (err?: Error | null) => {
          if (!err) release();
        };
  if (w.write(chunk, written)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => {
      w.off('drain', onDrain);
      w.off('error', onError);
      w.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (err: Error) => done(err);
    const onClose = () => done(w.errored ?? new Error('output stream closed before the write finished'));
    w.on('drain', onDrain);
    w.on('error', onError);
    w.on('close', onClose);
  });
}

/** Ends a Node writable and waits until everything is flushed ('finish'). */
export function endWritable(w: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (w.errored) {
      reject(w.errored);
      return;
    }
    if (w.writableFinished) {
      resolve();
      return;
    }
    const onFinish = () => {
      w.off('error', onError);
      resolve();
    };
    const onError = (err: Error) => {
      w.off('finish', onFinish);
      reject(err);
    };
    w.once('finish', onFinish);
    w.once('error', onError);
    w.end();
  });
}

/** A ByteSink over a Node writable (stdout, a file stream). `end` ends the writable unless `keepOpen`. */
export function writableSink(w: Writable, keepOpen = false): ByteSink {
  return {
    discard: false,
    write: (chunk, release) => writeChunk(w, chunk, release),
    end: () => (keepOpen ? Promise.resolve() : endWritable(w)),
  };
}

/** A sink that gathers small writes (gatheringSink). */
export interface GatheringSink extends ByteSink {
  /** Writes what is gathered. */
  flush(): Promise<void>;
  /** Forgets what is gathered (after a failure: nothing more is written). */
  drop(): void;
}

/** The gathering buffer's largest size. */
const GATHER_BYTES = 64 * 1024;
/**
 * The gathering buffer starts this small and doubles up to GATHER_BYTES: an archive of 10,000 tiny
 * members has an ordered output each, and a 64 KiB buffer for each of them counted, for V8, as 640 MB
 * of memory allocated.
 */
const FIRST_GATHER_BYTES = 8 * 1024;

/**
 * Writes shorter than `small` bytes are copied into one buffer that goes to `out` once GATHER_BYTES
 * are in it, before a longer write, on `flush` and on `end`, not written one by one (their `release`
 * is called at once). What goes out is a copy of the gathered bytes, of their size (a sink may keep
 * what it is given: an archive member spooled in memory kept a 64 KiB buffer for its 2 bytes); the
 * buffer is kept for the next. Longer writes pass as they are, with their `release`. Per write, a
 * file stream queues objects and zlib takes a round trip through the thread pool: millions of tiny
 * writes cost more than the bytes (ordered-output.ts, gzip.ts).
 */
export function gatheringSink(out: ByteSink, small: number): GatheringSink {
  let gathered: Buffer | undefined;
  let fill = 0;
  const flush = async (): Promise<void> => {
    if (gathered === undefined || fill === 0) return;
    const chunk = Buffer.from(gathered.subarray(0, fill));
    fill = 0;
    await out.write(chunk);
  };
  return {
    discard: out.discard,
    async write(chunk, release) {
      if (chunk.length >= small) {
        await flush();
        await out.write(chunk, release);
        return;
      }
      gathered ??= Buffer.allocUnsafeSlow(FIRST_GATHER_BYTES);
      if (fill + chunk.length > gathered.length) {
        if (gathered.length < GATHER_BYTES) {
          const grown = Buffer.allocUnsafeSlow(Math.min(GATHER_BYTES, gathered.length * 2));
          grown.set(gathered.subarray(0, fill));
          gathered = grown;
        } else {
          await flush();
        }
      }
      gathered.set(chunk, fill);
      fill += chunk.length;
      release?.();
    },
    flush,
    drop() {
      gathered = undefined;
      fill = 0;
    },
    async end() {
      await flush();
      await out.end();
    },
  };
}

/** Copies an async byte iterable (a Node or streamx readable) into a sink, in order, with backpressure. */
export async function pump(source: AsyncIterable<Uint8Array>, sink: ByteSink): Promise<void> {
  for await (const chunk of source) await sink.write(chunk);
}
