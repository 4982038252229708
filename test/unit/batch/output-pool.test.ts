// Output buffers reused from job to job (output-pool.ts): a buffer comes back only when it is the
// pool's and free, and a reused buffer never shows what an earlier job left in it: every output is
// exactly the bytes a fresh buffer would hold (the real engine, JSONL and JSON jobs, HAR batches).
import { describe, expect, it } from 'vitest';
import { processHarEntries } from '../../../src/batch/har.ts';
import { type JobResult, reclaim, runJob } from '../../../src/batch/jobs.ts';
import { OutputPool } from '../../../src/batch/output-pool.ts';
import type { SourceRef } from '../../../src/model.ts';
import type { Engine, RecordResult } from '../../../src/pipeline/types.ts';
import { testEngine } from '../../helpers/engine.ts';
import { jwsHS256, NOW } from '../../helpers/tokens.ts';

const KiB = 1024;
const SOURCE: SourceRef = { kind: 'file', name: 'x.jsonl', line: 1 };

/** Takes a buffer of `n` bytes' class, fills all of it (beyond `n` too) with `byte`, gives it back. */
function dirty(pool: OutputPool, n: number, byte: number): ArrayBuffer {
  const b = pool.take(n);
  const buffer = b.buffer as ArrayBuffer;
  new Uint8Array(buffer).fill(byte);
  pool.give(buffer);
  return buffer;
}

describe('OutputPool', () => {
  it('hands out views of exactly the size asked for, over buffers of 64 KiB steps', () => {
    const pool = new OutputPool();
    for (const [n, size] of [
      [1, 64 * KiB],
      [64 * KiB, 64 * KiB],
      [64 * KiB + 1, 128 * KiB],
      [300 * KiB, 320 * KiB],
    ] as const) {
      const b = pool.take(n);
      expect(b.byteLength).toBe(n);
      expect(b.byteOffset).toBe(0);
      expect(b.buffer.byteLength).toBe(size);
      expect(pool.owns(b.buffer)).toBe(true);
    }
  });

  it('gives a buffer out again once it is given back, in its own size class only', () => {
    const pool = new OutputPool();
    const a = pool.take(100 * KiB);
    pool.give(a.buffer);
    expect(pool.take(10 * KiB).buffer).not.toBe(a.buffer); // another class
    const again = pool.take(65 * KiB);
    expect(again.buffer).toBe(a.buffer);
    expect(again.byteLength).toBe(65 * KiB);
    expect(pool.take(100 * KiB).buffer).not.toBe(a.buffer); // handed out, not free
  });

  it('adopts a buffer nearly of a class size, and hands it out only for what it holds', () => {
    const pool = new OutputPool();
    const block = new ArrayBuffer(1024 * KiB - 2); // a line job's buffer
    expect(pool.adopt(block)).toBe(true);
    expect(pool.owns(block)).toBe(true);
    expect(pool.adopt(block)).toBe(false); // already the pool's
    expect(pool.take(1024 * KiB).buffer).not.toBe(block); // 2 bytes more than it holds
    const b = pool.take(1024 * KiB - 2);
    expect(b.buffer).toBe(block);
    expect(b.byteLength).toBe(1024 * KiB - 2);
    // Far short of its class (a HAR unit's 256 KiB + 2 rounds up to 320 KiB): not taken in.
    expect(pool.adopt(new ArrayBuffer(256 * KiB + 2))).toBe(false);
    expect(pool.adopt(new ArrayBuffer(0))).toBe(false);
    // At most 8 free per class.
    const many = Array.from({ length: 9 }, () => new ArrayBuffer(64 * KiB));
    expect(many.map((m) => pool.adopt(m))).toEqual([...Array(8).fill(true), false]);
  });

  it('keeps no buffer it did not make, and none of size 0 or over the pooled maximum', () => {
    const pool = new OutputPool();
    const foreign = new ArrayBuffer(64 * KiB);
    pool.give(foreign);
    expect(pool.owns(foreign)).toBe(false);
    expect(pool.take(64 * KiB).buffer).not.toBe(foreign);
    const empty = pool.take(0);
    expect(empty.byteLength).toBe(0);
    expect(pool.owns(empty.buffer)).toBe(false);
    const huge = pool.take(5 * 1024 * KiB);
    expect(huge.byteLength).toBe(5 * 1024 * KiB);
    expect(pool.owns(huge.buffer)).toBe(false);
  });

  it('a buffer given back twice is handed out once', () => {
    const pool = new OutputPool();
    const a = pool.take(64 * KiB);
    pool.give(a.buffer);
    pool.give(a.buffer);
    const first = pool.take(64 * KiB);
    const second = pool.take(64 * KiB);
    expect(first.buffer).toBe(a.buffer);
    expect(second.buffer).not.toBe(a.buffer);
  });

  it('a buffer moved to another thread (detached) is not kept', () => {
    const pool = new OutputPool();
    const a = pool.take(64 * KiB);
    const moved = a.buffer as ArrayBuffer;
    structuredClone(moved, { transfer: [moved] });
    expect(moved.byteLength).toBe(0);
    pool.give(moved);
    expect(pool.take(64 * KiB).buffer).not.toBe(moved);
  });
});

/** A JSONL block of `lines` lines, a token in every `every`-th one. */
async function jsonlBlock(lines: number, every: number, token: string): Promise<Buffer> {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const rec: Record<string, unknown> = { i, msg: `line ${i} ${'x'.repeat(i % 50)}` };
    if (i % every === 0) rec.authorization = `Bearer ${token}`;
    out.push(JSON.stringify(rec));
  }
  return Buffer.from(`${out.join('\n')}\n`);
}

describe('runJob with an output pool: exact outputs in reused buffers', () => {
  it('JSONL: a smaller output in a buffer that held a larger one shows none of it', async () => {
    const engine = await testEngine();
    const token = await jwsHS256({ sub: 'u', exp: NOW() + 3600 });
    const pool = new OutputPool();
    const big = await jsonlBlock(900, 3, token);
    const small = await jsonlBlock(1200, 40, token);
    const expectedBig = await runJob(engine, { op: 'jsonl', bytes: big, source: SOURCE });
    const expectedSmall = await runJob(engine, { op: 'jsonl', bytes: small, source: SOURCE });
    expect(expectedBig.output.byteLength).not.toBe(big.byteLength); // both changed
    expect(expectedSmall.output.byteLength).not.toBe(small.byteLength);
    // Same size class, the small output shorter than the big one.
    const size = Math.ceil(expectedBig.output.byteLength / (64 * KiB));
    expect(Math.ceil(expectedSmall.output.byteLength / (64 * KiB))).toBe(size);
    expect(expectedSmall.output.byteLength).toBeLessThan(expectedBig.output.byteLength);

    const first = await runJob(engine, { op: 'jsonl', bytes: big, source: SOURCE }, pool);
    expect(Buffer.compare(first.output, expectedBig.output)).toBe(0);
    expect(pool.owns(first.output.buffer)).toBe(true);
    const used = first.output.buffer;
    first.release!();
    const second = await runJob(engine, { op: 'jsonl', bytes: small, source: SOURCE }, pool);
    expect(second.output.buffer).toBe(used);
    expect(second.output.byteLength).toBe(expectedSmall.output.byteLength);
    expect(Buffer.compare(second.output, expectedSmall.output)).toBe(0);
    expect(second.findings).toEqual(expectedSmall.findings.map((f) => ({ ...f, time: expect.any(String) })));
  });

  it('JSON unit and text: exact output in a buffer filled with other bytes before', async () => {
    const engine = await testEngine();
    const token = await jwsHS256({ sub: 'u', exp: NOW() + 3600 });
    const pool = new OutputPool();
    const unit = Buffer.from(`{"a":"${token}","b":[1,2,3]}`);
    const job = {
      op: 'json' as const,
      bytes: unit,
      source: { kind: 'file' as const, name: 'x.json' },
      kind: 'value' as const,
      pointer: '/items/0',
      firstIndex: 0,
      har: false,
    };
    const expected = await runJob(engine, job);
    const buffer = dirty(pool, expected.output.byteLength, 0x41);
    const r = await runJob(engine, job, pool);
    expect(r.output.buffer).toBe(buffer);
    expect(Buffer.from(r.output).toString('latin1')).toBe(Buffer.from(expected.output).toString('latin1'));

    const line = Buffer.from(`token=${token} end\n`);
    const expectedText = await runJob(engine, { op: 'text', bytes: line, source: SOURCE });
    dirty(pool, expectedText.output.byteLength, 0x42);
    const t = await runJob(engine, { op: 'text', bytes: line, source: SOURCE }, pool);
    expect(pool.owns(t.output.buffer)).toBe(true);
    expect(Buffer.from(t.output).toString('latin1')).toBe(
      Buffer.from(expectedText.output).toString('latin1'),
    );
  });

  it('an unchanged job keeps its input, and no release', async () => {
    const engine = await testEngine();
    const pool = new OutputPool();
    const bytes = Buffer.from('{"a":1}\n{"b":2}\n');
    const r = await runJob(engine, { op: 'jsonl', bytes, source: SOURCE }, pool);
    expect(r.output).toBe(bytes);
    expect(r.release).toBeUndefined();
  });
});

describe('reclaim with a pooled output', () => {
  it('the job buffer is free at once, the output buffer goes back to the pool when released', () => {
    const pool = new OutputPool();
    const output = pool.take(1000);
    const sent = new ArrayBuffer(4096);
    const freed: ArrayBuffer[] = [];
    const r: JobResult = { output, findings: [], notes: [], release: () => pool.give(output.buffer) };
    reclaim(r, sent, (b) => freed.push(b));
    expect(freed).toEqual([sent]);
    r.release!();
    expect(pool.take(2000).buffer).toBe(output.buffer);
  });

  it('an output that is a view of the job buffer frees it only when released', () => {
    const sent = new ArrayBuffer(4096);
    const freed: ArrayBuffer[] = [];
    const r: JobResult = { output: new Uint8Array(sent, 1, 10), findings: [], notes: [] };
    reclaim(r, sent, (b) => freed.push(b));
    expect(freed).toEqual([]);
    r.release!();
    expect(freed).toEqual([sent]);
  });
});

describe('processHarEntries with an output pool', () => {
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  const entry = (url: string, text: string) =>
    `{"request":{"url":"${url}"},"response":{"content":{"text":"${text}","encoding":"base64"}}}`;
  const clean = '{"data":"nothing here"}';
  /** Swaps WORD for a longer word, writing its output where `alloc` says (as the engine does). */
  const growing = (): Engine => {
    const swap = async (input: Uint8Array, _s: SourceRef, out?: { alloc?: (n: number) => Buffer }) => {
      const text = Buffer.from(input).toString('latin1');
      if (!text.includes('WORD')) return { output: input, findings: [], changed: false } as RecordResult;
      const s = text.split('WORD').join('WORD-MUCH-LONGER');
      const output = out?.alloc?.(s.length) ?? Buffer.allocUnsafe(s.length);
      output.write(s, 0, 'latin1');
      return { output, findings: [], changed: true } as RecordResult;
    };
    return { processJson: swap, processRecord: swap } as unknown as Engine;
  };

  it('entries longer, a body kept: the batch put together in a reused buffer, exact bytes', async () => {
    const entries = [entry('a/WORD', b64(clean)), entry('b', b64(`${clean}WORD`))];
    const wrapped = Buffer.from(`[${entries.join(',\n')}]`, 'latin1');
    const expected = await processHarEntries(growing(), Buffer.from(wrapped), 0, SOURCE);
    const text = Buffer.from(expected.output).toString('latin1');
    expect(text).toBe(
      `[${[entry('a/WORD-MUCH-LONGER', b64(clean)), entry('b', b64(`${clean}WORD-MUCH-LONGER`))].join(',\n')}]`,
    );
    // Two used buffers of the output's size class, full of other bytes: one for the engine's output
    // (the marked entries), one for the batch put together from it.
    const pool = new OutputPool();
    const a = pool.take(expected.output.byteLength);
    const b = pool.take(expected.output.byteLength);
    for (const x of [a, b]) {
      new Uint8Array(x.buffer).fill(0x43);
      pool.give(x.buffer);
    }
    const r = await processHarEntries(growing(), Buffer.from(wrapped), 0, SOURCE, undefined, pool);
    expect(Buffer.from(r.output).toString('latin1')).toBe(text);
    expect([a.buffer, b.buffer]).toContain(r.output.buffer);
    // The engine's output went back to the pool once read; the batch's buffer is still out.
    const next = pool.take(expected.output.byteLength);
    expect([a.buffer, b.buffer]).toContain(next.buffer);
    expect(next.buffer).not.toBe(r.output.buffer);
  });
});

describe('runJob: what the engine is given', () => {
  // The engine searches its input with indexOf: memchr on a Buffer, an element-by-element loop on a
  // plain Uint8Array. A JSON unit framed by its own braces, or wrapped in new ones, reaches it as a
  // Buffer, like every other job (and one kind of array keeps its optimized code on one shape).
  it('hands JSON units over as Buffers, framed in place or wrapped', async () => {
    const real = await testEngine();
    const seen: Uint8Array[] = [];
    const engine: Engine = {
      ...real,
      processJson: (bytes, source, out) => {
        seen.push(bytes);
        return real.processJson(bytes, source, out);
      },
    };
    const token = await jwsHS256({ sub: 'u', exp: NOW() + 3600 });
    // Buffers of their own (not slices of Node's shared pool), so that which one the engine read is plain.
    const own = (b: Uint8Array) => {
      const copy = Buffer.allocUnsafeSlow(b.length);
      copy.set(b);
      return copy;
    };
    const doc = own(Buffer.from(`{"a":"${token}","b":1}`));
    const unit = (bytes: Uint8Array) =>
      runJob(engine, {
        op: 'json',
        bytes,
        source: { kind: 'file', name: 'x.json' },
        kind: 'object',
        pointer: '',
        firstIndex: 0,
        har: false,
        bodies: undefined,
      });
    // Framed: the unit's own braces sit on either side of it in its buffer.
    const framed = await unit(doc.subarray(1, doc.length - 1));
    // Wrapped: nothing around the unit's bytes.
    const bare = own(doc.subarray(1, doc.length - 1));
    const wrapped = await unit(bare);
    expect(seen).toHaveLength(2);
    for (const bytes of seen) expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(seen[0]!.buffer).toBe(doc.buffer);
    expect(seen[1]!.buffer).not.toBe(doc.buffer);
    expect(seen[1]!.buffer).not.toBe(bare.buffer);
    for (const r of [framed, wrapped]) {
      expect(r.findings).toHaveLength(1);
      expect(Buffer.from(r.output).toString()).not.toContain(token);
      expect(Buffer.from(r.output).toString()).toMatch(/^"a":".*","b":1$/);
    }
  });
});
