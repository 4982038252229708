// Worker threads: the same jobs on a pool of engines built from a factory give the same bytes and
// findings as the in-thread engine, in the same order per file.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWorkerPool } from '../../../src/batch/pool.ts';
import { createEngineDouble, fakeToken, placeholderFor } from './engine-double.ts';
import { ENGINE_DOUBLE_URL, scan, tempDir } from './helpers.ts';

const factory = { module: ENGINE_DOUBLE_URL, exportName: 'createEngineDouble', options: {} };

describe('scan with worker threads', () => {
  it('gives the same output and findings as the in-thread engine', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'in'));
    const tokens = Array.from({ length: 20 }, (_, i) => fakeToken({ sub: `u${i}` }));
    const lines = Array.from({ length: 3000 }, (_, i) =>
      i % 150 === 7 ? JSON.stringify({ i, t: tokens[i % 20] }) : JSON.stringify({ i, msg: 'hello world' }),
    );
    writeFileSync(join(dir, 'in', 'events.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(
      join(dir, 'in', 'text.log'),
      `${lines.map((l, i) => (i % 300 === 1 ? `Bearer ${tokens[3]}` : l)).join('\n')}\n`,
    );
    writeFileSync(
      join(dir, 'in', 'doc.json'),
      JSON.stringify({ rows: lines.map((l) => JSON.parse(l)) }, null, 2),
    );
    writeFileSync(join(dir, 'in', 'long.txt'), `${'x '.repeat(20_000)}${tokens[5]}\n`);
    // 16 KiB blocks: jobs of 4 KiB and more, which a ready worker takes.
    const options = { inputs: [join(dir, 'in')], recordBytes: 32768, blockBytes: 16384 };
    const local = await scan({ ...options, outDir: join(dir, 'local') });
    // A pool of its own (workers started at the first job they could take, maybe after this small scan
    // is done), and a caller's pool started beforehand, whose worker then takes jobs for sure.
    const engine = createEngineDouble();
    const started = await createWorkerPool(factory, 1, { local: engine });
    await started.start();
    try {
      const runs = [
        await scan({ ...options, outDir: join(dir, 'pooled'), engineFactory: factory, workers: 2 }),
        await scan({ ...options, outDir: join(dir, 'started') }, { engine, executor: started }),
      ];
      for (const [out, pooled] of [
        ['pooled', runs[0]!],
        ['started', runs[1]!],
      ] as const) {
        for (const name of ['events.jsonl', 'text.log', 'doc.json', 'long.txt']) {
          expect(readFileSync(join(dir, out, 'in', name))).toEqual(
            readFileSync(join(dir, 'local', 'in', name)),
          );
        }
        const key = (f: { source: { name?: string; line?: number; pointer?: string } }) =>
          `${f.source.name}|${f.source.line}|${f.source.pointer}`;
        const byFile = (fs: typeof local.tokens) => fs.map(key).sort();
        expect(byFile(pooled.tokens)).toEqual(byFile(local.tokens));
        // Within one file, findings keep input order.
        const events = pooled.tokens
          .filter((f) => f.source.name?.endsWith('events.jsonl'))
          .map((f) => f.source.line!);
        expect(events).toEqual([...events].sort((a, b) => a - b));
      }
    } finally {
      await started.close();
    }
    expect(local.tokens.length).toBeGreaterThan(40);
  });

  it("runs scans on a caller's pool without closing it", async () => {
    const dir = tempDir();
    const token = fakeToken({ sub: 'u1' });
    writeFileSync(join(dir, 'a.log'), `x\nBearer ${token}\n`);
    const engine = createEngineDouble();
    const pool = await createWorkerPool(factory, 1, { local: engine });
    let closed = 0;
    const executor = {
      ...pool,
      close: async () => {
        closed++;
      },
    };
    try {
      await pool.check();
      for (const out of ['o1', 'o2']) {
        const r = await scan({ inputs: [join(dir, 'a.log')], outDir: join(dir, out) }, { engine, executor });
        expect(r.tokens).toHaveLength(1);
        expect(readFileSync(join(dir, out, 'a.log'), 'utf8')).toBe(`x\nBearer ${placeholderFor(token)}\n`);
      }
      expect(closed).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('runs a job under 4 KiB in this thread, and a larger one on an idle worker', async () => {
    const calls: string[] = [];
    const engine = createEngineDouble({ calls });
    const pool = await createWorkerPool(factory, 1, { local: engine });
    try {
      await pool.start();
      const source = { kind: 'file' as const, name: 'a.log', line: 1 };
      const token = fakeToken({ sub: 'u1' });
      const small = Buffer.from(`x Bearer ${token}\n`);
      const large = Buffer.from(`${'y'.repeat(80)}\n`.repeat(60) + `x Bearer ${token}\n`);
      expect(small.length).toBeLessThan(4096);
      expect(large.length).toBeGreaterThanOrEqual(4096);
      const r1 = await pool.run({ op: 'text', bytes: small, source });
      expect(calls).toEqual(['text']);
      const r2 = await pool.run({ op: 'text', bytes: large, source });
      expect(calls).toEqual(['text']); // the worker took it
      for (const r of [r1, r2]) {
        expect(r.findings).toHaveLength(1);
        expect(Buffer.from(r.output).toString()).toContain(placeholderFor(token));
      }
    } finally {
      await pool.close();
    }
  });

  it('starts no worker while every job is under 4 KiB, and starts it at the first larger one', async () => {
    const calls: string[] = [];
    const engine = createEngineDouble({ calls });
    const pool = await createWorkerPool(factory, 1, { local: engine });
    try {
      const source = { kind: 'file' as const, name: 'a.log', line: 1 };
      const token = fakeToken({ sub: 'u1' });
      const small = Buffer.from(`x Bearer ${token}\n`);
      const large = Buffer.from(`${'y'.repeat(80)}\n`.repeat(60) + `x Bearer ${token}\n`);
      for (let i = 0; i < 20; i++) await pool.run({ op: 'text', bytes: small, source });
      // The factory checked without a worker.
      await pool.check();
      expect([pool.workersStarted, calls.length]).toEqual([false, 20]);
      const r = await pool.run({ op: 'text', bytes: large, source });
      expect(r.findings).toHaveLength(1);
      expect(pool.workersStarted).toBe(true);
      await pool.check();
      // Once ready, the worker takes the large jobs.
      await pool.run({ op: 'text', bytes: large, source });
      expect(calls.length).toBeLessThanOrEqual(21);
    } finally {
      await pool.close();
    }
  });

  it('reports a factory that does not load as a configuration error', async () => {
    await expect(
      scan({
        inputs: ['-'],
        engineFactory: { module: ENGINE_DOUBLE_URL, exportName: 'nope', options: {} },
        workers: 2,
      }),
    ).rejects.toThrow(/no function export nope/);
  });
});
