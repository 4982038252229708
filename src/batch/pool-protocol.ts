// Messages between the pool and its workers, and the transfer rule for byte buffers.
import type { SourceRef } from '../model.ts';
import type { PackedFindings } from './finding-pack.ts';
import type { Job } from './jobs.ts';

export type Request =
  | { type: 'job'; id: number; job: Job }
  | { type: 'open'; id: number; stream: number; source: SourceRef }
  | { type: 'push'; id: number; stream: number; bytes: Uint8Array }
  | { type: 'end'; id: number; stream: number };

export type Reply =
  | { type: 'ready' }
  | { type: 'init-error'; error: ErrorData }
  | { type: 'result'; id: number; result: WireResult | undefined }
  | { type: 'error'; id: number; error: ErrorData };

/** A JobResult on its way back: findings packed (finding-pack.ts), bytes moved (below). */
export interface WireResult {
  output: Uint8Array;
  packed: PackedFindings;
  notes: string[];
  spare?: ArrayBuffer;
}

export interface ErrorData {
  name: string;
  message: string;
  code?: string;
}

/**
 * Result bytes that can move instead of being copied: a view into `input` (the job's own bytes, which
 * were moved or copied to this worker and are referenced by nothing else once the result is posted),
 * or a view covering its whole, non-shared ArrayBuffer (the worker drops its references once the
 * result is posted). A view into a larger buffer (Node's small-allocation pool, a slice) is copied,
 * since moving it would detach bytes that other views still use.
 *
 * A new output that fits is copied into `input` instead, and goes back in it: the pool keeps reusing
 * its buffers, while every new buffer it receives counts, for its garbage collector, as memory just
 * allocated there (a full collection every 64 MB or so of them).
 */
function ownedBytes(bytes: Uint8Array, input: ArrayBufferLike | undefined): Uint8Array {
  if (input !== undefined && bytes.buffer === input && input instanceof ArrayBuffer) return bytes;
  if (input instanceof ArrayBuffer && bytes.byteLength <= input.byteLength && bytes.byteLength > 0) {
    const into = new Uint8Array(input, 0, bytes.byteLength);
    into.set(bytes);
    return into;
  }
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
  ) {
    return bytes;
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/**
 * `input`: the buffer of the request's bytes, owned by this worker. It goes back with the result
 * (`spare`, or as the output's buffer when the output is a view of it): the pool reuses it.
 * `given`: instead, the output is in a buffer of this worker's that it gives away (its output pool
 * kept the job's buffer in exchange): that buffer moves as it is, the output a view of it, with no
 * copy, and the pool reuses it in place of the job's.
 */
export function transferList(result: WireResult, input?: ArrayBufferLike, given = false): ArrayBuffer[] {
  if (given && result.output.buffer instanceof ArrayBuffer) return [result.output.buffer];
  result.output = ownedBytes(result.output, input);
  const list = result.output.byteLength > 0 ? [result.output.buffer as ArrayBuffer] : [];
  if (input instanceof ArrayBuffer && input.byteLength > 0) {
    result.spare = input;
    if (input !== result.output.buffer) list.push(input);
  }
  return list;
}
