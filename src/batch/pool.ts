// A pool of worker threads running jobs (executor.ts) in parallel, optionally with an engine in this
// thread taking part (which then runs every job under LOCAL_JOB_BYTES itself). With a local engine,
// workers start at the first job they could take (LOCAL_JOB_BYTES or more), in the background: jobs
// never wait for them, since the thread's own engine runs whatever no ready worker can take (all of it
// during the ~0.2-0.7 s a worker needs to load its modules and build its engine). A scan whose jobs
// are all small (small files, archives of small members) starts none: it would pay for their start
// and carry their memory, ~20 MB each, for nothing.
// A ready worker gets a job while it has fewer than WORKER_QUEUE_DEPTH queued; beyond that the job
// runs here, so this thread shares the engine work with the workers instead of stacking up queues (on
// 2 cores: this thread and one worker, not three threads fighting for two cores), unless the process
// has grown past LOCAL_RSS_LIMIT (then the job waits in a worker's queue). Without a local engine,
// each job goes to the least busy worker, ready or not.
// A stream session stays where it was opened (here when there is a local engine). Results come back
// in whatever order jobs finish; the ordered output (ordered-output.ts) restores input order.
// Job bytes move to a worker without a copy when the caller hands them over (`owned`); result bytes
// move back the same way (pool-protocol.ts).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SourceRef } from '../model.ts';
import type { Engine } from '../pipeline/types.ts';
import { ConfigError } from '../util/errors.ts';
import { collectWhen, rssAbove } from '../util/memory.ts';
import {
  COLLECT_RSS_LIMIT,
  type EngineFactorySpec,
  type Executor,
  loadFactory,
  type StreamSession,
  sessionOf,
} from './executor.ts';
import { FindingUnpacker } from './finding-pack.ts';
import { type JobResult, runJob } from './jobs.ts';
import { OutputPool } from './output-pool.ts';
import type { ErrorData, Reply, Request } from './pool-protocol.ts';

interface Pending {
  resolve: (r: JobResult) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Finding templates this worker sent (finding-pack.ts). */
  unpacker: FindingUnpacker;
  pending: Map<number, Pending>;
  ready: boolean;
  dead: Error | undefined;
  /** Requests posted, and (shared with the worker) requests it has finished. */
  sent: number;
  done: Int32Array;
}

/**
 * Young generation of a worker isolate (V8's default grows to 48 MB). A worker's objects live for one
 * job, but a job (256 KiB of HAR, 1 MiB of lines) allocates more than 4 MB: with 4, what a job still
 * held at each scavenge was promoted, and the old generation filled with that garbage up to 47-50 MB
 * before V8 collected it (in most runs), with marking work on V8's threads. With 16 the worker's old
 * generation stays at ~10 MB and its young one at 16 MB: 2-thread peaks 207-226 MiB against 220-241,
 * JSONL 1267-1292 MB/s against 1142-1199 (V8 threads 0.08 s against 0.16), HAR unchanged (1 GiB
 * JSONL, 315 MB HAR, 2 cores; 24 and 32 the same as 16, 48 slower).
 */
const WORKER_YOUNG_MB = 16;

/**
 * Jobs queued on a ready worker before this thread runs the next one itself (with a local engine).
 * While this thread runs a job, the worker works through its queue alone.
 * Line jobs (1 MiB) were held to 2 while 3 pushed 2-thread JSONL peaks over the 256 MB bound (up to
 * 269 MB); since workers write outputs over their jobs' bytes or hand their own buffers back instead
 * of copying (pool-protocol.ts), 3 peaks at 218-226 MB and runs 1211-1277 MB/s against 1153-1179
 * with 2 (1 GiB JSONL, 2 cores, 4 runs each; 4: 1186-1294, main thread idler).
 * HAR and JSON batches (256 KiB and less): 3 as well, with a wider output window (scan.ts): this
 * thread, which also splits the JSON, then runs fewer of them itself. 4 left this thread idle on HAR
 * (0.14-0.18 s, 260-272 MB/s against 268-283 with 3).
 */
const WORKER_QUEUE_DEPTH = 3;

/**
 * Jobs smaller than this run here when this thread has an engine: moving them costs more than they
 * take (a HAR's head and tail, a JSON document's small members), and each kind of job a worker
 * meets only now and then makes it compile its code again.
 */
const LOCAL_JOB_BYTES = 4096;

/**
 * Above this resident size, this thread stops running jobs itself and leaves them to the workers: a
 * last-resort valve, not a regulator. Engine work makes garbage, and this thread's heap, unlike a
 * worker's, cannot be given a smaller young generation; V8 grows it in a step or two (to ~60-90 MB of
 * heap) and it then stays grown, which stopping here does not undo. Measured on a 2-core machine
 * (1 GiB JSONL, 300 MB HAR, one worker), without any valve: peaks of 184-218 MB. The former limit of
 * 208 MB sat inside that range: it tripped on that one-off step in about one run in three, after which
 * this thread ran almost no engine work for the rest of the scan (a 2-thread scan then ran at 1.0x
 * the 1-thread speed) while the peak came out no lower (212-226 MB). 236 MB did the same once the
 * peaks reached 212-239 MB (a worker holding 3 line jobs): one 2-thread JSONL run in ten fell to
 * 682 MB/s against 1178-1284. At 244 MB it trips only if memory goes beyond anything measured, and
 * still keeps this thread's heap from growing further.
 */
const LOCAL_RSS_LIMIT = 244 * 1024 * 1024;

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

/** Threads running the engine by default: one per core, at most 8 (this thread counts as one). */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

export interface PoolOptions {
  /** An engine in this thread that runs jobs too (see above). */
  local?: Engine;
  /**
   * The findings are only counted, never written (FindingSink.countOnly): workers send those with a
   * template as its number alone, and results carry their analyses (JobResult.counted).
   */
  countOnly?: boolean;
}

/** An executor that is a worker pool. `failure` is set once a worker could not start (bad factory). */
export interface PoolExecutor extends Executor {
  readonly failure: Error | undefined;
  /**
   * Rejects when a worker could not build its engine. Workers not started (no job needed them): the
   * factory is checked here instead, as far as it can be without building an engine (its export).
   */
  check(): Promise<void>;
  /** Starts the workers now if they are not yet (benches, tests); resolves once they are ready. */
  start(): Promise<void>;
  /** Whether the workers were started. */
  readonly workersStarted: boolean;
}

/**
 * `size` worker threads, each building its engine from `factory`, plus `options.local` when given.
 * Without a local engine, resolves once every worker is ready and rejects when one cannot start; with
 * one, resolves at once (workers start with the first job they could take), and a worker that cannot
 * start sets `failure` (jobs are refused from then on) and makes `check()` reject.
 */
export async function createWorkerPool(
  factory: EngineFactorySpec,
  size: number,
  options: PoolOptions = {},
): Promise<PoolExecutor> {
  const local = options.local;
  /** Outputs of the jobs this thread runs itself. */
  const outputs = new OutputPool();
  let nextId = 1;
  let nextStream = 1;
  let failure: Error | undefined;
  const slots: Slot[] = [];

  const start = (): { slot: Slot; ready: Promise<void> } => {
    const done = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(WORKER_URL, {
      workerData: { factory, done, countOnly: options.countOnly === true },
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    const slot: Slot = {
      worker,
      unpacker: new FindingUnpacker(),
      pending: new Map(),
      ready: false,
      dead: undefined,
      sent: 0,
      done,
    };
    const fail = (err: Error) => {
      slot.dead ??= err;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: Reply) => {
        switch (msg.type) {
          case 'ready':
            slot.ready = true;
            resolve();
            return;
          case 'init-error': {
            const err = rebuildError(msg.error);
            failure ??= err;
            fail(err);
            reject(err);
            return;
          }
          case 'result': {
            const p = slot.pending.get(msg.id);
            slot.pending.delete(msg.id);
            const r = msg.result;
            if (r === undefined) {
              p?.resolve({ output: new Uint8Array(0), findings: [], notes: [] });
              return;
            }
            // Unpacked in arrival order, result or not: templates come with the first finding using them.
            let unpacked: Pick<JobResult, 'findings' | 'counted'>;
            try {
              unpacked =
                r.packed.counted === true
                  ? slot.unpacker.unpackCounted(r.packed)
                  : { findings: slot.unpacker.unpack(r.packed) };
            } catch (err) {
              p?.reject(err as Error);
              return;
            }
            p?.resolve({
              output: r.output,
              ...unpacked,
              notes: r.notes,
              ...(r.spare !== undefined ? { spare: r.spare } : {}),
            });
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
    return { slot, ready };
  };

  let started = false;
  let allReady: Promise<void> = Promise.resolve();
  const startWorkers = (): Promise<void> => {
    if (!started) {
      started = true;
      const begun = Array.from({ length: size }, start);
      for (const s of begun) slots.push(s.slot);
      allReady = Promise.all(begun.map((s) => s.ready)).then(() => undefined);
      allReady.catch(() => undefined);
    }
    return allReady;
  };
  if (local === undefined) {
    try {
      await startWorkers();
    } catch (err) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw err;
    }
  }

  // How much a worker has queued, as of now: its results may wait for this thread to read them (while
  // it runs jobs itself, it does not), so the count of unread results would make a worker that ran dry
  // look busy.
  const queued = (s: Slot): number => s.sent - Atomics.load(s.done, 0);

  /** A ready worker with room for a job (least busy first), or undefined. */
  const withRoom = (): Slot | undefined => {
    let best: Slot | undefined;
    let least = WORKER_QUEUE_DEPTH;
    for (const s of slots) {
      if (s.dead || !s.ready) continue;
      const q = queued(s);
      if (q < least) {
        best = s;
        least = q;
      }
    }
    return best;
  };

  const leastBusy = (): Slot => {
    let best = slots[0]!;
    for (const s of slots) if (!s.dead && (best.dead || s.pending.size < best.pending.size)) best = s;
    return best;
  };

  const memoryTight = rssAbove(LOCAL_RSS_LIMIT);
  // Above COLLECT_RSS_LIMIT, this thread collects before the valve above has to trip (executor.ts).
  const collectIfHigh = collectWhen(rssAbove(COLLECT_RSS_LIMIT));
  /** With a local engine: a ready worker to queue a job on when memory is tight, else undefined. */
  const overflow = (): Slot | undefined => {
    if (!memoryTight()) return undefined;
    let best: Slot | undefined;
    for (const s of slots)
      if (!s.dead && s.ready && (best === undefined || queued(s) < queued(best))) best = s;
    return best;
  };

  const send = (slot: Slot, req: Request, transfer: ArrayBuffer[] = []): Promise<JobResult> => {
    if (slot.dead) return Promise.reject(slot.dead);
    return new Promise((resolve, reject) => {
      slot.pending.set(req.id, { resolve, reject });
      slot.sent++;
      slot.worker.postMessage(req, transfer);
    });
  };

  return {
    parallelism: size + (local !== undefined ? 1 : 0),
    get failure() {
      return failure;
    },
    // Every worker ready, or the first start-up failure (a small input can be done before then).
    check: () => (started ? allReady : loadFactory(factory).then(() => undefined)),
    start: startWorkers,
    get workersStarted() {
      return started;
    },
    run(job, owned = false) {
      if (failure !== undefined) return Promise.reject(failure);
      collectIfHigh();
      if (local !== undefined && job.bytes.byteLength < LOCAL_JOB_BYTES) return runJob(local, job, outputs);
      if (!started) void startWorkers();
      const slot = withRoom() ?? (local === undefined ? leastBusy() : overflow());
      if (slot === undefined) return runJob(local!, job, outputs);
      const [bytes, transfer] = movable(job.bytes, owned);
      return send(slot, { type: 'job', id: nextId++, job: { ...job, bytes } }, transfer);
    },
    openStream(source: SourceRef): StreamSession {
      if (local !== undefined) return sessionOf(local.createChunkRedactor(source));
      const slot = leastBusy();
      const stream = nextStream++;
      const opened = send(slot, { type: 'open', id: nextId++, stream, source });
      opened.catch(() => undefined);
      return {
        push(chunk) {
          const [bytes, transfer] = movable(chunk, false);
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

/**
 * Bytes ready to move to a worker. `owned`: the caller gives the whole underlying buffer away (it keeps
 * no view of it), so it moves as it is. Otherwise the bytes are views into buffers the caller keeps
 * using (a read chunk, the next line's carry): they are copied into a buffer of their own (not
 * zero-filled first), which then moves without a second copy.
 */
function movable(bytes: Uint8Array, owned: boolean): [Uint8Array, ArrayBuffer[]] {
  if (bytes.byteLength === 0) return [bytes, []];
  if (owned && bytes.buffer instanceof ArrayBuffer && !isPooled(bytes)) return [bytes, [bytes.buffer]];
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  copy.set(bytes);
  return [copy, [copy.buffer as ArrayBuffer]];
}

/** Node's shared small-allocation pool (Buffer.from / concat under 4 KiB): never moved. */
function isPooled(bytes: Uint8Array): boolean {
  return bytes.buffer.byteLength === Buffer.poolSize && bytes.byteLength < bytes.buffer.byteLength;
}

function rebuildError(e: ErrorData): Error {
  const err = e.name === 'ConfigError' ? new ConfigError(e.message) : new Error(e.message);
  if (e.code !== undefined) Object.assign(err, { code: e.code });
  return err;
}
