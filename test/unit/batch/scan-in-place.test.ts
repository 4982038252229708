// A file on disk is read in place (lines: one block per read, the bytes after its last line end read
// again; JSON and HAR: two reused buffers), not through a stream. Whatever the content, block size or
// record size, that must give exactly what the stream framing gives for the same bytes from stdin, in
// any chunking: the same output, the same findings with the same lines and pointers, the same counts.
// And with worker threads: the same again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScanOptions } from '../../../src/batch/index.ts';
import { createWorkerPool } from '../../../src/batch/pool.ts';
import type { AnyFinding } from '../../../src/model.ts';
import { createEngineDouble, fakeToken } from './engine-double.ts';
import { ENGINE_DOUBLE_URL, scan, scanStdin, tempDir } from './helpers.ts';

const TOKENS = [fakeToken({ sub: 'a' }), fakeToken({ sub: 'b', x: 'y' })];
const factory = { module: ENGINE_DOUBLE_URL, exportName: 'createEngineDouble', options: {} };

const where = (f: AnyFinding) =>
  `${f.source.line}|${f.source.pointer}|${'token' in f ? f.token.fingerprint : f.rule}`;

async function fromFile(
  dir: string,
  name: string,
  input: Buffer,
  options: Partial<ScanOptions>,
  extra: Parameters<typeof scan>[1] = {},
) {
  const path = join(dir, name);
  writeFileSync(path, input);
  const outPath = join(dir, `out-${name}`);
  const r = await scan({ inputs: [path], out: outPath, ...options }, extra);
  const { readFileSync } = await import('node:fs');
  return { output: readFileSync(outPath), findings: r.findings, report: r.report };
}

const piece = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('\n', '\r\n', ' ', '"', '{"k":"', '"}', 'w'.repeat(1500), 'v'.repeat(300), ...TOKENS),
  fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('latin1')),
);

describe('a file read in place', () => {
  it('gives what stdin gives, for text and JSONL of any shape, any block and any chunking', async () => {
    const dir = tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 300 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom(1024, 2048, 8192),
        fc.constantFrom(64, 512, 1000, 4096),
        fc.constantFrom('text', 'jsonl') as fc.Arbitrary<'text' | 'jsonl'>,
        async (pieces, chunk, recordBytes, blockBytes, inputFormat) => {
          const input = Buffer.from(pieces.join(''), 'latin1');
          const options = { recordBytes, blockBytes, inputFormat };
          const a = await scanStdin(input, chunk, options);
          const b = await fromFile(dir, `f${n++}.log`, input, options);
          expect(b.output.toString('latin1')).toBe(a.output.toString('latin1'));
          expect(b.findings.map(where)).toEqual(a.findings.map(where));
          expect(b.report.bytesRead).toBe(input.length);
          expect(b.report.bytesScanned).toBe(input.length);
          expect(b.report.failed).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);

  it('gives what stdin gives for JSON and HAR, broken ones included', async () => {
    const dir = tempDir();
    let n = 0;
    const entry = fc.record({
      request: fc.record({ url: fc.constantFrom('https://x/', `https://x/?t=${TOKENS[0]}`) }),
      response: fc.record({
        content: fc.oneof(
          fc.record({ text: fc.constantFrom('ok', TOKENS[1]!) }),
          fc
            .constantFrom(`{"a":"${TOKENS[0]}"}`, 'plain', `x ${TOKENS[1]} y`)
            .map((t) => ({ text: Buffer.from(t).toString('base64'), encoding: 'base64' })),
        ),
      }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(entry, { maxLength: 40 }),
        fc.constantFrom(0, 2),
        fc.boolean(),
        fc.integer({ min: 16, max: 3000 }),
        fc.constantFrom(2048, 8192),
        async (entries, space, broken, chunk, recordBytes) => {
          let text = JSON.stringify({ log: { version: '1.2', entries } }, null, space);
          if (broken) text = `${text.slice(0, Math.floor(text.length / 2))} ]]} ${TOKENS[0]} tail`;
          const input = Buffer.from(text);
          for (const inputFormat of ['har', 'json'] as const) {
            const options = { recordBytes, blockBytes: 1024, inputFormat };
            const a = await scanStdin(input, chunk, options);
            const b = await fromFile(dir, `f${n++}.json`, input, options);
            expect(b.output.toString()).toBe(a.output.toString());
            expect(b.report.bytesScanned).toBe(input.length);
            if (inputFormat === 'har') {
              expect(b.findings.map(where)).toEqual(a.findings.map(where));
            } else {
              // A plain JSON document is cut where its held size passes the limit, checked after each
              // piece pushed, so its units (and the double's pointer for a token repeated within one
              // unit) follow the chunking; the HAR spine is split as it opens.
              const tokens = (fs: AnyFinding[]) =>
                fs.map((f) => ('token' in f ? f.token.fingerprint : f.rule)).sort();
              expect(tokens(b.findings)).toEqual(tokens(a.findings));
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  }, 60_000);

  it('gives the same bytes and findings with worker threads', async () => {
    const dir = tempDir();
    const lines = Array.from({ length: 4000 }, (_, i) =>
      i % 37 === 5 ? JSON.stringify({ i, t: TOKENS[i % 2] }) : JSON.stringify({ i, msg: 'x'.repeat(i % 90) }),
    );
    const input = Buffer.from(`${lines.join('\n')}\n${'z'.repeat(20_000)} ${TOKENS[0]}\nlast line, no end`);
    const fromStdin = await scanStdin(input, 65536, { recordBytes: 8192, blockBytes: 4096 });
    expect(fromStdin.findings.length).toBeGreaterThan(100);
    // Pools started before the scan (a pool starts its workers lazily, and a small scan can be done
    // before they are ready): one whose worker runs every job, one that shares them with this thread.
    // 16 KiB blocks: jobs over 4 KiB, which go to the worker in the read's own buffer, which moves
    // there and comes back for a later read.
    const alone = await createWorkerPool(factory, 1);
    const engine = createEngineDouble();
    const shared = await createWorkerPool(factory, 1, { local: engine });
    await shared.start();
    try {
      for (const [recordBytes, blockBytes] of [
        [8192, 4096],
        [32768, 16384],
      ] as const) {
        const options = { recordBytes, blockBytes };
        const local = await fromFile(dir, `a${blockBytes}.jsonl`, input, options);
        expect(local.output.equals(fromStdin.output)).toBe(true);
        expect(local.findings.map(where)).toEqual(fromStdin.findings.map(where));
        for (const [name, executor] of [
          ['alone', alone],
          ['shared', shared],
        ] as const) {
          const pooled = await fromFile(dir, `${name}${blockBytes}.jsonl`, input, options, {
            engine,
            executor,
          });
          expect(pooled.output.equals(fromStdin.output)).toBe(true);
          expect(pooled.findings.map(where)).toEqual(fromStdin.findings.map(where));
        }
      }
    } finally {
      await Promise.all([alone.close(), shared.close()]);
    }
  });
});
