// Worker thread entry: builds an engine from the factory spec, then runs jobs and stream sessions
// posted by the pool (pool.ts), answering each request with its id.
import { parentPort, workerData } from 'node:worker_threads';
import type { SourceRef } from '../model.ts';
import type { Engine } from '../pipeline/types.ts';
import { type EngineFactorySpec, engineFromFactory, type StreamSession, sessionOf } from './executor.ts';
import { type JobResult, runJob } from './jobs.ts';
import { type Reply, type Request, transferList } from './pool-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('worker.ts runs only as a worker thread');

const ready: Promise<Engine> = engineFromFactory((workerData as { factory: EngineFactorySpec }).factory);
ready.then(
  () => port.postMessage({ type: 'ready' } satisfies Reply),
  (err: unknown) => port.postMessage({ type: 'init-error', error: errorData(err) } satisfies Reply),
);

const sessions = new Map<number, StreamSession>();

port.on('message', (req: Request) => {
  void handle(req);
});

async function handle(req: Request): Promise<void> {
  try {
    const engine = await ready;
    let result: JobResult | undefined;
    switch (req.type) {
      case 'job':
        result = await runJob(engine, req.job);
        break;
      case 'open':
        sessions.set(req.stream, sessionOf(engine.createChunkRedactor(req.source as SourceRef)));
        break;
      case 'push':
        result = await sessions.get(req.stream)!.push(req.bytes);
        break;
      case 'end':
        result = await sessions.get(req.stream)!.end();
        sessions.delete(req.stream);
        break;
    }
    port!.postMessage(
      { type: 'result', id: req.id, result } satisfies Reply,
      result ? transferList(result) : [],
    );
  } catch (err) {
    port!.postMessage({ type: 'error', id: req.id, error: errorData(err) } satisfies Reply);
  }
}

function errorData(err: unknown): { name: string; message: string; code?: string } {
  const e = err as { name?: string; message?: string; code?: string };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(err),
    ...(e?.code ? { code: e.code } : {}),
  };
}
