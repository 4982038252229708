// Worker thread entry: builds an engine from the factory spec, then runs jobs and stream sessions
// posted by the pool (pool.ts), answering each request with its id.
import { parentPort, workerData } from 'node:worker_threads';
import type { SourceRef } from '../model.ts';
import type { Engine } from '../pipeline/types.ts';
import { type EngineFactorySpec, engineFromFactory, type StreamSession, sessionOf } from './executor.ts';
import { FindingPacker } from './finding-pack.ts';
import { type JobResult, runJob } from './jobs.ts';
import { OutputPool } from './output-pool.ts';
import { type Reply, type Request, transferList, type WireResult } from './pool-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('worker.ts runs only as a worker thread');

const data = workerData as { factory: EngineFactorySpec; done: Int32Array; countOnly: boolean };
const ready: Promise<Engine> = engineFromFactory(data.factory);
ready.then(
  () => port.postMessage({ type: 'ready' } satisfies Reply),
  (err: unknown) => port.postMessage({ type: 'init-error', error: errorData(err) } satisfies Reply),
);

const sessions = new Map<number, StreamSession>();
const packer = new FindingPacker();
/**
 * A job's redacted output is written over its own bytes when it fits (text and lines), else into one
 * of these, which then goes back in the job buffer's place, or is copied into the job's buffer when
 * this pool cannot take that one in (below).
 */
const outputs = new OutputPool();

port.on('message', (req: Request) => {
  void handle(req);
});

async function handle(req: Request): Promise<void> {
  try {
    const engine = await ready;
    let result: JobResult | undefined;
    switch (req.type) {
      case 'job':
        result = await runJob(engine, { ...req.job, bytes: asBuffer(req.job.bytes) }, outputs, true);
        break;
      case 'open':
        sessions.set(req.stream, sessionOf(engine.createChunkRedactor(req.source as SourceRef)));
        break;
      case 'push':
        result = await sessions.get(req.stream)!.push(asBuffer(req.bytes));
        break;
      case 'end':
        result = await sessions.get(req.stream)!.end();
        sessions.delete(req.stream);
        break;
    }
    // A job's bytes arrived in a buffer of their own that nothing here keeps: the result may move it
    // back. (Not a stream push: the chunk redactor holds on to the tail of what it was given.)
    const input = req.type === 'job' ? req.job.bytes.buffer : undefined;
    const wire: WireResult | undefined =
      result === undefined
        ? undefined
        : {
            output: result.output,
            packed: packer.pack(result.findings, data.countOnly),
            notes: result.notes,
          };
    // An output in one of this worker's buffers goes as it is, and the job's buffer, nothing here
    // reading it any more, takes that one's place here (no copy of the output into it). The pool's
    // thread then reuses the output's buffer as it would have the job's (jobs.ts reclaim).
    const given =
      result?.release !== undefined &&
      input !== undefined &&
      result.output.buffer !== input &&
      outputs.adopt(input);
    port!.postMessage(
      { type: 'result', id: req.id, result: wire } satisfies Reply,
      wire ? transferList(wire, input, given) : [],
    );
    // The output was copied into the job's buffer, or moved (then detached: the pool ignores it).
    result?.release?.();
  } catch (err) {
    port!.postMessage({ type: 'error', id: req.id, error: errorData(err) } satisfies Reply);
  }
  // Read by the pool without waiting for it to take the reply (pool.ts).
  Atomics.add(data.done, 0, 1);
}

/**
 * Bytes arrive as a plain Uint8Array (a Buffer does not survive structured cloning). The engine gets
 * what it gets in the calling thread, a Buffer over the same memory: Uint8Array#indexOf is V8's
 * element-by-element search, Buffer#indexOf is memchr, and the engine looks for line ends a lot.
 */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function errorData(err: unknown): { name: string; message: string; code?: string } {
  const e = err as { name?: string; message?: string; code?: string };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(err),
    ...(e?.code ? { code: e.code } : {}),
  };
}
