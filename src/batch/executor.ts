// Where jobs run. The in-thread executor calls the engine directly; the pool (pool.ts) runs the same
// jobs on worker threads, each with its own engine built from serialisable options. Format processors
// only see this interface, so parallelism never changes what a processor does or the order of output.
import type { SourceRef } from '../model.ts';
import type { ChunkRedactor, Engine } from '../pipeline/types.ts';
import { type Job, type JobResult, runJob } from './jobs.ts';
import { OutputPool } from './output-pool.ts';

/** A text stream redacted chunk by chunk (huge lines, long JSON strings, the text after invalid JSON). */
export interface StreamSession {
  push(chunk: Uint8Array): Promise<JobResult>;
  end(): Promise<JobResult>;
}

export interface Executor {
  /** How many jobs can make progress at once (files are scanned this many at a time). */
  readonly parallelism: number;
  /**
   * Runs a job. `owned`: the caller hands `job.bytes` over with its whole underlying buffer and keeps
   * no view of it, so a worker pool may move the buffer to a worker instead of copying it.
   */
  run(job: Job, owned?: boolean): Promise<JobResult>;
  openStream(source: SourceRef): StreamSession;
  /**
   * Resolves once the executor is known to be sound, rejects with what is wrong: a worker pool whose
   * workers start in the background says here whether one could not build its engine (absent: sound).
   */
  check?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * How a worker builds its engine: `import(module)[exportName](options)`. `options` must survive
 * structured cloning, and must carry the fingerprint key: workers with different random keys would
 * give one token different fingerprints (R3).
 */
export interface EngineFactorySpec {
  /** Module URL or path (e.g. the URL of src/pipeline/index.ts). */
  module: string;
  /** Export to call; default `engineFromConfig`. */
  exportName?: string;
  options: unknown;
}

type EngineFactory = (options: unknown) => Engine | Promise<Engine>;

/** The factory function `spec` names; rejects when its module does not load or has no such export. */
export async function loadFactory(spec: EngineFactorySpec): Promise<EngineFactory> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const name = spec.exportName ?? 'engineFromConfig';
  const factory = mod[name];
  if (typeof factory !== 'function') throw new Error(`${spec.module} has no function export ${name}`);
  return factory as EngineFactory;
}

export async function engineFromFactory(spec: EngineFactorySpec): Promise<Engine> {
  return (await loadFactory(spec))(spec.options);
}

/** A chunk redactor as a session. Calls may overlap (the caller queues them); they run one at a time, in order. */
export function sessionOf(redactor: ChunkRedactor): StreamSession {
  let last: Promise<unknown> = Promise.resolve();
  const serial = (step: () => Promise<Uint8Array>): Promise<JobResult> => {
    const next = last.then(async () => {
      const output = await step();
      return { output, findings: redactor.takeFindings(), notes: [] };
    });
    last = next.catch(() => undefined);
    return next;
  };
  return {
    push: (chunk) => serial(() => redactor.push(chunk)),
    end: () => serial(() => redactor.end()),
  };
}

export function localExecutor(engine: Engine): Executor {
  const pool = new OutputPool();
  return {
    parallelism: 1,
    run: (job) => runJob(engine, job, pool),
    openStream: (source) => sessionOf(engine.createChunkRedactor(source)),
    close: () => Promise.resolve(),
  };
}
