// Messages between the pool and its workers, and the transfer rule for byte buffers.
import type { SourceRef } from '../model.ts';
import type { Job, JobResult } from './jobs.ts';

export type Request =
  | { type: 'job'; id: number; job: Job }
  | { type: 'open'; id: number; stream: number; source: SourceRef }
  | { type: 'push'; id: number; stream: number; bytes: Uint8Array }
  | { type: 'end'; id: number; stream: number };

export type Reply =
  | { type: 'ready' }
  | { type: 'init-error'; error: ErrorData }
  | { type: 'result'; id: number; result: JobResult | undefined }
  | { type: 'error'; id: number; error: ErrorData };

export interface ErrorData {
  name: string;
  message: string;
  code?: string;
}

/**
 * Result bytes that can move instead of being copied: a view covering its whole, non-shared
 * ArrayBuffer (the worker drops its references once the result is posted). A view into a larger
 * buffer (Node's small-allocation pool, a slice) is copied, since moving it would detach bytes that
 * other views still use.
 */
function ownedBytes(bytes: Uint8Array): Uint8Array {
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

export function transferList(result: JobResult): ArrayBuffer[] {
  result.output = ownedBytes(result.output);
  return result.output.byteLength > 0 ? [result.output.buffer as ArrayBuffer] : [];
}
