// Helpers of the stream integration tests (test/integration/stream*.test.ts): topics, producing
// input, reading topics back as a read_committed (or read_uncommitted) reader, waiting for a group
// to commit everything, and running the processor in this process or as `node bin/jwt-redactor.js`.
// Tests talk to a real broker; nothing here mocks Kafka.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CompressionTypes, type IHeaders, Kafka, logLevel } from 'kafkajs';
import { expect } from 'vitest';
import { suppressTimeoutNegativeWarning } from '../../scripts/kafka/broker.ts';
import { resolveOptions } from '../../src/cli/options.ts';
import { createKafkaClient, createTopicsSettled } from '../../src/kafka/index.ts';
import { engineFromConfig, type FullEngine } from '../../src/pipeline/index.ts';
import {
  createStreamLogger,
  createStreamMetrics,
  STREAM_OPTIONS,
  type StreamMetrics,
  StreamProcessor,
  streamConfig,
} from '../../src/stream/index.ts';
import { tempDir } from '../helpers/temp.ts';

suppressTimeoutNegativeWarning();

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin/jwt-redactor.js');

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function kafka(brokers: string): Kafka {
  return new Kafka({
    clientId: uniqueName('stream-test'),
    brokers: brokers.split(','),
    logLevel: process.env['KAFKAJS_LOG'] === '1' ? logLevel.INFO : logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 3_000 },
  });
}

/** A fingerprint key file (random, per run) and the environment-free way to pass it. */
export function keyFile(): string {
  const dir = tempDir('jwt-redactor-stream-test-');
  const file = join(dir, 'fingerprint.key');
  writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return file;
}

export interface Topics {
  input: string;
  output: string;
  findings: string;
  quarantine: string;
  group: string;
}

export function topicNames(prefix: string): Topics {
  const id = randomUUID().slice(0, 8);
  return {
    input: `${prefix}-in-${id}`,
    output: `${prefix}-out-${id}`,
    findings: `${prefix}-findings-${id}`,
    quarantine: `${prefix}-quarantine-${id}`,
    group: `${prefix}-group-${id}`,
  };
}

export async function createTopics(
  brokers: string,
  topics: { topic: string; partitions: number }[],
): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await createTopicsSettled(
      admin,
      topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
    );
  } finally {
    await admin.disconnect();
  }
}

/** The topics of one processor run: input and output alike, `findings` partitions for findings, one for quarantine. */
export function createStreamTopics(
  brokers: string,
  t: Topics,
  partitions: number,
  findings: number,
): Promise<void> {
  return createTopics(brokers, [
    { topic: t.input, partitions },
    { topic: t.output, partitions },
    { topic: t.findings, partitions: findings },
    { topic: t.quarantine, partitions: 1 },
  ]);
}

export interface InputMessage {
  key: Buffer | string | null;
  value: Buffer | string | null;
  partition: number;
  headers?: IHeaders;
}

/**
 * Produces in order (per partition), in requests of bounded size (`perRequest` records at most);
 * gzip lets a record exceed 1 MB uncompressed. Small requests make small record batches, and so
 * small fetches: many short transactions downstream.
 */
export async function produce(
  brokers: string,
  topic: string,
  messages: readonly InputMessage[],
  options: { gzip?: boolean; perRequest?: number } = {},
): Promise<void> {
  const gzip = options.gzip ?? false;
  const perRequest = options.perRequest ?? 1000;
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    let chunk: InputMessage[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      await producer.send({
        topic,
        compression: gzip ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: chunk.map((m) => ({
          key: m.key,
          value: m.value,
          partition: m.partition,
          headers: m.headers ?? {},
        })),
      });
      chunk = [];
      bytes = 0;
    };
    for (const m of messages) {
      const size = (m.value?.length ?? 0) + (m.key?.length ?? 0) + 100;
      if (chunk.length > 0 && (bytes + size > 500_000 || chunk.length >= perRequest)) await flush();
      chunk.push(m);
      bytes += size;
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
}

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}

export function header(r: ReadRecord, name: string): string | undefined {
  const v = r.headers[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v[0] : v)?.toString('utf8');
}

/** End offsets (high watermarks) of a topic's partitions. */
export async function endOffsets(brokers: string, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every record of `topic` up to its current end, as a read_committed reader (default) or a
 * read_uncommitted one sees it. Call it once the writers are done: the end of a partition with an
 * open transaction is never reached by a read_committed reader.
 */
export async function readAll(
  brokers: string,
  topic: string,
  options: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<ReadRecord[]> {
  const ends = await endOffsets(brokers, topic);
  const reached = new Map<number, bigint>();
  const done = (): boolean => [...ends].every(([p, end]) => end === 0n || (reached.get(p) ?? 0n) >= end);
  const out: ReadRecord[] = [];
  if (done()) return out;
  const consumer = kafka(brokers).consumer({
    groupId: uniqueName('reader'),
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  // END_BATCH_PROCESS also reports batches that held only transaction markers or aborted records.
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const next = BigInt(e.payload.lastOffset) + 1n;
    if (next > (reached.get(e.payload.partition) ?? 0n)) reached.set(e.payload.partition, next);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const headers: Record<string, Buffer | Buffer[]> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) {
            if (v === undefined) continue;
            headers[k] = Array.isArray(v) ? v.map((x) => Buffer.from(x)) : Buffer.from(v);
          }
          out.push({
            topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
            headers,
          });
        }
      },
    });
    await waitFor(`reading ${topic} to its end`, done, options.timeoutMs ?? 60_000, 50);
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

export interface RunOutput {
  out: ReadRecord[];
  quarantine: ReadRecord[];
  findings: ReadRecord[];
}

/** The redacted, quarantine and findings topics of a run, each read as a read_committed reader. */
export async function readRunOutput(brokers: string, t: Topics): Promise<RunOutput> {
  const [out, quarantine, findings] = await Promise.all([
    readAll(brokers, t.output),
    readAll(brokers, t.quarantine),
    readAll(brokers, t.findings),
  ]);
  return { out, quarantine, findings };
}

/** Sum of the group's committed offsets on `topic` (progress), and whether they reached the ends. */
export async function committedProgress(
  brokers: string,
  group: string,
  topic: string,
): Promise<{ committed: bigint; total: bigint; complete: boolean }> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    let committed = 0n;
    let total = 0n;
    let complete = true;
    for (const end of ends) {
      const c = entry?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      const n = c === '-1' ? 0n : BigInt(c);
      committed += n;
      total += BigInt(end.high);
      if (n < BigInt(end.high)) complete = false;
    }
    return { committed, total, complete };
  } finally {
    await admin.disconnect();
  }
}

/** The run's group progress on its input topic: committed offsets, summed. */
export async function committedCount(brokers: string, t: Topics): Promise<bigint> {
  return (await committedProgress(brokers, t.group, t.input)).committed;
}

export async function waitForCommitted(
  brokers: string,
  group: string,
  topic: string,
  timeoutMs = 120_000,
): Promise<void> {
  let last = { committed: 0n, total: 0n, complete: false };
  await waitFor(
    `group ${group} to commit all of ${topic} (committed ${last.committed} of ${last.total})`,
    async () => {
      last = await committedProgress(brokers, group, topic).catch(() => last);
      return last.complete;
    },
    timeoutMs,
    250,
  );
}

export function processorArgs(
  brokers: string,
  t: Topics,
  key: string,
  extra: readonly string[] = [],
): string[] {
  return [
    '--brokers',
    brokers,
    '--group',
    t.group,
    '--input-topics',
    t.input,
    '--output-topic',
    t.output,
    '--findings-topic',
    t.findings,
    '--quarantine-topic',
    t.quarantine,
    '--key-file',
    key,
    '--key-id',
    'test',
    '--http-port',
    '0',
    '--http-host',
    '127.0.0.1',
    '--session-timeout-ms',
    '6000',
    '--heartbeat-interval-ms',
    '500',
    '--rebalance-timeout-ms',
    '20000',
    '--max-wait-ms',
    '100',
    ...extra,
  ];
}

export interface InProcess {
  processor: StreamProcessor;
  metrics: StreamMetrics;
  engine: FullEngine;
  /** Log lines (JSON) the processor wrote. */
  logs: string[];
  stop(): Promise<void>;
}

/** The processor in this process, configured exactly as the command does it from `args`. */
export async function startInProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<InProcess> {
  const { values } = resolveOptions(STREAM_OPTIONS, args, env);
  const config = streamConfig(values);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createStreamLogger(process.env['STREAM_TEST_LOG'] === '1' ? 'debug' : config.logLevel, sink);
  if (process.env['STREAM_TEST_LOG'] === '1') sink.on('data', () => {});
  const engine = await engineFromConfig(config.engine);
  const metrics = createStreamMetrics({ defaultMetrics: false });
  const client = createKafkaClient({
    ...config.connection,
    log: (level, message, fields) => logger[level]({ ...fields, kafka: true }, message),
    logLevel: 'warn',
  });
  const processor = new StreamProcessor({ config, engine, client, logger, metrics });
  await processor.start();
  return { processor, metrics, engine, logs, stop: () => processor.stop() };
}

export interface Child {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the member logged its group join. */
  joined: Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Kills (SIGKILL) every processor child still running; for afterEach, so a failed test leaves none behind. */
export async function killChildren(): Promise<void> {
  const left = [...running];
  for (const c of left) c.kill('SIGKILL');
  await Promise.all(
    left.map((c) =>
      c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)),
    ),
  );
}

/** `node bin/jwt-redactor.js stream ARGS` as a child process, its output collected. */
export function spawnProcessor(args: readonly string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [BIN, 'stream', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const stdout: string[] = [];
  const stderr: string[] = [];
  let onJoin: () => void = () => {};
  const joined = new Promise<void>((resolve) => {
    onJoin = resolve;
  });
  child.stdout!.on('data', (c: Buffer) => stdout.push(c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => {
    const text = c.toString('utf8');
    stderr.push(text);
    if (text.includes('"msg":"joined the group"')) onJoin();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout, stderr, exited, joined };
}

/** Fails the test when any output holds one of the secrets (R1): raw tokens, signatures, ciphertexts. */
export function findLeaks(
  haystacks: Iterable<{ where: string; text: string }>,
  secrets: readonly string[],
): string[] {
  const leaks: string[] = [];
  for (const { where, text } of haystacks) {
    for (const s of secrets) if (text.includes(s)) leaks.push(`${where} contains ${s.slice(0, 12)}...`);
  }
  return leaks;
}

/** Fails the test when any text holds one of the secrets (R1), naming where. */
export function expectNoLeaks(
  haystacks: Iterable<{ where: string; text: string }>,
  secrets: readonly string[],
): void {
  expect(findLeaks(haystacks, secrets)).toEqual([]);
}

/** Log lines, for leak checks. */
export function logTexts(lines: readonly string[], label = 'log'): { where: string; text: string }[] {
  return lines.map((text, i) => ({ where: `${label} ${i}`, text }));
}

/** Every record of the redacted, quarantine and findings topics, for leak checks. */
export function runTexts(o: RunOutput): { where: string; text: string }[] {
  return [...recordTexts(o.out), ...recordTexts(o.quarantine), ...recordTexts(o.findings)];
}

/** Every record's key, value and header text, for leak checks. */
export function recordTexts(records: readonly ReadRecord[]): { where: string; text: string }[] {
  return records.map((r) => ({
    where: `${r.topic}/${r.partition}@${r.offset}`,
    text: [
      r.key?.toString('latin1') ?? '',
      r.value?.toString('latin1') ?? '',
      ...Object.entries(r.headers).flatMap(([k, v]) => [
        k,
        ...(Array.isArray(v) ? v : [v]).map((x) => x.toString('latin1')),
      ]),
    ].join('\n'),
  }));
}

export interface ExpectedInput {
  key: string;
  partition: number;
}

export interface DeliveryReport {
  /** Problems found; empty when every input came out exactly once, in order, on its partition. */
  problems: string[];
  redacted: number;
  quarantined: number;
}

/**
 * The exactly-once property as a read_committed reader sees it: every input (identified by its
 * unique key) has exactly one output record, in the redacted or the quarantine topic; redacted
 * records keep the input partition and the input order per partition.
 */
export function checkExactlyOnce(
  inputs: readonly ExpectedInput[],
  out: readonly ReadRecord[],
  quarantine: readonly ReadRecord[],
): DeliveryReport {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const r of [...out, ...quarantine]) {
    const key = r.key?.toString('utf8') ?? '<null>';
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const wanted = new Set(inputs.map((i) => i.key));
  for (const i of inputs) {
    const n = seen.get(i.key) ?? 0;
    if (n !== 1) problems.push(`${i.key}: ${n} outputs`);
  }
  for (const key of seen.keys()) if (!wanted.has(key)) problems.push(`unexpected output ${key}`);
  const partitionOf = new Map(inputs.map((i) => [i.key, i.partition]));
  const orderOf = new Map(inputs.map((i, n) => [i.key, n]));
  const last = new Map<number, number>();
  for (const r of out) {
    const key = r.key?.toString('utf8') ?? '';
    const p = partitionOf.get(key);
    if (p !== undefined && p !== r.partition)
      problems.push(`${key}: partition ${r.partition}, input was ${p}`);
    const n = orderOf.get(key) ?? -1;
    if (n < (last.get(r.partition) ?? -1)) problems.push(`${key}: out of order on partition ${r.partition}`);
    last.set(r.partition, n);
  }
  return { problems: problems.slice(0, 20), redacted: out.length, quarantined: quarantine.length };
}

/** Findings exactly once: unique ids, as many as the outputs announce (capped per record). */
export function checkFindings(
  findings: readonly ReadRecord[],
  outputs: readonly ReadRecord[],
  cap = 100,
): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const r of findings) {
    const id = (JSON.parse(r.value!.toString('utf8')) as { id: string }).id;
    if (ids.has(id)) problems.push(`finding ${id} twice`);
    ids.add(id);
  }
  const announced = outputs.reduce(
    (n, r) => n + Math.min(cap, Number(header(r, 'jwt-redactor-findings') ?? '0')),
    0,
  );
  if (announced !== findings.length)
    problems.push(`outputs announce ${announced} findings, the findings topic holds ${findings.length}`);
  return problems.slice(0, 20);
}

/**
 * Fails the test unless every input came out exactly once (checkExactlyOnce) and the findings topic
 * holds exactly the findings the outputs announce (checkFindings).
 */
export function expectExactlyOnce(inputs: readonly ExpectedInput[], o: RunOutput): DeliveryReport {
  const report = checkExactlyOnce(inputs, o.out, o.quarantine);
  expect(report.problems).toEqual([]);
  expect(report.redacted + report.quarantined).toBe(inputs.length);
  expect(checkFindings(o.findings, [...o.out, ...o.quarantine])).toEqual([]);
  return report;
}

/**
 * Produces `messages` in order at about `perSecond`, in small requests, until all are sent or
 * `stop()` answers true (one producer). Resolves with how many were produced.
 */
export async function produceSteadily(
  brokers: string,
  topic: string,
  messages: readonly InputMessage[],
  perSecond: number,
  stop: () => boolean = () => false,
): Promise<number> {
  const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let sent = 0;
  try {
    const step = Math.max(1, Math.round(perSecond / 10));
    while (sent < messages.length && !stop()) {
      const started = Date.now();
      const chunk = messages.slice(sent, sent + step);
      await producer.send({
        topic,
        messages: chunk.map((m) => ({
          key: m.key,
          value: m.value,
          partition: m.partition,
          headers: m.headers ?? {},
        })),
      });
      sent += chunk.length;
      await sleep(Math.max(0, 100 - (Date.now() - started)));
    }
  } finally {
    await producer.disconnect();
  }
  return sent;
}
