// Puts results back in input order. Processors submit verbatim bytes and job results (promises) as
// they cut the input; this queue writes them to the sink, and hands their findings on, strictly in
// submission order, while up to `window.entries` entries, and up to `window.bytes` of their inputs,
// are in flight (one entry may be larger alone). The window is the backpressure: a processor that
// submits waits for the oldest entry once the window is full.
// Small pieces are gathered into one buffer before they reach the sink (SMALL_PIECE, GATHER_BYTES).
import type { ByteSink } from '../sinks/byte-sink.ts';
import type { JobResult } from './jobs.ts';

/**
 * Pieces shorter than this are copied into a buffer that goes to the sink once GATHER_BYTES are in it
 * (or before a larger piece, or at the end), not written one by one. A sink queues a few MiB before it
 * makes a writer wait, counted in bytes: a JSON text sequence of 33 million `{}` (99 MB) queued
 * millions of two-byte writes, each with its own objects in the file stream's queue, and the scan
 * grew to 2.6 GB.
 */
const SMALL_PIECE = 4096;
const GATHER_BYTES = 64 * 1024;
/**
 * The gathering buffer starts this small and doubles up to GATHER_BYTES: an archive of 10,000 tiny
 * members has an ordered output each, and a 64 KiB buffer for each of them counted, for V8, as 640 MB
 * of memory allocated.
 */
const FIRST_GATHER_BYTES = 8 * 1024;

type Entry = Uint8Array | Promise<JobResult>;

/** How many entries, and how many bytes of their inputs, may be in flight. */
export interface Window {
  entries: number;
  bytes: number;
}

export class OrderedOutput {
  private readonly sink: ByteSink;
  private readonly onResult: (r: JobResult) => Promise<void> | void;
  private readonly window: Window;
  /** Never longer than the window: plain shift() is cheap, and drained entries are released at once. */
  private readonly queue: Entry[] = [];
  /** Input bytes of each queued entry, and their sum. */
  private readonly sizes: number[] = [];
  private queuedBytes = 0;
  /** Bytes written to the sink. */
  written = 0;
  /** Small pieces gathered, in order, not yet written: gathered[0, gatheredBytes). */
  private gathered: Buffer | undefined;
  private gatheredBytes = 0;

  constructor(sink: ByteSink, onResult: (r: JobResult) => Promise<void> | void, window: Window) {
    this.sink = sink;
    this.onResult = onResult;
    this.window = { entries: Math.max(1, window.entries), bytes: window.bytes };
  }

  /** Bytes that pass through unchanged. */
  async verbatim(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    if (this.queue.length === 0) {
      // Nothing ahead of it: write now rather than queue.
      await this.write(bytes);
      return;
    }
    await this.add(bytes, bytes.length);
  }

  /** `inputBytes`: the size of the job's input (0 for a piece too small to count). */
  async job(result: Promise<JobResult>, inputBytes = 0): Promise<void> {
    // Observed later by `drainOne`; without this a failure before then counts as unhandled.
    result.catch(() => undefined);
    await this.add(result, inputBytes);
  }

  /** Writes everything still queued. */
  async finish(): Promise<void> {
    while (this.queue.length > 0) await this.drainOne();
    await this.flush();
  }

  /** After a failure: waits for jobs still running so none outlives its input, writes nothing more. */
  async abandon(): Promise<void> {
    const rest = this.queue.splice(0);
    this.sizes.length = 0;
    this.queuedBytes = 0;
    this.gathered = undefined;
    this.gatheredBytes = 0;
    await Promise.allSettled(rest);
  }

  private async add(entry: Entry, bytes: number): Promise<void> {
    this.queue.push(entry);
    this.sizes.push(bytes);
    this.queuedBytes += bytes;
    while (
      this.queue.length > this.window.entries ||
      (this.queuedBytes > this.window.bytes && this.queue.length > 1)
    )
      await this.drainOne();
  }

  private async drainOne(): Promise<void> {
    const entry = this.queue.shift()!;
    this.queuedBytes -= this.sizes.shift()!;
    if (entry instanceof Uint8Array) {
      await this.write(entry);
      return;
    }
    const r = await entry;
    await this.onResult(r);
    if (r.output.length > 0) {
      await this.write(r.output, r.release);
    } else {
      r.release?.();
    }
  }

  /** To the sink in order: a small piece into the gathered buffer (copied: released at once), else as it is. */
  private async write(bytes: Uint8Array, release?: () => void): Promise<void> {
    this.written += bytes.length;
    if (bytes.length < SMALL_PIECE) {
      this.gathered ??= Buffer.allocUnsafeSlow(FIRST_GATHER_BYTES);
      if (this.gatheredBytes + bytes.length > this.gathered.length) {
        if (this.gathered.length < GATHER_BYTES) {
          const grown = Buffer.allocUnsafeSlow(Math.min(GATHER_BYTES, this.gathered.length * 2));
          grown.set(this.gathered.subarray(0, this.gatheredBytes));
          this.gathered = grown;
        } else {
          await this.flush();
        }
      }
      this.gathered.set(bytes, this.gatheredBytes);
      this.gatheredBytes += bytes.length;
      release?.();
      return;
    }
    await this.flush();
    await this.sink.write(bytes, release);
  }

  /**
   * Writes a copy of the gathered pieces, of their size (a sink may keep what it is given: an archive
   * member spooled in memory kept a 64 KiB buffer for its 2 bytes), and keeps the buffer for the next.
   */
  private async flush(): Promise<void> {
    if (this.gathered === undefined || this.gatheredBytes === 0) return;
    const chunk = Buffer.from(this.gathered.subarray(0, this.gatheredBytes));
    this.gatheredBytes = 0;
    await this.sink.write(chunk);
  }
}
