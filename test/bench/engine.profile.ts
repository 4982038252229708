// Per-line and per-record cost of the engine outside the analysis of a new token (every token an
// analysis-cache hit). For profiling: `node --cpu-prof --cpu-prof-dir=/tmp/prof test/bench/engine.profile.ts`.
//   text  : engine.processText over 64 KiB blocks of the engine bench's one-token-per-line logs (2,000 distinct)
//   record: engine.processRecord over 1 KiB JSON records each carrying a token (kafka bench shape)
// PROFILE_POOL (default 2000) distinct tokens cycled in the lines; BENCH_MB (default 32, as the engine bench)
// MiB of lines; PROFILE_RECORDS (default 20000) records; PROFILE_ROUNDS (default 5, best of).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { engineFromConfig } from '../../src/pipeline/index.ts';
import { fullEngine, oneTokenPerLine, tokenPool } from './engine.bench.ts';
import { logRecord } from './records.ts';

const RECORDS = Number(process.env.PROFILE_RECORDS ?? 20_000);
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 5);
const ONLY = process.env.PROFILE_ONLY; // 'text' | 'record'

const engine = await engineFromConfig({
  policies: ['default'],
  ruleFiles: [],
  key: Buffer.alloc(32, 1),
  keyId: 'bench',
  ephemeralKey: false,
});

/** PROFILE_OUT=dir: a CPU profile of the timed rounds only (not of making the inputs), one file per part. */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.PROFILE_OUT;
  if (dir === undefined) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const r = await fn();
  const { profile } = await session.post('Profiler.stop');
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${name}.cpuprofile`, JSON.stringify(profile));
  session.disconnect();
  return r;
}

async function best(name: string, fn: () => Promise<void>): Promise<number> {
  await fn();
  return profiled(name, async () => {
    let b = Number.POSITIVE_INFINITY;
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.hrtime.bigint();
      await fn();
      b = Math.min(b, Number(process.hrtime.bigint() - t0));
    }
    return b / 1000; // µs
  });
}

if (ONLY !== 'record') {
  const pool = await tokenPool(Number(process.env.PROFILE_POOL ?? 2000));
  const buf = oneTokenPerLine(pool);
  let lines = 0;
  for (const c of buf) if (c === 0x0a) lines++;
  const us = await best('text', () => fullEngine(engine, buf));
  console.log(
    `text: ${lines} lines, ${(buf.length / lines).toFixed(0)} B/line: ${(us / lines).toFixed(2)} µs/line, ${(buf.length / us).toFixed(0)} MB/s`,
  );
}

if (ONLY !== 'text') {
  const pool = await tokenPool(6);
  const records: Buffer[] = [];
  for (let i = 0; i < RECORDS; i++) records.push(logRecord(i, pool[i % pool.length]));
  const bytes = records.reduce((n, r) => n + r.length, 0);
  const us = await best('record', async () => {
    for (let i = 0; i < records.length; i++)
      await engine.processRecord(records[i]!, { kind: 'kafka', topic: 't', partition: 0, offset: String(i) });
  });
  console.log(
    `record: ${RECORDS} records, ${(bytes / RECORDS).toFixed(0)} B/record: ${(us / RECORDS).toFixed(2)} µs/record, ${(bytes / us).toFixed(0)} MB/s`,
  );
}
