// `jwt-redactor scan`: plans the inputs, runs each through content processing (content.ts) with its
// output sink, collects findings, failures and notes, draws progress and writes the summary.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createSummaryAccumulator, renderSummary } from '../findings/summary.ts';
import type { AnyFinding, ErrorFinding, SourceRef } from '../model.ts';
import type { Engine } from '../pipeline/types.ts';
import { type ByteSink, nullSink, writableSink } from '../sinks/byte-sink.ts';
import { openAtomicFile, openOutputFile, prepareOutputRoot, resolveOutputFile } from '../sinks/file.ts';
import {
  describeFsError,
  errnoCode,
  type PlannedInput,
  planInputs,
  readFileChunks,
  readStreamChunks,
} from '../sources/files.ts';
import { createBudget } from '../sources/limits.ts';
import { ConfigError, ProcessingError } from '../util/errors.ts';
import { type ContentRun, processContent, type Where } from './content.ts';
import { type Executor, engineFromFactory, localExecutor } from './executor.ts';
import { sizesFor } from './format-context.ts';
import { maskName } from './names.ts';
import { checkOptions, resolveLimits, type ScanDeps, type ScanOptions } from './options.ts';
import { createWorkerPool, defaultWorkerCount } from './pool.ts';
import { createProgress, formatBytes } from './progress.ts';
import { type ScanFailure, type ScanNote, type ScanReport, severityAtLeast } from './report.ts';

const DEFAULT_RECORD_BYTES = 1024 * 1024;
const MAX_LISTED = 1000;
/**
 * Inputs are scanned as many at a time as the executor has threads, but one at least this large (or
 * of unknown size) keeps every thread busy alone (its jobs go to all of them), so it is scanned
 * while no other such input is: two at once doubled what the scan holds in flight (two output
 * windows, two JSON splitters, two write queues) for no gain in speed. A folder of six 315 MB HAR
 * files (2 threads) peaked at 243-257 MB (median 251, 11 runs) two at a time, and at 235-254 MB
 * (median 237, 17 runs) one at a time, which also ran 6-15% faster (6 interleaved pairs).
 */
const LARGE_INPUT_BYTES = 16 * 1024 * 1024;

export async function runScan(options: ScanOptions, deps: ScanDeps): Promise<ScanReport> {
  checkOptions(options, deps);
  const now = deps.now ?? Date.now;
  const started = now();
  const limits = resolveLimits(options.limits);
  const outRoot = options.outDir !== undefined ? await prepareOutputRoot(options.outDir) : undefined;
  const plan = await planInputs(options.inputs, {
    exclude: outRoot !== undefined ? [outRoot] : [],
    followSymlinks: options.followSymlinks === true,
  });
  if (options.out !== undefined && plan.inputs.some((i) => i.outSegments.length > 1)) {
    throw new ConfigError(`--out takes one file, but ${options.inputs[0]} is a folder; use --out-dir`, {
      field: '--out',
    });
  }

  const failures: ScanFailure[] = [];
  const notes: ScanNote[] = [];
  let failuresTotal = 0;
  let notesTotal = 0;
  const summary = createSummaryAccumulator();
  const counted = { files: 0, archives: 0, bytesScanned: 0 };
  let bytesRead = 0;

  const sinkFindings = async (findings: readonly AnyFinding[]) => {
    for (const f of findings) {
      summary.add(f);
      // Awaited only when the sink gives something to wait for (no promise per finding otherwise).
      const written = deps.findings.write(f);
      if (written !== undefined) await written;
    }
  };
  const failure = (where: Where, err: unknown) => {
    const f = describeFailure(where, err);
    failuresTotal++;
    if (failures.length < MAX_LISTED) failures.push(f);
    const finding = failureFinding(where, f);
    summary.add(finding);
    void Promise.resolve(deps.findings.write(finding)).catch(() => undefined);
  };
  const note = (where: Where, message: string) => {
    notesTotal++;
    if (notes.length < MAX_LISTED)
      notes.push({
        name: where.name,
        ...(where.member !== undefined ? { member: where.member } : {}),
        message,
      });
  };
  for (const f of plan.failures) {
    failure({ kind: 'file', name: maskName(f.name) }, new ProcessingError(f.code, maskName(f.reason)));
  }

  const tempDir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'jwt-redactor-'));
  const progress = createProgress(
    deps.stderr,
    options.progress !== false && deps.isTTY,
    {
      bytes: plan.inputs.some((i) => i.size === undefined)
        ? undefined
        : plan.inputs.reduce((n, i) => n + (i.size ?? 0), 0),
      files: plan.inputs.length,
    },
    now,
  );
  let executor: Executor | undefined;
  try {
    executor = deps.executor ?? (await createExecutor(options, deps));
    const recordBytes = options.recordBytes ?? engineRecordBytes(deps.engine) ?? DEFAULT_RECORD_BYTES;
    const run: ContentRun = {
      executor,
      sizes: sizesFor(recordBytes, options.blockBytes),
      inputFormat: options.inputFormat ?? 'auto',
      limits,
      tempDir,
      spoolMemoryBytes: options.spoolMemoryBytes ?? 8 * 1024 * 1024,
      // Entries in flight in a content's ordered output (ordered-output.ts), and their input bytes.
      // The bytes bound memory: 1 MiB line jobs stop at 6 in flight with 2 threads (10 of them peaked
      // a 2-thread JSONL scan at 232-269 MB, over the 256 MB bound). HAR batches (256 KiB) stop at the
      // entry count: 10 of them with 2 threads, and a worker holding up to 3 (pool.ts), left this
      // thread less idle (164-174 against 153-160 MB/s on a 300 MB HAR, peak 196-199 MB).
      window: { entries: executor.parallelism * 4 + 2, bytes: (executor.parallelism * 2 + 2) * 1024 * 1024 },
      onResult: (r) => {
        if (r.counted !== undefined) for (const a of r.counted) summary.add(a);
        return sinkFindings(r.findings);
      },
      failure,
      note,
      counted,
    };

    const scanOne = async (input: PlannedInput) => {
      const where: Where = { kind: input.kind, name: maskName(input.name) };
      let read = 0;
      const onBytes = (n: number) => {
        read += n;
        bytesRead += n;
        progress.bytes(n);
      };
      let sink: (ByteSink & { commit?: () => Promise<void>; abort?: () => Promise<void> }) | undefined;
      try {
        sink = await openSink(input, options, outRoot, deps);
        const chunks =
          input.kind === 'stdin'
            ? readStreamChunks(deps.stdin ?? (process.stdin as AsyncIterable<Uint8Array>), onBytes)
            : readFileChunks(input.path, onBytes);
        await processContent(
          run,
          {
            where,
            leafName: input.kind === 'stdin' ? '' : basename(input.path),
            depth: 0,
            budget: createBudget(limits),
            ...(input.size !== undefined
              ? {
                  file: {
                    path: input.path,
                    size: input.size,
                    reading: { counted: () => read, add: onBytes },
                  },
                }
              : {}),
          },
          chunks,
          sink,
        );
        await sink.end();
        await sink.commit?.();
      } catch (err) {
        await sink?.abort?.().catch(() => undefined);
        failure(where, err);
      }
      if (input.size !== undefined && input.size > read) bytesRead += input.size - read;
      progress.fileDone(read, input.size);
    };

    // Lanes, as many as the executor has threads, each taking the first queued input it may: a small
    // one, or a large one while no other large one is being scanned (LARGE_INPUT_BYTES). A lane that
    // finds only large inputs left while one is scanned ends: the lane scanning it takes them next.
    const queue = [...plan.inputs];
    let largeRunning = false;
    const isLarge = (i: PlannedInput) => i.size === undefined || i.size >= LARGE_INPUT_BYTES;
    const take = (): PlannedInput | undefined => {
      const at = queue.findIndex((i) => !largeRunning || !isLarge(i));
      return at < 0 ? undefined : queue.splice(at, 1)[0];
    };
    await Promise.all(
      Array.from({ length: Math.min(executor.parallelism, Math.max(1, queue.length)) }, async () => {
        for (let next = take(); next !== undefined; next = take()) {
          const large = isLarge(next);
          if (large) largeRunning = true;
          try {
            await scanOne(next);
          } finally {
            if (large) largeRunning = false;
          }
        }
      }),
    );
    // A worker that could not build its engine (the factory fails there): the run is misconfigured,
    // even if this thread's engine did all the work meanwhile.
    await executor.check?.();
  } finally {
    progress.stop();
    if (deps.executor === undefined) await executor?.close();
    await rm(tempDir, { recursive: true, force: true });
  }

  const findings = summary.result();
  const report: ScanReport = {
    inputs: plan.inputs.length + plan.failures.length,
    files: counted.files,
    archives: counted.archives,
    bytesRead,
    bytesScanned: counted.bytesScanned,
    durationMs: now() - started,
    findings,
    ...(findings.highest !== undefined ? { maxSeverity: findings.highest } : {}),
    failOnReached:
      options.failOn !== undefined &&
      findings.highest !== undefined &&
      severityAtLeast(findings.highest, options.failOn),
    failures,
    failuresTotal,
    skipped: plan.skipped.map((s) => ({ name: maskName(s.name), message: s.reason })),
    notes,
    notesTotal,
    failed: failuresTotal > 0,
  };
  deps.stderr.write(renderScanSummary(report, options));
  return report;
}

/**
 * `workers` threads run the engine: this one and `workers - 1` worker threads, which start in the
 * background while this thread already works (pool.ts). This thread's engine is `deps.engine`, or one
 * built from the factory, which also checks the factory before any input is read.
 */
async function createExecutor(options: ScanOptions, deps: ScanDeps): Promise<Executor> {
  const factory = options.engineFactory;
  const workers = options.workers ?? (factory !== undefined ? defaultWorkerCount() : 1);
  const local = deps.engine ?? (await engineFromFactory(factory!));
  if (factory !== undefined && workers > 1)
    return createWorkerPool(factory, workers - 1, { local, countOnly: deps.findings.countOnly === true });
  return localExecutor(local);
}

/** The policy's max_record_bytes, when the engine is the full one (src/pipeline) and says so. */
function engineRecordBytes(engine: Engine | undefined): number | undefined {
  const limits = (engine as { policy?: { limits?: { maxRecordBytes?: unknown } } } | undefined)?.policy
    ?.limits;
  return typeof limits?.maxRecordBytes === 'number' ? limits.maxRecordBytes : undefined;
}

async function openSink(
  input: PlannedInput,
  options: ScanOptions,
  outRoot: string | undefined,
  deps: ScanDeps,
): Promise<ByteSink & { commit?: () => Promise<void>; abort?: () => Promise<void> }> {
  if (outRoot !== undefined)
    return openAtomicFile(await resolveOutputFile(outRoot, input.outSegments.map(maskName)), input.mode);
  if (options.out === '-')
    return writableSink((deps.stdout ?? process.stdout) as import('node:stream').Writable, true);
  if (options.out !== undefined) return openOutputFile(resolve(options.out), input.mode);
  return nullSink();
}

function describeFailure(where: Where, err: unknown): ScanFailure {
  const base = { name: where.name, ...(where.member !== undefined ? { member: where.member } : {}) };
  if (err instanceof ProcessingError) return { ...base, code: err.code, reason: maskName(err.message) };
  const errno = (err as NodeJS.ErrnoException)?.code;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
    return {
      ...base,
      code: errnoCode(err),
      reason: maskName(describeFsError(err, (err as NodeJS.ErrnoException).path ?? where.name)),
    };
  }
  return { ...base, code: 'ERR_INTERNAL', reason: maskName((err as Error)?.message ?? String(err)) };
}

function failureFinding(where: Where, f: ScanFailure): ErrorFinding {
  const source: SourceRef = { kind: where.kind, name: where.name };
  if (where.member !== undefined) source.member = where.member;
  return {
    schema: 'jwt-redactor/finding@1',
    id: randomUUID(),
    time: new Date().toISOString(),
    rule: 'processing-error',
    severity: 'high',
    source,
    error: { code: f.code, reason: f.reason },
    action: 'skip',
  };
}

/** Terminal control characters in file names must not reach the operator's terminal. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

function label(x: { name: string; member?: string }): string {
  return printable(x.member === undefined ? x.name : `${x.name}!/${x.member}`);
}

export function renderScanSummary(report: ScanReport, options: Pick<ScanOptions, 'out' | 'outDir'>): string {
  const seconds = report.durationMs / 1000;
  const rate = seconds > 0 ? ` (${formatBytes(report.bytesScanned / seconds)}/s)` : '';
  const lines = [
    `jwt-redactor scan: ${report.inputs} input${report.inputs === 1 ? '' : 's'}, ${report.files} file${report.files === 1 ? '' : 's'} scanned` +
      (report.archives > 0
        ? ` (${report.archives} archive layer${report.archives === 1 ? '' : 's'} opened)`
        : '') +
      `, ${formatBytes(report.bytesRead)} read, ${formatBytes(report.bytesScanned)} scanned in ${seconds.toFixed(1)} s${rate}`,
  ];
  let text = `${lines.join('\n')}\n${renderSummary(report.findings)}`;
  const more: string[] = [];
  if (report.failuresTotal > 0) {
    more.push(`failed: ${report.failuresTotal} (no redacted copy written for these)`);
    for (const f of report.failures.slice(0, 20))
      more.push(`  ${label(f)}: ${printable(f.reason)} [${f.code}]`);
    if (report.failuresTotal > 20)
      more.push(`  ... and ${report.failuresTotal - 20} more (in the findings output)`);
  }
  if (report.notesTotal > 0) {
    more.push(`notes: ${report.notesTotal}`);
    for (const n of report.notes.slice(0, 10)) more.push(`  ${label(n)}: ${printable(n.message)}`);
    if (report.notesTotal > 10) more.push(`  ... and ${report.notesTotal - 10} more`);
  }
  if (report.skipped.length > 0) {
    more.push(`skipped: ${report.skipped.length}`);
    for (const s of report.skipped.slice(0, 10)) more.push(`  ${label(s)}: ${printable(s.message)}`);
    if (report.skipped.length > 10) more.push(`  ... and ${report.skipped.length - 10} more`);
  }
  if (options.outDir !== undefined) more.push(`redacted copies: ${printable(options.outDir)}`);
  else if (options.out !== undefined && options.out !== '-')
    more.push(`redacted copy: ${printable(options.out)}`);
  else if (options.out === undefined) more.push('no redacted copies written (give --out or --out-dir)');
  if (more.length > 0) text += `${more.join('\n')}\n`;
  return text;
}
