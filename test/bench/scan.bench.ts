// Scan throughput and memory, end to end with output written (issue: batch scan). Generates a JSONL
// export (1 GiB) and a HAR (300 MB) in a temp folder, then, each in a child process of its own so that
// peak RSS is the run's own:
//   engine : the engine alone on the same bytes (processText over 256 KiB blocks, no output), the floor
//   scan 1 : `runScan` with --out-dir, in-thread engine
//   scan 2 : the same with 2 worker threads (engineFactory)
// and prints MB/s, the scan/engine ratio (overhead target <= 30%: ratio >= 70%), peak RSS (target
// <= 256 MB) and the worker speed-up (target >= 1.7x on 2 cores). Tokens sit in 2% of the JSONL lines
// and in 40% of the HAR entries (half of whose bodies are base64): dense on purpose.
// Run: node test/bench/scan.bench.ts   (BENCH_SCALE=0.05 for a quick run; part of `npm run bench`)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JsonSplitter, runScan } from '../../src/batch/index.ts';
import { type EngineConfig, engineFromConfig } from '../../src/pipeline/index.ts';
import { humanClaims, jwsES256, jwsHS256, jwsRS256, k8sClaims, NOW } from '../helpers/tokens.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const JSONL_BYTES = Math.round(1024 ** 3 * SCALE);
const HAR_BYTES = Math.round(300 * 1024 ** 2 * SCALE);
const SELF = fileURLToPath(import.meta.url);

interface ChildResult {
  bytes: number;
  seconds: number;
  maxRssBytes: number;
  findings: number;
}

function engineConfig(): EngineConfig {
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

/** JSONL log export: one token in about 1% of the lines, as a header, a query string or a field. */
export async function makeJsonl(path: string, size: number, toks: string[]): Promise<void> {
  await writeAll(path, async (write) => {
    let written = 0;
    for (let i = 0; written < size; i++) {
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
      if (i % 100 === 57)
        rec.url = `https://api.example.com/cb?id_token=${toks[(i + 1) % toks.length]}&state=x`;
      const line = `${JSON.stringify(rec)}\n`;
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

function runChild(args: Record<string, unknown>): ChildResult {
  const r = spawnSync(process.execPath, [SELF, '--child', JSON.stringify(args)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`bench child failed (${JSON.stringify(args)}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

async function child(args: {
  mode: 'engine' | 'scan';
  file: string;
  out?: string;
  workers?: number;
}): Promise<void> {
  const started = performance.now();
  let bytes = 0;
  let findings = 0;
  if (args.mode === 'engine') {
    // The engine alone on the same bytes, cut beforehand (untimed) and held in memory: what is left
    // of a scan's time beyond this is the batch side (I/O, framing, splitting, HAR bodies, JSONL
    // pointers, ordering, output).
    const engine = await engineFromConfig(engineConfig());
    const { units, json } = await cut(args.file);
    const t0 = performance.now();
    for (const u of units) {
      const r = json
        ? await engine.processJson(u, { kind: 'file', name: args.file })
        : await engine.processText(u, { kind: 'file', name: args.file });
      findings += r.findings.length;
      bytes += u.length - (json ? 2 : 0);
    }
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(
      `${JSON.stringify({ bytes: statSync(args.file).size, seconds: (seconds * statSync(args.file).size) / bytes, maxRssBytes: process.resourceUsage().maxRSS * 1024, findings })}\n`,
    );
    return;
  } else {
    const workers = args.workers ?? 1;
    const config = engineConfig();
    const report = await runScan(
      {
        inputs: [args.file],
        outDir: args.out!,
        ...(workers > 1
          ? {
              workers,
              engineFactory: {
                module: pathToFileURL(join(SELF, '../../../src/pipeline/index.ts')).href,
                exportName: 'engineFromConfig',
                options: config,
              },
            }
          : {}),
      },
      {
        ...(workers > 1 ? {} : { engine: await engineFromConfig(config) }),
        findings: { write: () => void findings++ },
        stderr: { write: () => true },
        isTTY: false,
      },
    );
    if (report.failed) throw new Error(JSON.stringify(report.failures));
    bytes = report.bytesRead;
  }
  const seconds = (performance.now() - started) / 1000;
  const result: ChildResult = {
    bytes,
    seconds,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    findings,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** JSONL: 256 KiB blocks of whole lines. HAR: the splitter's batches of entries, wrapped as JSON arrays. */
async function cut(file: string): Promise<{ units: Uint8Array[]; json: boolean }> {
  const data = readFileSync(file);
  const units: Uint8Array[] = [];
  if (!file.endsWith('.har')) {
    for (let at = 0; at < data.length; ) {
      const nl = data.lastIndexOf(0x0a, Math.min(data.length - 1, at + 256 * 1024 - 1));
      const end = nl >= at ? nl + 1 : data.length;
      units.push(data.subarray(at, end));
      at = end;
    }
    return { units, json: false };
  }
  const ignore = () => undefined;
  const spine = new Set(['', '/log', '/log/entries']);
  const splitter = new JsonSplitter(
    {
      verbatim: ignore,
      unit: (u) =>
        units.push(
          u.kind === 'value'
            ? u.bytes
            : Buffer.concat([
                Buffer.from(u.kind === 'array' ? '[' : '{'),
                u.bytes,
                Buffer.from(u.kind === 'array' ? ']' : '}'),
              ]),
        ),
      longStringStart: ignore,
      longStringChunk: ignore,
      longStringEnd: ignore,
      invalid: ignore,
      rest: ignore,
    },
    { unitBytes: 1024 * 1024 - 64 * 1024 - 2, blockBytes: 256 * 1024, alwaysSplit: (p) => spine.has(p) },
  );
  for (let at = 0; at < data.length; at += 64 * 1024) splitter.push(data.subarray(at, at + 64 * 1024));
  splitter.end();
  return { units, json: true };
}

const mbps = (r: ChildResult) => r.bytes / 1e6 / r.seconds;
const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;

export async function runScanBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jr-scan-bench-'));
  try {
    const toks = await tokens();
    const t0 = performance.now();
    const jsonl = join(dir, 'export.jsonl');
    const har = join(dir, 'session.har');
    await makeJsonl(jsonl, JSONL_BYTES, toks);
    await makeHar(har, HAR_BYTES, toks);
    process.stdout.write(
      `\nscan benchmark (BENCH_SCALE=${SCALE}, ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)}; inputs generated in ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
    );
    process.stdout.write(
      'input            size     engine MB/s  scan MB/s  scan/engine  peak RSS   2 workers MB/s  speed-up  peak RSS\n',
    );
    for (const [name, file] of [
      ['JSONL export', jsonl],
      ['HAR', har],
    ] as const) {
      const engine = runChild({ mode: 'engine', file });
      const one = runChild({ mode: 'scan', file, out: join(dir, `out-1-${name.length}`) });
      rmSync(join(dir, `out-1-${name.length}`), { recursive: true, force: true });
      const two = runChild({ mode: 'scan', file, out: join(dir, `out-2-${name.length}`), workers: 2 });
      rmSync(join(dir, `out-2-${name.length}`), { recursive: true, force: true });
      if (one.findings !== two.findings)
        throw new Error(`findings differ: 1 worker ${one.findings}, 2 workers ${two.findings}`);
      process.stdout.write(
        `${name.padEnd(15)}  ${mb(statSync(file).size).padStart(7)}  ${mbps(engine).toFixed(1).padStart(11)}  ${mbps(one).toFixed(1).padStart(9)}  ${`${((mbps(one) / mbps(engine)) * 100).toFixed(0)}%`.padStart(11)}  ${mb(one.maxRssBytes).padStart(8)}  ${mbps(two).toFixed(1).padStart(14)}  ${`${(mbps(two) / mbps(one)).toFixed(2)}x`.padStart(8)}  ${mb(two.maxRssBytes).padStart(8)}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(JSON.parse(process.argv[3]!) as Parameters<typeof child>[0]);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runScanBench();
}
