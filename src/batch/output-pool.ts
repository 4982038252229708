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
// (`give`) once its bytes have been written out; only buffers this pool made or adopted (a worker's
// job buffers, `adopt`), not detached (a buffer moved to another thread has size 0), and not already
// free, are kept, each in the class its size rounds up to.

import type { OutputOptions } from '../pipeline/types.ts';

/** Size classes are multiples of this. */
export const SIZE_CLASS_STEP = 64 * 1024;
/** Larger outputs get a buffer of their own, not pooled. */
const MAX_POOLED = 4 * 1024 * 1024;
/** How far short of its class's size a buffer `adopt` takes in may be. */
const ADOPT_SLACK = 1024;
/** Free buffers kept per size class. */
const MAX_FREE = 8;

/** The size class of `n` bytes: the multiple of SIZE_CLASS_STEP it rounds up to. */
function classOf(n: number): number {
  return Math.ceil(n / SIZE_CLASS_STEP) * SIZE_CLASS_STEP;
}

export class OutputPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly made = new WeakSet<ArrayBuffer>();

  /** `n` bytes (a view of exactly `n`), to be written in full by the caller. */
  readonly take = (n: number): Buffer => {
    if (n === 0 || n > MAX_POOLED) return Buffer.allocUnsafe(n);
    const size = classOf(n);
    let buffer = this.takeFree(size, n);
    if (buffer === undefined) {
      buffer = new ArrayBuffer(size);
      this.made.add(buffer);
    }
    return Buffer.from(buffer, 0, n);
  };

  /**
   * A free buffer of class `size` holding at least `n` bytes (an adopted one may hold less than its
   * class).
   */
  private takeFree(size: number, n: number): ArrayBuffer | undefined {
    const list = this.free.get(size);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const b = list[i]!;
      if (b.byteLength >= n) {
        list[i] = list[list.length - 1]!;
        list.pop();
        return b;
      }
    }
    return undefined;
  }

  /** The engine's output options that write into this pool's buffers. */
  readonly out: OutputOptions = { alloc: this.take };

  /** The same, for input the caller may overwrite (OutputOptions.inPlace): a worker's job. */
  readonly overwrite: OutputOptions = { alloc: this.take, inPlace: true };

  /** True when `buffer` is one of this pool's (handed out or free). */
  owns(buffer: ArrayBufferLike): boolean {
    return buffer instanceof ArrayBuffer && this.made.has(buffer);
  }

  /**
   * Takes in a buffer made elsewhere (a worker's job buffer, kept in exchange for an output buffer it
   * gave away), as one of its own, free, in the class its size rounds up to (a line job's buffer is
   * 2 bytes short of 1 MiB: `take` checks that a buffer holds what is asked), when that class has room.
   */
  adopt(buffer: ArrayBufferLike): boolean {
    if (!(buffer instanceof ArrayBuffer)) return false;
    if (buffer.byteLength === 0 || buffer.byteLength > MAX_POOLED) return false;
    const size = classOf(buffer.byteLength);
    // Nearly its class's size, or it would take a free slot of the class and serve few outputs.
    if (size - buffer.byteLength > ADOPT_SLACK) return false;
    const list = this.free.get(size) ?? [];
    if (list.length >= MAX_FREE || this.made.has(buffer)) return false;
    this.made.add(buffer);
    list.push(buffer);
    this.free.set(size, list);
    return true;
  }

  /** `buffer` is free again: nothing reads its bytes any more. */
  give(buffer: ArrayBufferLike): void {
    if (!this.owns(buffer) || buffer.byteLength === 0) return;
    const size = classOf(buffer.byteLength);
    let list = this.free.get(size);
    if (list === undefined) {
      list = [];
      this.free.set(size, list);
    }
    if (list.length < MAX_FREE && !list.includes(buffer as ArrayBuffer)) list.push(buffer as ArrayBuffer);
  }
}
