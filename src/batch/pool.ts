// A pool of worker threads running jobs (executor.ts) in parallel. Each job goes to the least busy
// worker; a stream session stays on the worker that holds its chunk redactor. Results come back in
// whatever order workers finish; the ordered output (ordered-output.ts) restores input order.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SourceRef } from '../model.ts';
import { ConfigError } from '../util/errors.ts';
import type { EngineFactorySpec, Executor, StreamSession } from './executor.ts';
import type { JobResult } from './jobs.ts';
import type { ErrorData, Reply, Request } from './pool-protocol.ts';

interface Pending {
  resolve: (r: JobResult) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  dead: Error | undefined;
}

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

export async function createWorkerPool(factory: EngineFactorySpec, size: number): Promise<Executor> {
  let nextId = 1;
  let nextStream = 1;
  const slots: Slot[] = [];

  const start = (): Promise<Slot> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { workerData: { factory } });
      const slot: Slot = { worker, pending: new Map(), dead: undefined };
      const fail = (err: Error) => {
        slot.dead ??= err;
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
      };
      worker.on('message', (msg: Reply) => {
        switch (msg.type) {
          case 'ready':
            resolve(slot);
            return;
          case 'init-error':
            reject(rebuildError(msg.error));
            return;
          case 'result': {
            const p = slot.pending.get(msg.id);
            slot.pending.delete(msg.id);
            p?.resolve(msg.result ?? { output: new Uint8Array(0), findings: [], notes: [] });
            return;
          }
          case 'error': {
            const p = slot.pending.get(msg.id);
            slot.pending.delete(msg.id);
            p?.reject(rebuildError(msg.error));
            return;
          }
        }
      });
      worker.on('error', (err) => {
        fail(err);
        reject(err);
      });
      worker.on('exit', (code) => {
        fail(new Error(`engine worker exited (code ${code})`));
        reject(new Error(`engine worker exited during start-up (code ${code})`));
      });
    });

  try {
    for (const s of await Promise.all(Array.from({ length: size }, start))) slots.push(s);
  } catch (err) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw err;
  }

  const leastBusy = (): Slot => {
    let best = slots[0]!;
    for (const s of slots) if (!s.dead && (best.dead || s.pending.size < best.pending.size)) best = s;
    return best;
  };

  const send = (slot: Slot, req: Request, transfer: ArrayBuffer[] = []): Promise<JobResult> => {
    if (slot.dead) return Promise.reject(slot.dead);
    return new Promise((resolve, reject) => {
      slot.pending.set(req.id, { resolve, reject });
      slot.worker.postMessage(req, transfer);
    });
  };

  // Job bytes are views into buffers the caller keeps using (a chunk, the next line's carry): they are
  // copied into a buffer of their own, which then moves to the worker without a second copy.
  const withBytes = <T extends { bytes: Uint8Array }>(x: T): [T, ArrayBuffer[]] => {
    const bytes = new Uint8Array(x.bytes.byteLength);
    bytes.set(x.bytes);
    return [{ ...x, bytes }, bytes.byteLength > 0 ? [bytes.buffer] : []];
  };

  return {
    parallelism: size,
    run(job) {
      const [j, transfer] = withBytes(job);
      return send(leastBusy(), { type: 'job', id: nextId++, job: j }, transfer);
    },
    openStream(source: SourceRef): StreamSession {
      const slot = leastBusy();
      const stream = nextStream++;
      const opened = send(slot, { type: 'open', id: nextId++, stream, source });
      opened.catch(() => undefined);
      return {
        push(chunk) {
          const [{ bytes }, transfer] = withBytes({ bytes: chunk });
          return send(slot, { type: 'push', id: nextId++, stream, bytes }, transfer);
        },
        end: () => send(slot, { type: 'end', id: nextId++, stream }),
      };
    },
    async close() {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

function rebuildError(e: ErrorData): Error {
  const err = e.name === 'ConfigError' ? new ConfigError(e.message) : new Error(e.message);
  if (e.code !== undefined) Object.assign(err, { code: e.code });
  return err;
}
