// What a format processor needs: where jobs run, where results go, the source it reports, sizes.
import type { SourceRef } from '../model.ts';
import type { Executor } from './executor.ts';
import type { OrderedOutput } from './ordered-output.ts';

export interface Sizes {
  /** Largest record the engine accepts (its policy's max_record_bytes). Every job stays within it. */
  recordBytes: number;
  /** Target size of a job of lines (a block). */
  blockBytes: number;
  /**
   * Target size of a batch of JSON members (HAR entries, the elements of a big array): at most a
   * block, and 256 KiB. The engine's structural pass over a batch makes garbage in proportion to it.
   * Measured on a 300 MB HAR once outputs went into reused buffers (output-pool.ts), 256 KiB against
   * 128 KiB: 1 thread 128-136 vs 121-125 MB/s, peak RSS 159-167 vs 184-192 MB (V8's helper threads
   * 0.22-0.24 vs 0.37-0.42 s of CPU); 2 threads 155-174 vs 138-157 MB/s, 194-204 vs 206-219 MB.
   * (Before that, 128 KiB had taken the 1-thread peak from ~210 to ~175 MB.) 512 KiB: 2 threads
   * 156-177 MB/s at 222-230 MB.
   */
  batchBytes: number;
  /** Most bytes of one JSON value held before it is split into members. */
  unitBytes: number;
  /** Largest piece fed to the JSON splitter at once (keeps held values within recordBytes). */
  pushBytes: number;
}

/**
 * A job of lines, by default: 1 MiB (within the record limit). Each job costs a read, a message each
 * way to a worker, findings packed and unpacked, an ordered write; at 256 KiB (4096 jobs per GiB) that
 * was ~0.3 s of a 2-thread 1 GiB JSONL scan. Measured on 2 cores (engines warm): 705 -> 801-855 MB/s
 * with 2 threads, 572 -> 632 MB/s held to one core, peak RSS unchanged (204-229 MB with 2 threads).
 */
const DEFAULT_BLOCK_BYTES = 1024 * 1024;

export function sizesFor(recordBytes: number, blockBytes?: number): Sizes {
  const pushBytes = Math.max(256, Math.min(64 * 1024, recordBytes >> 3));
  const block = Math.max(64, Math.min(blockBytes ?? DEFAULT_BLOCK_BYTES, recordBytes - 2));
  return {
    recordBytes,
    blockBytes: block,
    batchBytes: Math.min(block, 256 * 1024),
    unitBytes: Math.max(64, recordBytes - pushBytes - 2),
    pushBytes,
  };
}

export interface FormatContext {
  executor: Executor;
  output: OrderedOutput;
  /** kind, name and member of the content; processors add line and pointer. */
  source: SourceRef;
  sizes: Sizes;
  /** Something the user should know about this content (shown once per content). */
  note(message: string): void;
}

export interface FormatProcessor {
  push(chunk: Uint8Array): Promise<void>;
  end(): Promise<void>;
}
