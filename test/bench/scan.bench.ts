// Scan throughput and memory, end to end with output written (issue: batch scan). Generates a JSONL
// export (1 GiB) and a HAR (300 MB) in a temp folder, then, each in a child process of its own so that
// peak RSS is the run's own:
//   engine : the engine alone, single-threaded, in memory, doing exactly the work the scan asks of it:
//            an untimed in-thread scan with a recording engine notes every engine call (method, input
//            bytes, source, whether it wrote into the scan's reused output buffers) in order; those
//            calls are then replayed, timed, on a fresh engine, outputs in reused buffers likewise.
//            Whatever a scan spends beyond this is the batch side: reading, framing and splitting, HAR
//            body decoding and re-encoding, moving bytes to and from workers, ordering, findings,
//            writing.
//   scan 1 : `runScan` with --out-dir, in-thread engine
//   scan 2 : the same with a worker pool (createWorkerPool): this thread's engine and one worker's
// Each scan child builds its engines (with 2 threads, starts the pool) and scans the input with them
// once, untimed (JIT warm, as the engine replay is); then runScan is timed on the input again.
// Printed: MB/s, the scan/engine ratio (overhead target <= 30%: ratio >= 70%), peak RSS
// (target <= 256 MB) and the worker speed-up (target >= 1.7x on 2 cores) twice: over the 1-thread
// scan, which already uses part of the second core (GC helper threads, file I/O threads), and over the
// same 1-thread scan held to one core with taskset. And what the machine itself allows: two 1-thread
// scans in two processes at once (nothing shared but the hardware and the kernel), against one core,
// the ceiling for that speed-up on this work. Tokens sit in 2% of the JSONL lines and in 40% of
// the HAR entries (half of whose bodies are base64): dense on purpose.
// Run: node test/bench/scan.bench.ts   (BENCH_SCALE=0.05 for a quick run; BENCH_RUNS=3 runs each
// measurement 3 times, interleaved, and prints the median and the range; part of `npm run bench`)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  fsyncSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createWorkerPool, localExecutor, runScan } from '../../src/batch/index.ts';
import { OutputPool } from '../../src/batch/output-pool.ts';
import type { SourceRef } from '../../src/model.ts';
import { type Engine, type EngineConfig, engineFromConfig } from '../../src/pipeline/index.ts';
import type { LiteralEdit } from '../../src/redaction/index.ts';
import { enableCompileCache } from '../../src/util/compile-cache.ts';
import { humanClaims, jwsES256, jwsHS256, jwsRS256, k8sClaims, NOW } from '../helpers/tokens.ts';
import { CLI_NODE_FLAGS, cliEnv } from './cli-flags.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));
/** BENCH_VERBOSE=1: every child's figures on stderr as it ends. */
const VERBOSE = process.env.BENCH_VERBOSE === '1';
const JSONL_BYTES = Math.round(1024 ** 3 * SCALE);
const HAR_BYTES = Math.round(300 * 1024 ** 2 * SCALE);
const SELF = fileURLToPath(import.meta.url);

interface ChildResult {
  bytes: number;
  seconds: number;
  maxRssBytes: number;
  findings: number;
  /** CPU seconds over the timed span: the main thread, and the whole process. */
  mainCpu: number;
  processCpu: number;
  /** Seconds the main thread's event loop sat idle over the timed span (waiting on workers, reads, writes). */
  mainIdle: number;
  /**
   * CPU seconds over the timed span of the process's other threads by kind (Linux): V8 (GC, compiler),
   * libuv (file I/O), and the rest, which is the worker threads (ended by then, but counted in the
   * process total).
   */
  v8Cpu?: number;
  uvCpu?: number;
  workerCpu?: number;
  /** When the timed span started and ended (ms since the epoch, this process's clock). */
  startedAt: number;
  endedAt: number;
}

interface CpuMark {
  thread: NodeJS.CpuUsage;
  process: NodeJS.CpuUsage;
  loop: ReturnType<typeof performance.eventLoopUtilization>;
  kinds: { v8: number; uv: number } | undefined;
}

function cpuMark(): CpuMark {
  return {
    thread: process.threadCpuUsage(),
    process: process.cpuUsage(),
    loop: performance.eventLoopUtilization(),
    kinds: threadKinds(),
  };
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

/** CPU seconds of this process's live threads by kind, from /proc/self/task (Linux; else undefined). */
function threadKinds(): { v8: number; uv: number } | undefined {
  try {
    let v8 = 0;
    let uv = 0;
    for (const t of readdirSync('/proc/self/task')) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      } catch {
        continue; // the thread ended meanwhile
      }
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime, in clock ticks (100 per second on Linux).
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      if (name.startsWith('V8Worker')) v8 += seconds;
      else if (name.startsWith('libuv-worker')) uv += seconds;
    }
    return { v8, uv };
  } catch {
    return undefined; // Not Linux: the split by thread kind is left out.
  }
}

/** CPU spent since `m`, and (Linux) the other threads' CPU by kind. */
function cpuSince(
  m: CpuMark,
): Pick<ChildResult, 'mainCpu' | 'processCpu' | 'mainIdle' | 'v8Cpu' | 'uvCpu' | 'workerCpu'> {
  const out: Pick<ChildResult, 'mainCpu' | 'processCpu' | 'mainIdle' | 'v8Cpu' | 'uvCpu' | 'workerCpu'> = {
    mainCpu: cpuSeconds(process.threadCpuUsage(m.thread)),
    processCpu: cpuSeconds(process.cpuUsage(m.process)),
    mainIdle: performance.eventLoopUtilization(m.loop).idle / 1000,
  };
  const now = threadKinds();
  if (now !== undefined && m.kinds !== undefined) {
    out.v8Cpu = now.v8 - m.kinds.v8;
    out.uvCpu = now.uv - m.kinds.uv;
    // Tick-rounded, so a few hundredths either way; never below zero.
    out.workerCpu = Math.max(0, out.processCpu - out.mainCpu - out.v8Cpu - out.uvCpu);
  }
  return out;
}

/** The engine configuration every bench child (and the hostile-input bench) builds its engines from. */
export function engineConfig(): EngineConfig {
  return { policies: ['default'], ruleFiles: [], key: randomBytes(32), keyId: 'bench', ephemeralKey: true };
}

export async function tokens(): Promise<string[]> {
  const now = NOW();
  return [
    await jwsRS256({ ...k8sClaims(), exp: now + 3600 }),
    await jwsES256({ ...humanClaims(), exp: now + 3600 }),
    await jwsHS256({ sub: 'svc', iss: 'https://idp.example.com', exp: now - 60 }),
  ];
}

async function writeAll(
  path: string,
  produce: (write: (s: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let pending = '';
  const write = async (s: string) => {
    pending += s;
    if (pending.length < 1 << 20) return;
    const chunk = pending;
    pending = '';
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  await produce(write);
  out.end(pending);
  await new Promise<void>((r) => out.once('finish', () => r()));
}

/** The i-th line of the generated JSONL export (a token in 2 lines of 100), newline included. */
export function jsonlLine(i: number, toks: string[]): string {
  const rec: Record<string, unknown> = {
    ts: `2024-05-01T10:${String(i % 60).padStart(2, '0')}:00.${i % 1000}Z`,
    level: i % 17 === 0 ? 'warn' : 'info',
    msg: `request ${i} served`,
    path: `/api/v1/items/${i % 9973}`,
    user: `user-${i % 5003}`,
    trace: `4bf92f3577b34da6a3ce929d${(i % 65536).toString(16).padStart(8, '0')}`,
    dur_ms: i % 250,
  };
  if (i % 100 === 7) rec.authorization = `Bearer ${toks[i % toks.length]}`;
  if (i % 100 === 57) rec.url = `https://api.example.com/cb?id_token=${toks[(i + 1) % toks.length]}&state=x`;
  return `${JSON.stringify(rec)}\n`;
}

/** JSONL log export: a token in 2% of the lines, as a header or in a query string. */
export async function makeJsonl(path: string, size: number, toks: string[]): Promise<void> {
  await writeAll(path, async (write) => {
    let written = 0;
    for (let i = 0; written < size; i++) {
      const line = jsonlLine(i, toks);
      written += line.length;
      await write(line);
    }
  });
}

/** A HAR: entries with headers and cookies, about one in ten with a token, bodies partly base64. */
export async function makeHar(path: string, size: number, toks: string[]): Promise<void> {
  await writeAll(path, async (write) => {
    await write(
      '{\n  "log": {\n    "version": "1.2",\n    "creator": {"name": "bench", "version": "1"},\n    "entries": [\n',
    );
    let written = 0;
    for (let i = 0; written < size; i++) {
      const tok = toks[i % toks.length]!;
      const body = JSON.stringify({
        items: Array.from({ length: 20 }, (_, k) => ({ id: i * 20 + k, name: `item-${k}`, price: k * 1.5 })),
        ...(i % 10 === 3 ? { access_token: tok } : {}),
      });
      const entry = {
        startedDateTime: '2024-05-01T10:00:00.000Z',
        time: 12,
        request: {
          method: 'GET',
          url: `https://api.example.com/v1/items?page=${i}${i % 10 === 5 ? `&access_token=${tok}` : ''}`,
          httpVersion: 'HTTP/1.1',
          headers: [
            { name: 'Accept', value: 'application/json' },
            { name: 'User-Agent', value: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36' },
            ...(i % 10 === 1 ? [{ name: 'Authorization', value: `Bearer ${tok}` }] : []),
          ],
          queryString: [{ name: 'page', value: String(i) }],
          cookies: i % 10 === 2 ? [{ name: 'session', value: tok }] : [],
          headersSize: -1,
          bodySize: 0,
        },
        response: {
          status: 200,
          statusText: 'OK',
          httpVersion: 'HTTP/1.1',
          headers: [{ name: 'Content-Type', value: 'application/json' }],
          cookies: [],
          content:
            i % 2 === 0
              ? {
                  size: body.length,
                  mimeType: 'application/json',
                  text: Buffer.from(body).toString('base64'),
                  encoding: 'base64',
                }
              : { size: body.length, mimeType: 'application/json', text: body },
          redirectURL: '',
          headersSize: -1,
          bodySize: body.length,
        },
        cache: {},
        timings: { send: 1, wait: 10, receive: 1 },
      };
      const text = `${i === 0 ? '' : ',\n'}      ${JSON.stringify(entry)}`;
      written += text.length;
      await write(text);
    }
    await write('\n    ]\n  }\n}\n');
  });
}

/** `taskset` runs a child on one core (all its threads: GC helpers, file I/O, workers); Linux only. */
const TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** A child process, run with the CLI's node flags and environment settings (as `jwt-redactor scan` runs). */
function runChild(args: Record<string, unknown>, oneCore = false): ChildResult {
  const argv = [...CLI_NODE_FLAGS, SELF, '--child', JSON.stringify(args)];
  const options = { encoding: 'utf8', maxBuffer: 1 << 24, env: cliEnv() } as const;
  const r = oneCore
    ? spawnSync('taskset', ['-c', '0', process.execPath, ...argv], options)
    : spawnSync(process.execPath, argv, options);
  if (r.status !== 0) throw new Error(`bench child failed (${JSON.stringify(args)}):\n${r.stderr}`);
  const result = lastResult(r.stdout);
  if (VERBOSE) {
    const cpu = `main ${result.mainCpu.toFixed(2)} idle ${result.mainIdle.toFixed(2)} process ${result.processCpu.toFixed(2)} v8 ${(result.v8Cpu ?? 0).toFixed(2)} uv ${(result.uvCpu ?? 0).toFixed(2)}`;
    process.stderr.write(
      `  ${String(args.mode)} ${String(args.workers ?? 1)}t${oneCore ? ' 1 core' : ''} ${baseName(args.file)}: ${mbps(result).toFixed(0)} MB/s, peak RSS ${rssMiB(result)} MiB, ${cpu}\n`,
    );
  }
  return result;
}

/** A child's result: the last line it printed. */
const lastResult = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;

/** BENCH_VERBOSE's name for an input: its file name. */
const baseName = (file: unknown) => String(file).split('/').pop();
/** Peak RSS in MiB, for BENCH_VERBOSE. */
const rssMiB = (r: ChildResult) => (r.maxRssBytes / 2 ** 20).toFixed(0);

/**
 * Two 1-thread scan children at once, each on its own output, their timed scans started together
 * (each says when its warm-up is done, and both are then told to go): what two fully independent
 * processes get out of the machine, with nothing shared but the cores, caches, memory bandwidth and
 * the kernel's file I/O. Their combined bytes over the time from the first start to the last end.
 */
async function runPair(args: Record<string, unknown>, outs: [string, string]): Promise<PairResult> {
  const argvOf = (out: string) => [
    ...CLI_NODE_FLAGS,
    SELF,
    '--child',
    JSON.stringify({ ...args, out, barrier: true }),
  ];
  const children = outs.map((out) =>
    spawn(process.execPath, argvOf(out), { stdio: ['pipe', 'pipe', 'pipe'], env: cliEnv() }),
  );
  let ready = 0;
  const results = children.map(
    (c) =>
      new Promise<ChildResult>((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        c.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        c.stdout.on('data', (d: Buffer) => {
          const before = stdout;
          stdout += d.toString();
          if (!before.includes('ready\n') && stdout.includes('ready\n') && ++ready === children.length)
            for (const other of children) other.stdin.write('go\n');
        });
        c.on('close', (code) => {
          if (code !== 0) reject(new Error(`bench pair child failed (${JSON.stringify(args)}):\n${stderr}`));
          else resolve(lastResult(stdout));
        });
      }),
  );
  const [a, b] = (await Promise.all(results)) as [ChildResult, ChildResult];
  const start = Math.min(a.startedAt, b.startedAt);
  const end = Math.max(a.endedAt, b.endedAt);
  const overlap = Math.max(0, Math.min(a.endedAt, b.endedAt) - Math.max(a.startedAt, b.startedAt));
  const pair: PairResult = {
    bytes: a.bytes + b.bytes,
    seconds: (end - start) / 1000,
    overlap: overlap / (end - start),
    findings: [a.findings, b.findings],
  };
  if (VERBOSE) {
    const each = [a, b]
      .map((r) => `${mbps(r).toFixed(0)} MB/s (peak RSS ${rssMiB(r)} MiB, uv ${(r.uvCpu ?? 0).toFixed(2)})`)
      .join(' + ');
    process.stderr.write(
      `  pair of 1t ${baseName(args.file)}: ${mbps(pair).toFixed(0)} MB/s, overlap ${(pair.overlap * 100).toFixed(0)}%: ${each}\n`,
    );
  }
  return pair;
}

interface PairResult {
  bytes: number;
  seconds: number;
  /** Share of the span both timed scans were running. */
  overlap: number;
  findings: [number, number];
}

async function child(args: {
  mode: 'engine' | 'scan';
  file: string;
  /** An input scanned untimed first (JIT warm-up; the bench gives the input itself). */
  warm?: string;
  out?: string;
  workers?: number;
  /** Says `ready` on stdout after the warm-up and starts the timed scan on a line from stdin. */
  barrier?: boolean;
}): Promise<void> {
  const config = engineConfig();
  if (args.mode === 'engine') {
    const calls = await recordCalls(args.file, config);
    const engine = await engineFromConfig(config);
    const mark = cpuMark();
    const t0 = performance.now();
    const findings = await replay(engine, calls);
    const t1 = performance.now();
    const seconds = (t1 - t0) / 1000;
    const result: ChildResult = {
      bytes: statSync(args.file).size,
      seconds,
      startedAt: performance.timeOrigin + t0,
      endedAt: performance.timeOrigin + t1,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      findings,
      ...cpuSince(mark),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const workers = args.workers ?? 1;
  // Engines built and warm before the timer, in every thread that runs one: this thread's, and with
  // workers, the pool's (started once, kept across the warm-up and the timed scan). Worker start-up
  // (~0.2 s of CPU per worker, once per CLI run) is not throughput, and the engine replay and the
  // 1-thread scan it is compared with are warm too.
  const engine = await engineFromConfig(config);
  const pool =
    workers > 1
      ? await createWorkerPool(
          {
            module: pathToFileURL(join(SELF, '../../../src/pipeline/index.ts')).href,
            exportName: 'engineFromConfig',
            options: config,
          },
          workers - 1,
          // As `jwt-redactor scan` without --findings: findings only counted (FindingSink.countOnly).
          { local: engine, countOnly: true },
        )
      : undefined;
  await pool?.start();
  const executor = pool ?? localExecutor(engine);
  const deps = { engine, executor, stderr: { write: () => true }, isTTY: false };
  if (args.warm !== undefined) {
    const warmOut = `${args.out!}-warm`;
    await runScan({ inputs: [args.warm], outDir: warmOut }, { ...deps, findings: COUNTED });
    rmSync(warmOut, { recursive: true, force: true });
  }
  if (args.barrier) {
    process.stdout.write('ready\n');
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
    process.stdin.pause();
  }
  const mark = cpuMark();
  const started = performance.now();
  const report = await runScan({ inputs: [args.file], outDir: args.out! }, { ...deps, findings: COUNTED });
  if (report.failed) throw new Error(JSON.stringify(report.failures));
  const findings = report.findings.findings;
  const ended = performance.now();
  const result: ChildResult = {
    bytes: report.bytesRead,
    seconds: (ended - started) / 1000,
    startedAt: performance.timeOrigin + started,
    endedAt: performance.timeOrigin + ended,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    findings,
    ...cpuSince(mark),
  };
  await executor.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

type Call =
  | {
      method: 'processText' | 'processJson' | 'processLines' | 'processRecord';
      input: Uint8Array;
      source: SourceRef;
      /** The scan gave the call an output buffer (its output pool): the replay does too. */
      pooled: boolean;
      /** Literal edits the scan asked for (HAR bodies put back): the replay asks for them too. */
      edits?: LiteralEdit[];
    }
  | { method: 'open'; session: number; source: SourceRef }
  | { method: 'push'; session: number; input: Uint8Array }
  | { method: 'end'; session: number };

/**
 * The engine calls an in-thread scan of `file` makes, in order, with copies of their inputs: the scan
 * runs (no output written) with an engine that notes each call and passes it on.
 */
async function recordCalls(file: string, config: EngineConfig): Promise<Call[]> {
  const inner = await engineFromConfig(config);
  const calls: Call[] = [];
  const copy = (b: Uint8Array) => Uint8Array.prototype.slice.call(b);
  let sessions = 0;
  /** The call noted, then made: outputs go where the scan asked them to (its reused buffers). */
  const noted =
    (method: 'processText' | 'processJson' | 'processLines'): Engine[typeof method] =>
    (input, source, out) => {
      const call: Call = { method, input: copy(input), source: { ...source }, pooled: out !== undefined };
      if (out?.edits !== undefined)
        call.edits = out.edits.map((e) => ({ start: e.start, end: e.end, bytes: copy(e.bytes) }));
      calls.push(call);
      return inner[method](input, source, out);
    };
  const recording: Engine = {
    ...inner,
    processText: noted('processText'),
    processJson: noted('processJson'),
    processLines: noted('processLines'),
    processRecord: (input, source) => {
      calls.push({ method: 'processRecord', input: copy(input), source: { ...source }, pooled: false });
      return inner.processRecord(input, source);
    },
    createChunkRedactor: (source) => {
      const session = sessions++;
      calls.push({ method: 'open', session, source: { ...source } });
      const r = inner.createChunkRedactor(source);
      return {
        push: (chunk) => {
          calls.push({ method: 'push', session, input: copy(chunk) });
          return r.push(chunk);
        },
        end: () => {
          calls.push({ method: 'end', session });
          return r.end();
        },
        takeFindings: () => r.takeFindings(),
      };
    },
  };
  const report = await runScan(
    { inputs: [file] },
    { engine: recording, findings: { write: () => undefined }, stderr: { write: () => true }, isTTY: false },
  );
  if (report.failed) throw new Error(JSON.stringify(report.failures));
  return calls;
}

/** Findings as `jwt-redactor scan` without --findings treats them: counted for the summary only. */
const COUNTED = { write: () => undefined, countOnly: true } as const;

/** Runs recorded calls on `engine`; returns the number of findings. */
async function replay(engine: Engine, calls: readonly Call[]): Promise<number> {
  let findings = 0;
  // Outputs go into reused buffers, as in the scan (src/batch/output-pool.ts).
  const pool = new OutputPool();
  const out = pool.out;
  const sessions = new Map<number, ReturnType<Engine['createChunkRedactor']>>();
  for (const c of calls) {
    switch (c.method) {
      case 'open':
        sessions.set(c.session, engine.createChunkRedactor(c.source));
        break;
      case 'push':
        await sessions.get(c.session)!.push(c.input);
        findings += sessions.get(c.session)!.takeFindings().length;
        break;
      case 'end':
        await sessions.get(c.session)!.end();
        findings += sessions.get(c.session)!.takeFindings().length;
        sessions.delete(c.session);
        break;
      default: {
        const r =
          c.method === 'processRecord'
            ? await engine.processRecord(c.input, c.source)
            : await engine[c.method](
                c.input,
                c.source,
                c.pooled ? (c.edits !== undefined ? { ...out, edits: c.edits } : out) : undefined,
              );
        findings += r.findings.length;
        // As the scan does once the output is written.
        if (c.pooled && r.changed) pool.give(r.output.buffer);
      }
    }
  }
  return findings;
}

const mbps = (r: { bytes: number; seconds: number }) => r.bytes / 1e6 / r.seconds;
const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const spread = (xs: number[], digits: number) =>
  `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;

export async function runScanBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jr-scan-bench-'));
  try {
    const toks = await tokens();
    const t0 = performance.now();
    const jsonl = join(dir, 'export.jsonl');
    const har = join(dir, 'session.har');
    await makeJsonl(jsonl, JSONL_BYTES, toks);
    await makeHar(har, HAR_BYTES, toks);
    // Each scan child first scans its input once, untimed, so that the timed scan runs as warm as the
    // engine replay does (it follows an untimed recording scan of the whole input in its process).
    // With a small warm-up input instead (32-64 MB), the timed span still held ~0.6 s of compiling on
    // V8's helper threads for a 2-thread HAR scan (the worker had seen a part of a small input):
    // 2-thread HAR 162-175 -> 182-193 MB/s, JSONL 629-762 -> 868-878; one core 100 -> 104 and
    // 518 -> 560; 1 thread unchanged.
    // Written to disk now, not by the kernel's writeback in the middle of the timed scans (its
    // threads would take CPU from them on a small machine).
    for (const f of [jsonl, har]) {
      const fd = openSync(f, 'r');
      fsyncSync(fd);
      closeSync(fd);
    }
    process.stdout.write(
      `\nscan benchmark (BENCH_SCALE=${SCALE}, ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)}; inputs generated in ${((performance.now() - t0) / 1000).toFixed(1)} s${RUNS > 1 ? `; median of ${RUNS} interleaved runs, range below` : ''})\n`,
    );
    process.stdout.write(
      'input            size     engine MB/s  scan MB/s  scan/engine  peak RSS   2 workers MB/s  speed-up  peak RSS  load   1 core MB/s  speed-up\n',
    );
    const cpuRows: string[] = [];
    const ceilingRows: string[] = [];
    for (const [name, file] of [
      ['JSONL export', jsonl],
      ['HAR', har],
    ] as const) {
      const warm = file;
      const load = loadavg()[0]!;
      const engine: ChildResult[] = [];
      const one: ChildResult[] = [];
      const two: ChildResult[] = [];
      const pinned: ChildResult[] = [];
      const pair: PairResult[] = [];
      for (let run = 0; run < RUNS; run++) {
        if (TASKSET) {
          pinned.push(runChild({ mode: 'scan', file, warm, out: join(dir, `out-p-${name.length}`) }, true));
          rmSync(join(dir, `out-p-${name.length}`), { recursive: true, force: true });
        }
        engine.push(runChild({ mode: 'engine', file }));
        one.push(runChild({ mode: 'scan', file, warm, out: join(dir, `out-1-${name.length}`) }));
        rmSync(join(dir, `out-1-${name.length}`), { recursive: true, force: true });
        two.push(runChild({ mode: 'scan', file, warm, out: join(dir, `out-2-${name.length}`), workers: 2 }));
        rmSync(join(dir, `out-2-${name.length}`), { recursive: true, force: true });
        if (one[run]!.findings !== two[run]!.findings)
          throw new Error(`findings differ: 1 worker ${one[run]!.findings}, 2 workers ${two[run]!.findings}`);
        const outs: [string, string] = [join(dir, `out-a-${name.length}`), join(dir, `out-b-${name.length}`)];
        pair.push(await runPair({ mode: 'scan', file, warm }, outs));
        for (const out of outs) rmSync(out, { recursive: true, force: true });
        if (pair[run]!.findings.some((n) => n !== one[run]!.findings))
          throw new Error(`findings differ: 1 worker ${one[run]!.findings}, pair ${pair[run]!.findings}`);
      }
      // Ratios and speed-ups are taken within a run (same machine state), then the median.
      const ratio = one.map((o, i) => (mbps(o) / mbps(engine[i]!)) * 100);
      const speedUp = two.map((t, i) => mbps(t) / mbps(one[i]!));
      // The same scan with every thread of the process held to one core (taskset): "one core".
      const coreUp = pinned.map((p, i) => mbps(two[i]!) / mbps(p));
      const pinnedCols = TASKSET
        ? `  ${median(pinned.map(mbps)).toFixed(1).padStart(11)}  ${`${median(coreUp).toFixed(2)}x`.padStart(8)}`
        : '  (no taskset)';
      process.stdout.write(
        `${name.padEnd(15)}  ${mb(statSync(file).size).padStart(7)}  ${median(engine.map(mbps)).toFixed(1).padStart(11)}  ${median(one.map(mbps)).toFixed(1).padStart(9)}  ${`${median(ratio).toFixed(0)}%`.padStart(11)}  ${mb(Math.max(...one.map((o) => o.maxRssBytes))).padStart(8)}  ${median(two.map(mbps)).toFixed(1).padStart(14)}  ${`${median(speedUp).toFixed(2)}x`.padStart(8)}  ${mb(Math.max(...two.map((t) => t.maxRssBytes))).padStart(8)}  ${load.toFixed(2).padStart(4)}${pinnedCols}\n`,
      );
      // Two independent 1-thread scans at once: the machine's own ceiling for using both cores on this
      // work, against which the 2-thread scan's speed-up is to be read.
      const pairMbps = pair.map(mbps);
      const ceiling = TASKSET ? pinned.map((p, i) => pairMbps[i]! / mbps(p)) : [];
      const share = two.map((t, i) => (mbps(t) / pairMbps[i]!) * 100);
      ceilingRows.push(
        `${name.padEnd(15)}  ${median(pairMbps).toFixed(1).padStart(21)}  ${`${median(pair.map((p) => p.overlap * 100)).toFixed(0)}%`.padStart(8)}  ${TASKSET ? `${median(ceiling).toFixed(2)}x`.padStart(20) : '(no taskset)'.padStart(20)}  ${median(two.map(mbps)).toFixed(1).padStart(14)}  ${`${median(share).toFixed(0)}%`.padStart(18)}\n`,
      );
      if (RUNS > 1)
        ceilingRows.push(
          `${'  range'.padEnd(15)}  ${spread(pairMbps, 0).padStart(21)}  ${spread(
            pair.map((p) => p.overlap * 100),
            0,
          ).padStart(
            8,
          )}  ${(TASKSET ? spread(ceiling, 2) : '').padStart(20)}  ${spread(two.map(mbps), 0).padStart(14)}  ${spread(share, 0).padStart(18)}\n`,
        );
      // Where the scans' time goes (medians, CPU seconds): the engine replay's main thread, the scan's
      // main thread (engine + batch side, and how long it sat idle), and the scan's other threads.
      const sec = (xs: number[]) => median(xs).toFixed(2).padStart(9);
      for (const [label, rs] of [
        ['1 thread', one],
        ['2 threads', two],
      ] as const) {
        const v8 = rs.map((o) => o.v8Cpu ?? Number.NaN);
        const uv = rs.map((o) => o.uvCpu ?? Number.NaN);
        const wk = rs.map((o) => o.workerCpu ?? Number.NaN);
        cpuRows.push(
          `${`${name}, ${label}`.padEnd(24)}  ${sec(engine.map((e) => e.mainCpu))}  ${sec(rs.map((o) => o.seconds))}  ${sec(rs.map((o) => o.mainCpu))}  ${sec(rs.map((o) => o.mainIdle))}  ${sec(rs.map((o, i) => o.mainCpu - engine[i]!.mainCpu))}  ${sec(rs.map((o) => o.processCpu - o.mainCpu))}  ${sec(wk)}  ${sec(v8)}  ${sec(uv)}  ${sec(rs.map((o) => o.processCpu))}\n`,
        );
      }
      if (RUNS > 1) {
        process.stdout.write(
          `${'  range'.padEnd(15)}  ${''.padStart(7)}  ${spread(engine.map(mbps), 0).padStart(11)}  ${spread(one.map(mbps), 0).padStart(9)}  ${spread(ratio, 0).padStart(11)}  ${spread(
            one.map((o) => o.maxRssBytes / 1e6),
            0,
          ).padStart(
            8,
          )}  ${spread(two.map(mbps), 0).padStart(14)}  ${spread(speedUp, 2).padStart(8)}  ${spread(
            two.map((t) => t.maxRssBytes / 1e6),
            0,
          ).padStart(
            8,
          )}  ${loadavg()[0]!.toFixed(2).padStart(4)}${TASKSET ? `  ${spread(pinned.map(mbps), 0).padStart(11)}  ${spread(coreUp, 2).padStart(8)}` : ''}\n`,
        );
      }
    }
    process.stdout.write(
      '\nBoth cores without threads: two 1-thread scans in two processes at once, timed scans started together (combined MB/s over the span from the first start to the last end; overlap: share of it both ran), against the 1-thread scan on one core (the speed-up two fully independent scans get: the ceiling for the 2-thread speed-up), and the 2-thread scan as a share of the pair\n',
    );
    process.stdout.write(
      'input            2 processes, 1 thread   overlap  vs 1 core (ceiling)  2 threads MB/s  share of the pair\n',
    );
    for (const row of ceilingRows) process.stdout.write(row);
    process.stdout.write(
      '\nScans, CPU seconds over the timed span (medians): engine replay main thread; scan wall time, main thread CPU, main thread idle (event loop), main minus engine replay (batch side, and with 2 threads less the engine work the worker took), other threads, of which worker threads, V8 helper threads (GC and compiler) and libuv (file I/O); whole process\n',
    );
    process.stdout.write(
      'input, threads            engine main  scan wall  scan main  main idle  main-engine  other thr.    workers  V8 helpers  libuv I/O  process\n',
    );
    for (const row of cpuRows) process.stdout.write(row);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  // As bin/jwt-redactor.js does: worker threads load their modules through the compile cache.
  enableCompileCache();
  await child(JSON.parse(process.argv[3]!) as Parameters<typeof child>[0]);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runScanBench();
}
