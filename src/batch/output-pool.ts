// Output buffers reused from job to job. A changed job's output used to be a new buffer each time
// (the engine's redacted bytes, a HAR batch put back together): over a scan, the size of the output.
// Each new buffer counts, for V8, as external memory allocated since its last full collection; once
// the heap is small and the young generation has grown (long scans), that allowance is a few MB and
// the main thread did a mark-compact every ~50 ms (35 in a 1 GiB JSONL scan). Reused buffers are
// allocated once: the external memory stays flat.
//
// A buffer handed out is a view of exactly the bytes asked for, over a pooled buffer of a size class
// (64 KiB steps): whoever takes it writes every one of its bytes (the engine does, see
// OutputOptions), so what a previous job left in the buffer is never part of an output. It comes back
// (`give`) once its bytes have been written out; only buffers this pool made, of their class's
// size (a buffer moved to another thread is detached: size 0), and not already free, are kept.

import type { OutputOptions } from '../pipeline/types.ts';

/** Size classes are multiples of this. */
const STEP = 64 * 1024;
/** Larger outputs get a buffer of their own, not pooled. */
const MAX_POOLED = 4 * 1024 * 1024;
/** Free buffers kept per size class. */
const MAX_FREE = 8;

export class OutputPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly made = new WeakSet<ArrayBuffer>();

  /** `n` bytes (a view of exactly `n`), to be written in full by the caller. */
  readonly take = (n: number): Buffer => {
    if (n === 0 || n > MAX_POOLED) return Buffer.allocUnsafe(n);
    const size = Math.ceil(n / STEP) * STEP;
    let buffer = this.free.get(size)?.pop();
    if (buffer === undefined) {
      buffer = new ArrayBuffer(size);
      this.made.add(buffer);
    }
    return Buffer.from(buffer, 0, n);
  };

  /** The engine's output options that write into this pool's buffers. */
  readonly out: OutputOptions = { alloc: this.take };

  /** The same, for input the caller may overwrite (OutputOptions.inPlace): a worker's job. */
  readonly overwrite: OutputOptions = { alloc: this.take, inPlace: true };

  /** True when `buffer` is one of this pool's (handed out or free). */
  owns(buffer: ArrayBufferLike): boolean {
    return buffer instanceof ArrayBuffer && this.made.has(buffer);
  }

  /** `buffer` is free again: nothing reads its bytes any more. */
  give(buffer: ArrayBufferLike): void {
    if (!this.owns(buffer) || buffer.byteLength === 0) return;
    const size = buffer.byteLength;
    let list = this.free.get(size);
    if (list === undefined) {
      list = [];
      this.free.set(size, list);
    }
    if (list.length < MAX_FREE && !list.includes(buffer as ArrayBuffer)) list.push(buffer as ArrayBuffer);
  }
}
