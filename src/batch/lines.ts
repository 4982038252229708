// Line-oriented content: plain text and JSONL. Complete lines are batched into jobs of about
// blockBytes (text: one processText call with the first line's number; JSONL: one processLines call).
// A line longer than a block never sits in memory whole: text goes through a chunk redactor, a JSONL
// line through the streaming JSON processor, both with that line's number.
//
// Blocks are cut greedily on the byte stream (each ends at the last line end within blockBytes of its
// start), so how the input happens to be chunked never changes them. A block inside one chunk is a
// view of it, not a copy; only a block that straddles chunks is assembled, in a buffer of its own that
// a worker pool can then take over without copying again.

import { open } from 'node:fs/promises';
import { countNewlines } from '../util/lines.ts';
import type { StreamSession } from './executor.ts';
import type { FormatContext, FormatProcessor } from './format-context.ts';
import { reclaim } from './jobs.ts';
import { jsonDocumentProcessor } from './json-document.ts';
import { SIZE_CLASS_STEP } from './output-pool.ts';

const LF = 0x0a;
/** Free block buffers kept for reuse by a file read in place. */
const MAX_FREE_BLOCKS = 8;

export interface LineProcessor extends FormatProcessor {
  /** No long line is being streamed. */
  readonly between: boolean;
  /**
   * `bytes` (complete lines, at most a block) is exactly the next block; between blocks, nothing
   * carried. `bytes` has a buffer of its own, handed over; `reuse` gets it back once it is free again
   * (the job is done, and its output written when that is a view of it).
   */
  block(bytes: Uint8Array, reuse: (buffer: ArrayBuffer) => void): Promise<void>;
  /** Forgets the bytes carried after the last block (between long lines only); returns how many. */
  dropCarry(): number;
}

export function lineProcessor(ctx: FormatContext, mode: 'text' | 'jsonl'): LineProcessor {
  const { executor, output, sizes } = ctx;
  const block = sizes.blockBytes;
  /** Bytes after the last block, fewer than `block`: views of earlier chunks, in order. */
  let carry: Uint8Array[] = [];
  let carryBytes = 0;
  /** Number of the first line in `carry` (or of the long line being streamed). */
  let line = 1;
  let longText: StreamSession | undefined;
  let longJson: FormatProcessor | undefined;

  /** `owned`: `bytes` has a buffer of its own that nothing else here keeps. */
  const submit = async (
    bytes: Uint8Array,
    owned: boolean,
    reuse?: (buffer: ArrayBuffer) => void,
  ): Promise<void> => {
    const source = { ...ctx.source, line };
    // Counted first: a worker pool may take the buffer over.
    line += countNewlines(bytes);
    const buffer = bytes.buffer as ArrayBuffer;
    // Measured before a worker pool takes the bytes over (a moved buffer reads as empty).
    const size = bytes.byteLength;
    const job = executor.run({ op: mode, bytes, source }, owned);
    await output.job(reuse === undefined ? job : job.then((r) => reclaim(r, buffer, reuse)), size);
  };

  const startLong = (): void => {
    if (mode === 'text') longText = executor.openStream({ ...ctx.source, line });
    else longJson = jsonDocumentProcessor(ctx, { har: false, line });
  };

  /** Feeds the long line from `buf[at]`; returns where the next line starts, or buf.length. */
  const feedLong = async (buf: Uint8Array, at: number): Promise<number> => {
    const nl = buf.indexOf(LF, at);
    const piece = buf.subarray(at, nl < 0 ? buf.length : nl + 1);
    if (longText) await output.job(longText.push(piece));
    else await longJson!.push(piece);
    if (nl < 0) return buf.length;
    if (longText) await output.job(longText.end());
    else await longJson!.end();
    longText = undefined;
    longJson = undefined;
    line++;
    return nl + 1;
  };

  const takeCarry = (): Uint8Array => {
    const joined = carry.length === 1 ? carry[0]! : Buffer.concat(carry, carryBytes);
    carry = [];
    carryBytes = 0;
    return joined;
  };

  const keep = (bytes: Uint8Array): void => {
    if (bytes.length === 0) return;
    carry.push(bytes);
    carryBytes += bytes.length;
  };

  return {
    get between() {
      return longText === undefined && longJson === undefined;
    },
    block(bytes, reuse) {
      return submit(bytes, true, reuse);
    },
    dropCarry() {
      const n = carryBytes;
      carry = [];
      carryBytes = 0;
      return n;
    },
    async push(chunk) {
      let at = 0;
      while (at < chunk.length) {
        if (longText || longJson) {
          at = await feedLong(chunk, at);
          continue;
        }
        if (carryBytes === 0) {
          if (chunk.length - at < block) break;
          const nl = chunk.lastIndexOf(LF, at + block - 1);
          if (nl >= at) {
            await submit(chunk.subarray(at, nl + 1), false);
            at = nl + 1;
          } else {
            startLong();
          }
          continue;
        }
        // The next block starts in the carry and takes `need` more bytes: decided once they are here.
        const need = block - carryBytes;
        if (chunk.length - at < need) break;
        const nl = chunk.lastIndexOf(LF, at + need - 1);
        if (nl >= at) {
          const bytes = Buffer.concat([...carry, chunk.subarray(at, nl + 1)], carryBytes + nl + 1 - at);
          carry = [];
          carryBytes = 0;
          await submit(bytes, true);
          at = nl + 1;
          continue;
        }
        // No line end in the chunk's part of the block: the block ends inside the carry, or a long
        // line starts there.
        const held = takeCarry();
        const end = held.lastIndexOf(LF);
        if (end >= 0) {
          await submit(held.subarray(0, end + 1), false);
          keep(held.subarray(end + 1));
        } else {
          startLong();
          await feedLong(held, 0);
        }
      }
      keep(chunk.subarray(at));
    },
    async end() {
      if (longText) await output.job(longText.end());
      else if (longJson) await longJson.end();
      else if (carryBytes > 0) {
        const owned = carry.length > 1;
        await submit(takeCarry(), owned);
      }
    },
  };
}

/** A file read in place; `counted()`: bytes already counted as read (by a stream that was closed). */
export interface FileInPlace {
  path: string;
  reading?: { counted(): number; add(n: number): void };
}

/**
 * A plain file, read in place one block at a time: each read starts where the previous block ended
 * and takes `blockBytes`; the block is what precedes the last line end, so it is the same block the
 * stream framing would cut, in a buffer of its own, never copied (a worker pool takes it over as it
 * is). The bytes after that line end are read again as the start of the next block (less than a
 * line, as a rule). Long lines and the end of the file go through the stream framing.
 */
export async function readLinesInPlace(
  processor: LineProcessor,
  blockBytes: number,
  file: FileInPlace,
  scanned: (n: number) => void,
): Promise<void> {
  const handle = await open(file.path, 'r');
  // Block buffers are reused once free (see `block`): reading a file allocates a handful of them, not
  // one per block, so that neither memory nor the collector's work grows with the file.
  const free: ArrayBuffer[] = [];
  // A block's buffer, or one a worker gave back in its place (an output buffer, up to a 64 KiB size
  // class larger: output-pool.ts, pool-protocol.ts): big enough for a block, and not much more.
  const reuse = (buffer: ArrayBuffer) => {
    const size = buffer.byteLength;
    if (size >= blockBytes && size < blockBytes + SIZE_CLASS_STEP && free.length < MAX_FREE_BLOCKS)
      free.push(buffer);
  };
  /** A read in flight: the next block is read while this one is processed. */
  let ahead: Promise<{ at: number; data: Buffer }> | undefined;
  const readAt = (at: number) => {
    const reused = free.pop();
    const buf = reused !== undefined ? Buffer.from(reused) : Buffer.allocUnsafeSlow(blockBytes);
    return handle.read(buf, 0, blockBytes, at).then((r) => ({ at, data: buf.subarray(0, r.bytesRead) }));
  };
  try {
    let pos = 0;
    /** Bytes consumed so far (counted as scanned, and as read for progress). */
    let furthest = 0;
    let reported = file.reading?.counted() ?? 0;
    const advance = (to: number) => {
      if (to <= furthest) return;
      scanned(to - furthest);
      furthest = to;
      if (file.reading !== undefined && to > reported) {
        file.reading.add(to - reported);
        reported = to;
      }
    };
    for (;;) {
      if (processor.between) pos -= processor.dropCarry();
      const next = ahead !== undefined ? await ahead : await readAt(pos);
      ahead = undefined;
      const { data } = next;
      if (next.at !== pos) throw new Error(`read-ahead at ${next.at}, wanted ${pos}`);
      if (data.length === 0) break;
      if (processor.between && data.length === blockBytes) {
        const nl = data.lastIndexOf(LF);
        if (nl >= 0) {
          advance(pos + nl + 1);
          pos += nl + 1;
          ahead = readAt(pos);
          await processor.block(data.subarray(0, nl + 1), reuse);
          continue;
        }
      }
      advance(pos + data.length);
      await processor.push(data);
      pos += data.length;
      // A short read is the end of the file: what is carried now is its last line.
      if (data.length < blockBytes) break;
    }
    await processor.end();
  } finally {
    await ahead?.catch(() => undefined);
    await handle.close();
  }
}
