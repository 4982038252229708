// Puts results back in input order. Processors submit verbatim bytes and job results (promises) as
// they cut the input; this queue writes them to the sink, and hands their findings on, strictly in
// submission order, while up to `window.entries` entries, and up to `window.bytes` of their inputs,
// are in flight (one entry may be larger alone). The window is the backpressure: a processor that
// submits waits for the oldest entry once the window is full.
import type { ByteSink } from '../sinks/byte-sink.ts';
import type { JobResult } from './jobs.ts';

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
      this.written += bytes.length;
      await this.sink.write(bytes);
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
  }

  /** After a failure: waits for jobs still running so none outlives its input, writes nothing more. */
  async abandon(): Promise<void> {
    const rest = this.queue.splice(0);
    this.sizes.length = 0;
    this.queuedBytes = 0;
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
      this.written += entry.length;
      await this.sink.write(entry);
      return;
    }
    const r = await entry;
    await this.onResult(r);
    if (r.output.length > 0) {
      this.written += r.output.length;
      await this.sink.write(r.output, r.release);
    } else {
      r.release?.();
    }
  }
}
