// Hostile JSON structure, end to end (runScan, one thread, output and findings written): documents
// nested far deeper than any real one, with tokens at the bottom, a text sequence of a million tiny
// values, a member name longer than any pointer, each at two sizes. A linear scan
// takes twice as long on twice the input ("x2 input" near 2.0); before pointers were bounded and the
// splitter stopped looking for its first unsplit level from the top, 650 KB nested 100,000 deep ran
// out of memory after 54 s, and 1.2 MB nested 600,000 deep took 22 s; before small top-level values
// were batched and small writes gathered, 99 MB of `{} ` took 159 s and 2.7 GB. Baseline, measured in the same
// run: the same tokens in a shallow document of the same size. Then archives of tens of thousands of
// two-byte members (zip and .tar.gz, written as archives): before zips were written here and read
// through windows, 50,000 members took 47 s and 344 MB, and before a .tar.gz's output reached zlib in
// 64 KiB pieces, 40,000 took 13.7 s (3.6 s after). No baseline: their size is their headers.
// Run: node test/bench/hostile.bench.ts
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { runScan } from '../../src/batch/index.ts';
import { createFindingWriter } from '../../src/findings/index.ts';
import { engineFromConfig } from '../../src/pipeline/index.ts';
import { memorySink } from '../../src/sinks/byte-sink.ts';
import { createSpool } from '../../src/sinks/spool.ts';
import { createZipWriter } from '../../src/sinks/zip.ts';
import { engineConfig, tokens } from './scan.bench.ts';

interface Case {
  name: (n: number) => string;
  /** The document for a size parameter n (the larger case is 2n). */
  make: (n: number, token: string) => string;
  /** The baseline document for n; default: the document's tokens in a shallow document of its size. */
  shallow?: (n: number) => string;
  n: number;
}

const CASES: Case[] = [
  {
    // Within one record (max_record_bytes): one walk gives every token its pointer.
    name: (n) => `nested ${n} deep, ${n / 250} tokens at the bottom`,
    make: (n, t) =>
      `${'['.repeat(n)}${Array(n / 250)
        .fill(JSON.stringify(t))
        .join(',')}${']'.repeat(n)}`,
    n: 80_000,
  },
  {
    // Larger than a record: the splitter opens level after level, then stops JSON mode.
    name: (n) => `nested ${n} deep, 10 tokens at the bottom`,
    make: (n, t) => `${'['.repeat(n)}${Array(10).fill(JSON.stringify(t)).join(',')}${']'.repeat(n)}`,
    n: 600_000,
  },
  {
    // A JSON text sequence of tiny values: batched by the splitter, not a job each.
    name: (n) => `text sequence of ${n} {}`,
    make: (n) => '{} '.repeat(n),
    // Baseline: the same values as the members of one array (batched as any array's are).
    shallow: (n) => `[${'{},'.repeat(n - 1)}{}]`,
    n: 1_000_000,
  },
  {
    // A member name longer than any pointer, over thousands of tokens (batched by the splitter).
    name: (n) => `${n}-byte member name over ${n / 250} tokens`,
    make: (n, t) =>
      `{"${'k'.repeat(n)}":[${Array(n / 250)
        .fill(JSON.stringify(t))
        .join(',')}]}`,
    n: 400_000,
  },
];

/** The same tokens, as many as in `doc`, in a shallow document of about its size. */
function shallow(doc: string, token: string): string {
  const count = doc.split(token).length - 1;
  const pad = Math.max(0, Math.floor((doc.length - count * (token.length + 20)) / Math.max(1, count)));
  const items = Array.from(
    { length: count },
    (_, i) => `{"i":${i},"t":${JSON.stringify(token)},"p":"${'x'.repeat(pad)}"}`,
  );
  return `[${items.join(',')}]`;
}

async function seconds(
  path: string,
  out: string,
  engine: Awaited<ReturnType<typeof engineFromConfig>>,
): Promise<number> {
  // Formatted as the CLI formats them, then dropped.
  const writer = createFindingWriter('native', { write: () => undefined });
  const t0 = performance.now();
  const report = await runScan(
    { inputs: [path], out, progress: false },
    { engine, findings: { write: (f) => writer.write(f) }, stderr: { write: () => true }, isTTY: false },
  );
  await writer.end();
  const s = (performance.now() - t0) / 1000;
  if (report.failed) throw new Error(JSON.stringify(report.failures));
  return s;
}

/** A zip of `n` stored two-byte members. */
async function manyZip(n: number, dir: string): Promise<Buffer> {
  const out = memorySink();
  const zip = createZipWriter(out);
  for (let i = 0; i < n; i++) {
    const spool = createSpool(dir, 1024);
    await spool.write(Buffer.from(`${i % 10}\n`));
    await spool.end();
    await zip.addFile(`logs/f${i}.txt`, spool, { mtime: new Date(0), compress: false });
  }
  await zip.finish();
  return out.bytes();
}

/** A .tar.gz of `n` two-byte members. */
async function manyTarGz(n: number): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (let i = 0; i < n; i++) pack.entry({ name: `logs/f${i}.txt`, mtime: new Date(0) }, `${i % 10}\n`);
  pack.finalize();
  await collected;
  return gzipSync(Buffer.concat(chunks));
}

export async function runHostileBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jr-hostile-bench-'));
  try {
    const [token] = await tokens();
    const engine = await engineFromConfig(engineConfig());
    console.log(
      '\nhostile JSON structure and archives (runScan, 1 thread, output and native findings written; best of 4, archives best of 2)',
    );
    console.log(
      `${'input'.padEnd(44)}  ${'size'.padStart(8)}  ${'MB/s'.padStart(7)}  ${'shallow MB/s'.padStart(12)}  x2 input`,
    );
    for (const c of CASES) {
      let previous: number | undefined;
      for (const n of [c.n, 2 * c.n]) {
        const doc = c.make(n, token!);
        const path = join(dir, 'doc.json');
        const base = join(dir, 'shallow.json');
        writeFileSync(path, doc);
        writeFileSync(base, c.shallow?.(n) ?? shallow(doc, token!));
        const best = async (p: string) => {
          let s = Number.POSITIVE_INFINITY;
          for (let r = 0; r < 4; r++) s = Math.min(s, await seconds(p, join(dir, 'out.json'), engine));
          return s;
        };
        await best(base); // warm-up
        const hostile = await best(path);
        const baseline = await best(base);
        const mb = statSync(path).size / 1e6;
        const ratio = previous === undefined ? '' : `${(hostile / previous).toFixed(2)}x`;
        console.log(
          `${c.name(n).padEnd(44)}  ${`${mb.toFixed(2)} MB`.padStart(8)}  ${(mb / hostile).toFixed(1).padStart(7)}  ${(statSync(base).size / 1e6 / baseline).toFixed(1).padStart(12)}  ${ratio}`,
        );
        previous = hostile;
      }
    }
    for (const kind of ['zip', 'tar.gz'] as const) {
      let previous: number | undefined;
      for (const n of [20_000, 40_000]) {
        const path = join(dir, `many.${kind}`);
        writeFileSync(path, kind === 'zip' ? await manyZip(n, dir) : await manyTarGz(n));
        let s = Number.POSITIVE_INFINITY;
        for (let r = 0; r < 2; r++) s = Math.min(s, await seconds(path, join(dir, `out.${kind}`), engine));
        const mb = statSync(path).size / 1e6;
        const ratio = previous === undefined ? '' : `${(s / previous).toFixed(2)}x`;
        console.log(
          `${`${kind} of ${n} two-byte members`.padEnd(44)}  ${`${mb.toFixed(2)} MB`.padStart(8)}  ${(mb / s).toFixed(1).padStart(7)}  ${'-'.padStart(12)}  ${ratio}  (${s.toFixed(1)} s)`,
        );
        previous = s;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runHostileBench();
