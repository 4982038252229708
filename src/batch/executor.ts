// Where jobs run. The in-thread executor calls the engine directly; the pool (pool.ts) runs the same
// jobs on worker threads, each with its own engine built from serialisable options. Format processors
// only see this interface, so parallelism never changes what a processor does or the order of output.
import type { SourceRef } from '../model.ts';
import type { ChunkRedactor, Engine } from '../pipeline/types.ts';
import { collectWhen, rssAbove } from '../util/memory.ts';
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

/**
 * Above this resident size, the thread that runs jobs here (the main thread, with or without workers)
 * runs a full garbage collection (util/memory.ts; ~15 ms with ~25 MB live) once its heap and buffers
 * have grown by 16 MB since the last one, at most every 250 ms. V8 collects its old generation late,
 * and the later the faster a program allocates.
 * - With workers (pool.ts), this thread runs only part of the engine work and allocates less, so a
 *   job's results, waiting in the output window, outlive two young-generation collections more often
 *   (21.7 MB promoted per GiB of JSONL against 6.1 with one thread); V8 let the old generation grow to
 *   40-50 MB of mostly dead objects, and the buffers of earlier files waited on it too. 2-thread scans,
 *   peak RSS before and with it (/usr/bin/time): two 1 GiB JSONL files 267-319 MB, 237-242 (9 or 10
 *   collections); one 3 GiB file 233-280, 237-239. Six 315 MB HAR files stayed at 260-268 MB: there
 *   the growth was outside the heap, glibc keeping freed buffers (the executable fixes its mmap
 *   threshold, bin/jwt-redactor.js: 240-260 MB).
 * - With one thread, archives of many small members, where each member makes some 50 KB of
 *   short-lived objects (streams, promises, spools): a .tar.gz of 50,000 two-byte members, once its
 *   output was no longer compressed a member at a time (sinks/gzip.ts), peaked at 241-254 MB, and at
 *   235-237 MB with this (1 thread; 4.7-5.3 s without, 5.2-5.7 s with). The scans of the benches, at
 *   150-190 MB with one thread, never reach it.
 */
export const COLLECT_RSS_LIMIT = 224 * 1024 * 1024;

export function localExecutor(engine: Engine): Executor {
  const pool = new OutputPool();
  const collectIfHigh = collectWhen(rssAbove(COLLECT_RSS_LIMIT));
  return {
    parallelism: 1,
    run: (job) => {
      collectIfHigh();
      return runJob(engine, job, pool);
    },
    openStream: (source) => sessionOf(engine.createChunkRedactor(source)),
    close: () => Promise.resolve(),
  };
}
