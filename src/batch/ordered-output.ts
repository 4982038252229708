// Puts results back in input order. Processors submit verbatim bytes and job results (promises) as
// they cut the input; this queue writes them to the sink, and hands their findings on, strictly in
// submission order, while up to `window.entries` entries, and up to `window.bytes` of their inputs,
// are in flight (one entry may be larger alone). The window is the backpressure: a processor that
// submits waits for the oldest entry once the window is full.
// Small pieces are gathered into one buffer before they reach the sink (SMALL_PIECE, gatheringSink).
import { type ByteSink, type GatheringSink, gatheringSink } from '../sinks/byte-sink.ts';
import type { JobResult } from './jobs.ts';

/**
 * Pieces shorter than this are gathered (gatheringSink), not written one by one. A sink queues a few
 * MiB before it makes a writer wait, counted in bytes: a JSON text sequence of 33 million `{}` (99 MB)
 * queued millions of two-byte writes, each with its own objects in the file stream's queue, and the
 * scan grew to 2.6 GB.
 */
const SMALL_PIECE = 4096;

type Entry = Uint8Array | Promise<JobResult>;

/** How many entries, and how many bytes of their inputs, may be in flight. */
export interface Window {
  entries: number;
  bytes: number;
}

export class OrderedOutput {
  private readonly sink: GatheringSink;
  private readonly onResult: (r: JobResult) => Promise<void> | void;
  private readonly window: Window;
  /** Never longer than the window: plain shift() is cheap, and drained entries are released at once. */
  private readonly queue: Entry[] = [];
  /** Input bytes of each queued entry, and their sum. */
  private readonly sizes: number[] = [];
  private queuedBytes = 0;
  /** Bytes written to the sink. */
  written = 0;

  constructor(sink: ByteSink, onResult: (r: JobResult) => Promise<void> | void, window: Window) {
    this.sink = gatheringSink(sink, SMALL_PIECE);
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
    await this.sink.flush();
  }

  /** After a failure: waits for jobs still running so none outlives its input, writes nothing more. */
  async abandon(): Promise<void> {
    const rest = this.queue.splice(0);
    this.sizes.length = 0;
    this.queuedBytes = 0;
    this.sink.drop();
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

  /** To the sink, in order (small pieces gathered there). */
  private async write(bytes: Uint8Array, release?: () => void): Promise<void> {
    this.written += bytes.length;
    await this.sink.write(bytes, release);
  }
}
