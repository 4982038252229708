// What crosses between the pool and its workers: findings packed against templates (each token's
// analysis sent once) come back as the same findings, keys in the same order; a worker that cannot
// build its engine fails the run even when this thread's engine carried it; and the ids of findings
// in different units of one document never collide.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FindingPacker, FindingUnpacker } from '../../../src/batch/finding-pack.ts';
import { runScan } from '../../../src/batch/index.ts';
import { reclaim, runJob } from '../../../src/batch/jobs.ts';
import { createWorkerPool } from '../../../src/batch/pool.ts';
import { createSummaryAccumulator, type FindingAnalysis } from '../../../src/findings/index.ts';
import type { AnyFinding, Finding } from '../../../src/model.ts';
import { engineFromConfig } from '../../../src/pipeline/index.ts';
import { jwsHS256, jwsRS256, k8sClaims, NOW } from '../../helpers/tokens.ts';
import { createEngineDouble, doubleFinding, fakeToken } from './engine-double.ts';
import { ENGINE_DOUBLE_URL, scan, tempDir } from './helpers.ts';

/** Through structured cloning, as postMessage does. */
const wire = <T>(x: T): T => structuredClone(x);

/** The real engine, default policy, a random key. */
function realEngine(): ReturnType<typeof engineFromConfig> {
  return engineFromConfig({
    policies: ['default'],
    ruleFiles: [],
    key: randomBytes(32),
    keyId: 't',
    ephemeralKey: true,
  });
}

async function realFindings(): Promise<AnyFinding[]> {
  const engine = await realEngine();
  const a = await jwsRS256({ ...k8sClaims(), exp: NOW() + 3600 });
  const b = await jwsHS256({ sub: 'svc', iss: 'https://idp.example.com', exp: NOW() - 60 });
  const text = Array.from({ length: 30 }, (_, i) =>
    i % 3 === 0 ? `{"auth":"Bearer ${a}"}` : i % 3 === 1 ? `x ${b} y ${a}` : `{"n":${i}}`,
  ).join('\n');
  const r = await engine.processLines(Buffer.from(`${text}\n`), { kind: 'file', name: 'f', line: 1 });
  // A finding of another shape travels as it is.
  const error = { ...r.findings[0]!, rule: 'processing-error', error: { code: 'x', reason: 'y' } };
  delete (error as Partial<Finding>).token;
  return [...r.findings, error as AnyFinding];
}

describe('findings between a worker and the pool', () => {
  it('come back equal, keys in order, analyses sent once and shared again', async () => {
    const findings = await realFindings();
    expect(findings.filter((f) => 'token' in f).length).toBeGreaterThan(20);
    const packer = new FindingPacker();
    const unpacker = new FindingUnpacker();
    const first = wire(packer.pack(findings.slice(0, 12)));
    const second = wire(packer.pack(findings.slice(12)));
    // Two distinct tokens: two templates, both in the first message; none repeated in the second.
    expect(first.templates.length).toBe(2);
    expect(second.templates.length).toBe(0);
    const back = [...unpacker.unpack(first), ...unpacker.unpack(second)];
    expect(JSON.stringify(back)).toBe(JSON.stringify(findings));
    for (let i = 0; i < back.length; i++) expect(Object.keys(back[i]!)).toEqual(Object.keys(findings[i]!));
    const tokens = back.filter((f): f is Finding => 'token' in f);
    const same = tokens.filter((f) => f.token.fingerprint === tokens[0]!.token.fingerprint);
    expect(same.length).toBeGreaterThan(1);
    expect(same[1]!.claims).toBe(same[0]!.claims);
    expect(same[1]!.token).not.toBe(same[0]!.token);
  });

  it('travel flat: numbers in one typed array and a table of strings, each string and source shape sent once, sources rebuilt key for key', async () => {
    const findings = (await realFindings()).filter((f): f is Finding => 'token' in f);
    const packer = new FindingPacker();
    const unpacker = new FindingUnpacker();
    const first = packer.pack(findings.slice(0, 10));
    const second = packer.pack(findings.slice(10));
    for (const [m, part] of [
      [first, findings.slice(0, 10)],
      [second, findings.slice(10)],
    ] as const) {
      expect(m.whole).toEqual([]);
      expect(m.flat).toBeInstanceOf(Float64Array);
      expect(m.flat.byteLength).toBe(m.flat.buffer.byteLength); // no spare room goes along
      // Every finding's id, and each other string once (its time, file name, pointers, contexts).
      const others = new Set(
        part.flatMap((f) => [
          f.time,
          f.token.context,
          ...f.token.encoding,
          ...Object.values(f.source).filter((v) => typeof v === 'string'),
        ]),
      );
      expect(m.strings).toHaveLength(part.length + others.size);
      expect(new Set(m.strings.filter((x) => !part.some((f) => f.id === x)))).toEqual(others);
    }
    // One shape of source here ({kind, name, line} plus the pointer of a JSON line): each sent once.
    const shapes = [...first.shapes, ...second.shapes].map(
      ([, keys, numbers]) => `${numbers}:${keys.join(',')}`,
    );
    expect(new Set(shapes).size).toBe(shapes.length);
    expect(second.shapes.every(([, keys]) => !first.shapes.some(([, k]) => k.join() === keys.join()))).toBe(
      true,
    );
    const back = [...unpacker.unpack(wire(first)), ...unpacker.unpack(wire(second))];
    expect(JSON.stringify(back)).toBe(JSON.stringify(findings));
    for (let i = 0; i < back.length; i++) {
      const [b, f] = [back[i] as Finding, findings[i] as Finding];
      expect(b.source).toStrictEqual(f.source);
      expect(b.token.encoding).toStrictEqual(f.token.encoding);
      expect(Object.keys(b.token)).toEqual(Object.keys(f.token));
    }
  });

  it('keep their place in order when some travel whole (a source value that is not a string or number)', async () => {
    const [a, b, c] = (await realFindings()).filter((f): f is Finding => 'token' in f);
    const odd1 = { ...a!, source: { ...a!.source, line: undefined } } as unknown as AnyFinding;
    const odd2 = { ...b!, source: { ...b!.source, pointer: ['x'] } } as unknown as AnyFinding;
    const list: AnyFinding[] = [a!, odd1, b!, odd2, c!];
    const packed = new FindingPacker().pack(list);
    expect(packed.whole).toEqual([odd1, odd2]);
    const back = new FindingUnpacker().unpack(wire(packed));
    expect(JSON.stringify(back)).toBe(JSON.stringify(list));
    expect(back.map((f) => f.source)).toStrictEqual(list.map((f) => f.source));
    expect(Object.keys((back[1] as Finding).source)).toEqual(Object.keys(a!.source));
  });

  it("keep each source's own key order when shapes alternate (the same keys in another order too)", async () => {
    const [a] = (await realFindings()).filter((f): f is Finding => 'token' in f);
    const { kind, name, ...rest } = a!.source;
    const sources = [
      { kind, name, ...rest },
      { name, kind, ...rest },
      { kind, name, ...rest, member: 'm' },
      { name, kind, ...rest },
    ];
    const list = [...sources, ...sources].map((source) => ({ ...a!, source }) as AnyFinding);
    const back = new FindingUnpacker().unpack(wire(new FindingPacker().pack(list)));
    expect(back.map((f) => Object.keys(f.source))).toEqual(list.map((f) => Object.keys(f.source)));
    expect(back.map((f) => f.source)).toStrictEqual(list.map((f) => f.source));
  });

  it('keep the type of each source value: the same keys with a number or a string are two shapes', async () => {
    const [a] = (await realFindings()).filter((f): f is Finding => 'token' in f);
    const sources = [
      { kind: 'kafka', name: 't', offset: 7 },
      { kind: 'kafka', name: 't', offset: '7' },
      { kind: 'kafka', name: 7, offset: 't' },
      { kind: 'kafka', name: 't', offset: 7 },
      { kind: 'kafka', name: 't', offset: -0 },
      { kind: 'kafka', name: 't', offset: 2 ** 53 + 2 },
      { kind: 'kafka', name: 't', offset: 0.5 },
    ];
    const list = sources.map((source) => ({ ...a!, source }) as unknown as AnyFinding);
    const packed = new FindingPacker().pack(list);
    // Which values are numbers, a bit each: offset (bit 2), none, name (bit 1).
    expect(packed.shapes.map(([, , numbers]) => numbers)).toEqual([0b100, 0, 0b010]);
    const back = new FindingUnpacker().unpack(wire(packed));
    expect(back.map((f) => f.source)).toStrictEqual(sources);
    expect(Object.is((back[4]!.source as unknown as { offset: number }).offset, -0)).toBe(true);
  });

  it('refuse a message whose string indexes do not fit its table', async () => {
    const [a] = (await realFindings()).filter((f): f is Finding => 'token' in f);
    const packed = new FindingPacker().pack([a!]);
    packed.strings.pop();
    expect(() => new FindingUnpacker().unpack(wire(packed))).toThrow(/string index/);
  });

  it('packed for counting only: each a template number, back as its analysis, the same summary', async () => {
    const findings = await realFindings();
    const packer = new FindingPacker();
    const unpacker = new FindingUnpacker();
    const first = wire(packer.pack(findings.slice(0, 12), true));
    const second = wire(packer.pack(findings.slice(12), true));
    // No id, time, source or string at all: one number a finding; the error finding whole.
    expect(first.strings.length + second.strings.length).toBe(0);
    expect(first.flat.length + second.flat.length).toBe(findings.length);
    expect(second.whole.length).toBe(1);
    const a = unpacker.unpackCounted(first);
    const b = unpacker.unpackCounted(second);
    expect(a.counted.length + b.counted.length + a.findings.length + b.findings.length).toBe(findings.length);
    const analysis = (f: FindingAnalysis) =>
      JSON.stringify([
        f.rule,
        f.severity,
        f.token.fingerprint,
        f.token.kind,
        f.classification,
        f.status,
        f.inner,
      ]);
    const tokens = findings.filter((f): f is Finding => 'token' in f);
    expect([...a.counted, ...b.counted].map(analysis)).toEqual(tokens.map(analysis));
    // What the summary makes of them is what it makes of the findings.
    const full = createSummaryAccumulator();
    for (const f of findings) full.add(f);
    const counted = createSummaryAccumulator();
    for (const r of [a, b]) {
      for (const t of r.counted) counted.add(t);
      for (const f of r.findings) counted.add(f);
    }
    expect(counted.result()).toEqual(full.result());
    expect(full.result().findings).toBe(findings.length);
    // A message packed for counting is not unpacked as findings.
    expect(() => new FindingUnpacker().unpack(wire(new FindingPacker().pack(findings, true)))).toThrow(
      /counting only/,
    );
  });

  it('travel whole when their shape is not the one expected', () => {
    const f = { ...doubleFinding(fakeToken(), { kind: 'file', name: 'n', line: 1 }), extra: 1 } as AnyFinding;
    const packed = new FindingPacker().pack([f]);
    expect(packed.templates).toHaveLength(0);
    expect(new FindingUnpacker().unpack(wire(packed))).toEqual([f]);
  });
});

describe('worker threads', () => {
  it('fail the run when a worker cannot build its engine, even with this thread working meanwhile', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.log'), `x ${fakeToken()}\n`.repeat(200));
    await expect(
      scan(
        {
          inputs: [join(dir, 'a.log')],
          outDir: join(dir, 'out'),
          engineFactory: { module: ENGINE_DOUBLE_URL, exportName: 'nope', options: {} },
          workers: 2,
        },
        { engine: createEngineDouble() },
      ),
    ).rejects.toThrow(/no function export nope/);
  });
});

describe('finding ids', () => {
  it('stay unique across the units of one document', async () => {
    const engine = await realEngine();
    const token = await jwsHS256({ sub: 'svc', iss: 'https://idp.example.com', exp: NOW() + 600 });
    // The same entry over and over: in every unit the token sits at the same offsets.
    const entry = { request: { url: `https://x/?access_token=${token}`, headers: [] }, response: {} };
    const har = { log: { version: '1.2', entries: Array.from({ length: 200 }, () => entry) } };
    const dir = tempDir();
    writeFileSync(join(dir, 's.har'), JSON.stringify(har));
    const r = await scan({ inputs: [join(dir, 's.har')], recordBytes: 4096, blockBytes: 1024 }, { engine });
    expect(r.tokens).toHaveLength(200);
    expect(new Set(r.tokens.map((f) => f.id)).size).toBe(200);
    expect(r.tokens.every((f) => f.source.offset === undefined)).toBe(true);
    expect(r.tokens.map((f) => f.source.pointer)).toEqual(
      Array.from({ length: 200 }, (_, i) => `/log/entries/${i}/request/url`),
    );
  });
});

/** An engine in this thread and a pool of one worker building the same one. */
async function engineAndPool(options: { countOnly?: boolean } = {}) {
  const config = {
    policies: ['default'],
    ruleFiles: [],
    key: Buffer.alloc(32, 7),
    keyId: 't',
    ephemeralKey: true,
  };
  const local = await engineFromConfig(config);
  const pool = await createWorkerPool(
    {
      module: new URL('../../../src/pipeline/index.ts', import.meta.url).href,
      exportName: 'engineFromConfig',
      options: config,
    },
    1,
    options,
  );
  return { local, pool };
}

describe('a scan that only counts its findings (no findings written)', () => {
  it('gives the summary and the output of a scan that writes them, its workers sending analyses only', async () => {
    const { local, pool } = await engineAndPool({ countOnly: true });
    try {
      const a = await jwsRS256({ ...k8sClaims(), exp: NOW() + 3600 });
      const b = await jwsHS256({ sub: 'svc', iss: 'https://idp.example.com', exp: NOW() - 60 });
      const dir = tempDir();
      const text = Array.from({ length: 3000 }, (_, i) =>
        i % 7 === 0 ? `{"auth":"Bearer ${a}","i":${i}}` : i % 7 === 3 ? `x ${b} y ${a} ${i}` : `{"n":${i}}`,
      ).join('\n');
      writeFileSync(join(dir, 'a.jsonl'), `${text}\n`);
      const options = { inputs: [join(dir, 'a.jsonl')], recordBytes: 32768, blockBytes: 16384 };
      const written = await scan({ ...options, outDir: join(dir, 'written') }, { engine: local });
      let writes = 0;
      let jobs = 0;
      const executor: typeof pool = {
        ...pool,
        run: async (job, owned) => {
          const r = await pool.run(job, owned);
          if (r.counted !== undefined) jobs++;
          return r;
        },
      };
      const counted = await runScan(
        { ...options, outDir: join(dir, 'counted') },
        {
          engine: local,
          executor,
          findings: { write: () => void writes++, countOnly: true },
          stderr: { write: () => true },
          isTTY: false,
        },
      );
      // Every job went to the worker (no engine in this thread), and came back counted.
      expect(jobs).toBeGreaterThan(5);
      expect(writes).toBe(0);
      expect(counted.findings).toEqual(written.report.findings);
      expect(counted.findings.findings).toBe(written.tokens.length);
      expect(written.tokens.length).toBeGreaterThan(1000);
      expect(readFileSync(join(dir, 'counted', 'a.jsonl'))).toEqual(
        readFileSync(join(dir, 'written', 'a.jsonl')),
      );
    } finally {
      await pool.close();
    }
  });
});

describe('redacted outputs from a worker', () => {
  it('come back byte for byte while the worker reuses its output buffers, longer and shorter in turn', async () => {
    const { local, pool } = await engineAndPool();
    try {
      // A short token (its placeholder is longer: the output does not fit the job's buffer) and a long
      // one (it does, and goes back in it).
      const short = await jwsHS256({ sub: 'svc', iss: 'https://idp.example.com', exp: NOW() + 600 });
      const long = await jwsRS256({ ...k8sClaims(), exp: NOW() + 3600 });
      // Jobs of 200 down to 20 lines and back, a token in every fifth line: each output is written
      // into a buffer an earlier, longer or shorter, output used.
      const sizes = [200, 150, 20, 180, 60, 200, 35, 120];
      const jobs = sizes.map((n, k) =>
        Buffer.from(
          Array.from({ length: n }, (_, i) =>
            i % 5 === k % 5
              ? `{"k":${k},"auth":"Bearer ${k % 2 ? long : short}"}\n`
              : `{"k":${k},"i":${i}}\n`,
          ).join(''),
        ),
      );
      const source = { kind: 'file' as const, name: 'f.jsonl', line: 1 };
      const longer: boolean[] = [];
      for (const bytes of jobs) {
        const expected = await runJob(local, { op: 'jsonl', bytes: Buffer.from(bytes), source });
        const got = await pool.run({ op: 'jsonl', bytes: Buffer.from(bytes), source });
        expect(Buffer.from(expected.output).equals(bytes)).toBe(false);
        expect(Buffer.from(got.output).equals(Buffer.from(expected.output))).toBe(true);
        expect(got.findings.map((f) => f.id)).toEqual(expected.findings.map((f) => f.id));
        longer.push(expected.output.length > bytes.length);
      }
      expect(longer).toContain(true);
      expect(longer).toContain(false);
    } finally {
      await pool.close();
    }
  });

  it("come back in the worker's buffer when it keeps the job's in exchange, reused here in its place", async () => {
    const { local, pool } = await engineAndPool();
    try {
      const short = await jwsHS256({ sub: 'svc', iss: 'https://idp.example.com', exp: NOW() + 600 });
      const source = { kind: 'file' as const, name: 'f.jsonl', line: 1 };
      // As the line reader sends them: a buffer of its own, 2 bytes short of a 64 KiB class, moved.
      const block = 128 * 1024 - 2;
      let swapped = 0;
      for (let k = 0; k < 6; k++) {
        const text = Array.from({ length: 2000 }, (_, i) =>
          i % 50 === k ? `{"auth":"Bearer ${short}"}\n` : `{"k":${k},"i":${i}}\n`,
        ).join('');
        const bytes = Buffer.from(new ArrayBuffer(block), 0, Buffer.byteLength(text));
        bytes.write(text);
        const expected = await runJob(local, { op: 'jsonl', bytes: Buffer.from(bytes), source });
        const sent = bytes.buffer as ArrayBuffer;
        const reused: ArrayBuffer[] = [];
        const raw = await pool.run({ op: 'jsonl', bytes, source }, true);
        expect(sent.byteLength).toBe(0); // moved to the worker
        // The short token's placeholder is longer: the output cannot be written over the job's bytes.
        expect(raw.output.length).toBeGreaterThan(text.length);
        // The worker kept the job's buffer (no spare back) and gave the output's: reused here.
        const kept = raw.spare === undefined;
        if (kept) swapped++;
        const got = reclaim(raw, sent, (b) => reused.push(b));
        expect(Buffer.from(got.output).toString()).toBe(Buffer.from(expected.output).toString());
        got.release?.();
        expect(reused).toEqual([kept ? got.output.buffer : expect.any(ArrayBuffer)]);
        if (kept) expect(reused[0]).toBe(got.output.buffer);
      }
      expect(swapped).toBeGreaterThan(3);
    } finally {
      await pool.close();
    }
  });
});
