// Kafka pipeline benchmark (`npm run bench:kafka`): one broker, 1 KiB JSON records (10% carrying a
// token), and in one go:
//   plain     : a kafkajs consume-and-produce pipeline with the processor's settings (same fetch
//               bounds, one transactional producer per partition for exactly-once, same batch
//               commits) that copies each record unchanged: no scanning, no findings;
//   processor : the jwt-redactor stream processor (src/stream), default policy;
// each in exactly-once and at-least-once mode. Prints records/s and processor/plain ratios.
// Target: redaction costs at most 15% of the plain pipeline's throughput.
//
// Environment: KAFKA_BROKERS (default: start a local broker with scripts/kafka/broker.ts),
// BENCH_RECORDS (default 60000), BENCH_PARTITIONS (default 3), BENCH_ROUNDS (default 2: best of),
// BENCH_ONLY (names as printed, comma separated), BENCH_CPU_PROF (a directory: one CPU profile of
// each measured window).
// Both pipelines run in this process, under the CLI's node flags (cli-flags.ts: the script runs
// itself again under them when started without).
// First: the product's kafkajs replacements (src/kafka/client.ts) must be in place before kafkajs
// loads, as in the CLI; both pipelines below then run on them.
import '../../src/kafka/client.ts';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type Consumer, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import {
  type KafkaBroker,
  startKafkaBroker,
  suppressTimeoutNegativeWarning,
} from '../../scripts/kafka/broker.ts';
import { resolveOptions } from '../../src/cli/options.ts';
import { createKafkaClient, createTopicsSettled } from '../../src/kafka/index.ts';
import { headerPatch } from '../../src/kafka/kafkajs-header.ts';
import { producerPatch } from '../../src/kafka/kafkajs-producer.ts';
import { recordsPatch } from '../../src/kafka/kafkajs-records.ts';
import { engineFromConfig, type FullEngine } from '../../src/pipeline/index.ts';
import {
  createStreamLogger,
  createStreamMetrics,
  STREAM_OPTIONS,
  StreamProcessor,
  streamConfig,
} from '../../src/stream/index.ts';
import {
  humanClaims,
  jweRsaOaep,
  jwsES256,
  jwsHS256,
  jwsRS256,
  k8sClaims,
  unsecured,
} from '../helpers/tokens.ts';
import { rerunWithCliFlags } from './cli-flags.ts';
import { logRecord } from './records.ts';

suppressTimeoutNegativeWarning();

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 60_000);
const PARTITIONS = Number(process.env['BENCH_PARTITIONS'] ?? 3);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
/** Only these pipelines (comma separated names as printed, e.g. "processor exactly-once"), for profiling. */
/** --partition-concurrency of the extra `processor xN` row (default: one per partition). */
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? PARTITIONS);
/** A directory: writes a CPU profile of each measured (steady-state) window there, for profiling. */
const PROFILE_DIR = process.env['BENCH_CPU_PROF'];
const ONLY = process.env['BENCH_ONLY']?.split(',').map((s) => s.trim());
const RECORD_BYTES = 1024;
/** The processor's defaults, used by both pipelines. */
const MAX_BYTES_PER_PARTITION = 1_048_576;
const MAX_BYTES = 8_388_608;
const MAX_WAIT_MS = 100;

type Mode = 'exactly-once' | 'at-least-once';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function kafkaClient(brokers: string): Kafka {
  return new Kafka({
    clientId: `bench-${randomUUID().slice(0, 6)}`,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
}

async function makeRecords(): Promise<Buffer[]> {
  const now = Math.floor(Date.now() / 1000);
  const tokens = [
    await jwsRS256(k8sClaims(now)),
    await jwsRS256(humanClaims(now)),
    await jwsES256({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:acme/app:ref:refs/heads/main',
      aud: 'sts',
      exp: now + 300,
    }),
    await jwsHS256({ sub: 'svc', exp: now + 3600 }),
    unsecured({ sub: 'admin', exp: now + 3600 }),
    await jweRsaOaep('{"sub":"x"}'),
  ];
  const out: Buffer[] = [];
  for (let i = 0; i < RECORDS; i++) {
    out.push(logRecord(i, i % 10 === 0 ? tokens[(i / 10) % tokens.length] : undefined, RECORD_BYTES));
  }
  return out;
}

async function createTopics(brokers: string, topics: string[]): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await createTopicsSettled(
      admin,
      topics.map((topic) => ({ topic, numPartitions: PARTITIONS })),
    );
  } finally {
    await admin.disconnect();
  }
}

async function produceInput(brokers: string, topic: string, records: Buffer[]): Promise<void> {
  const producer = kafkaClient(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < records.length; i += 2_000) {
    await producer.send({
      topic,
      messages: records
        .slice(i, i + 2_000)
        .map((value, j) => ({ key: `k${i + j}`, value, partition: (i + j) % PARTITIONS })),
    });
  }
  await producer.disconnect();
}

/** The plain pipeline: the same consume-transform-produce and commits, with the identity transform. */
async function runPlain(
  brokers: string,
  input: string,
  output: string,
  mode: Mode,
  concurrency = 1,
): Promise<number> {
  const kafka = kafkaClient(brokers);
  const group = `plain-${randomUUID().slice(0, 8)}`;
  const consumer: Consumer = kafka.consumer({
    groupId: group,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    maxBytes: MAX_BYTES,
    maxWaitTimeInMs: MAX_WAIT_MS,
    readUncommitted: false,
  });
  const producers = new Map<number, Producer>();
  const producerFor = async (partition: number): Promise<Producer> => {
    let p = producers.get(partition);
    if (p === undefined) {
      p =
        mode === 'exactly-once'
          ? kafka.producer({
              transactionalId: `${group}-${input}-${partition}`,
              idempotent: true,
              maxInFlightRequests: 1,
              createPartitioner: Partitioners.DefaultPartitioner,
            })
          : kafka.producer({
              idempotent: true,
              maxInFlightRequests: 1,
              createPartitioner: Partitioners.DefaultPartitioner,
            });
      await p.connect();
      producers.set(partition, p);
    }
    return p;
  };
  let done = 0;
  let sendQueue: Promise<void> = Promise.resolve();
  lastBatches = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: input, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: concurrency,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
      const messages = batch.messages.map((m) => ({
        key: m.key,
        value: m.value,
        headers: m.headers ?? {},
        partition: batch.partition,
      }));
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      const producer = await producerFor(mode === 'exactly-once' ? batch.partition : -1);
      if (mode === 'exactly-once') {
        const tx = await producer.transaction();
        try {
          await tx.send({ topic: output, messages });
          await tx.sendOffsets({
            consumerGroupId: group,
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
          });
          await tx.commit();
        } catch (error) {
          await tx.abort();
          throw error;
        }
      } else {
        // One send at a time on the shared idempotent producer, as the processor does.
        const send = sendQueue.then(() => producer.send({ topic: output, messages, acks: -1 }));
        sendQueue = send.then(
          () => {},
          () => {},
        );
        await send;
        await commitOffsetsIfNecessary({
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
        });
      }
      resolveOffset(batch.lastOffset());
      done += batch.messages.length;
      lastBatches++;
      await heartbeat();
    },
  });
  const rate = await steadyRate(() => done);
  await consumer.disconnect();
  for (const p of producers.values()) await p.disconnect();
  return rate;
}

/**
 * Records/s in steady state: from the first committed batch to the last, so that connecting,
 * joining the group and initialising producers (a one-off cost of a few hundred ms) are left out.
 */
async function steadyRate(count: () => number | Promise<number>): Promise<number> {
  let first = await count();
  while (first === 0) {
    await sleep(1);
    first = await count();
  }
  let session: Session | undefined;
  if (PROFILE_DIR !== undefined) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const started = performance.now();
  const cpu = process.cpuUsage();
  const mainCpu = process.threadCpuUsage();
  const brokerCpu = brokerCpuMs();
  while ((await count()) < RECORDS) await sleep(2);
  const used = process.cpuUsage(cpu);
  const usedMain = process.threadCpuUsage(mainCpu);
  lastMainCpuPerRecord = (usedMain.user + usedMain.system) / (RECORDS - first);
  lastBrokerCpuPerRecord = ((brokerCpuMs() - brokerCpu) * 1000) / (RECORDS - first);
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`${PROFILE_DIR}/${Date.now()}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
  lastCpuPerRecord = (used.user + used.system) / (RECORDS - first);
  return (RECORDS - first) / ((performance.now() - started) / 1000);
}

/** Node CPU time (µs) per record of the last steadyRate measurement (this process; the broker is apart). */
let lastCpuPerRecord = 0;
/** The same for the main thread alone (where kafkajs and the processor run; the rest is GC and I/O threads). */
let lastMainCpuPerRecord = 0;
/** Broker JVM CPU time (µs) per record of the last steadyRate measurement (NaN when its pid is unknown). */
let lastBrokerCpuPerRecord = Number.NaN;
/** Batches the last run handled (whole run), for records per batch. */
let lastBatches = 0;
/** Pid of the broker JVM: the one this bench started, or BENCH_BROKER_PID with KAFKA_BROKERS. */
let brokerPid: number | undefined = process.env['BENCH_BROKER_PID']
  ? Number(process.env['BENCH_BROKER_PID'])
  : undefined;

/** CPU time (user + system, ms) the broker JVM has used, from /proc (Linux); NaN elsewhere. */
function brokerCpuMs(): number {
  if (brokerPid === undefined) return Number.NaN;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${brokerPid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

async function runProcessor(
  brokers: string,
  engine: FullEngine,
  input: string,
  suffix: string,
  mode: Mode,
  concurrency = 1,
): Promise<number> {
  const args = [
    '--brokers',
    brokers,
    '--group',
    `processor-${suffix}`,
    '--input-topics',
    input,
    '--output-topic',
    `bench-out-${suffix}`,
    '--findings-topic',
    `bench-findings-${suffix}`,
    '--quarantine-topic',
    `bench-quarantine-${suffix}`,
    '--delivery',
    mode,
    '--max-wait-ms',
    String(MAX_WAIT_MS),
    '--http-port',
    '0',
    '--partition-concurrency',
    String(concurrency),
  ];
  const { values } = resolveOptions(STREAM_OPTIONS, args, {
    JWT_REDACTOR_KEY: 'bench-fingerprint-key-0123456789',
  });
  const config = streamConfig(values);
  const logger = createStreamLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
  const metrics = createStreamMetrics({ defaultMetrics: false });
  const client = createKafkaClient({ ...config.connection, log: () => {}, logLevel: 'error' });
  const processor = new StreamProcessor({ config, engine, client, logger, metrics });
  const counter = async (): Promise<number> => {
    const m = await metrics.registry.getSingleMetric('jwt_redactor_records_in_total')?.get();
    return (m?.values ?? []).reduce((n, v) => n + v.value, 0);
  };
  await processor.start();
  const rate = await steadyRate(counter);
  const hist = await metrics.registry.getSingleMetric('jwt_redactor_batch_records')?.get();
  lastBatches = (hist?.values ?? [])
    .filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))
    .reduce((n, v) => n + v.value, 0);
  await processor.stop();
  return rate;
}

/**
 * The processor's plumbing without redaction: an engine that finds nothing. The difference between
 * this row and `plain` is what the processor's own Kafka handling costs; between this row and
 * `processor`, what scanning, redaction and findings cost.
 */
function passThrough(engine: FullEngine): FullEngine {
  const none = (input: Uint8Array) => ({ output: input, findings: [], changed: false });
  const nothing = async (input: Uint8Array) => none(input);
  return {
    ...engine,
    processText: nothing,
    processJson: nothing,
    processRecord: nothing,
    processRecordNow: none,
  };
}

async function main(): Promise<void> {
  let broker: KafkaBroker | undefined;
  let brokers = process.env['KAFKA_BROKERS'];
  if (brokers === undefined || brokers === '') {
    process.stderr.write('starting a local Kafka broker (scripts/kafka/broker.ts)...\n');
    broker = await startKafkaBroker({ onProgress: (m) => process.stderr.write(`[kafka] ${m}\n`) });
    brokers = broker.brokers;
    brokerPid = broker.pid;
  }
  try {
    const engine = await engineFromConfig({
      policies: ['default'],
      ruleFiles: [],
      key: Buffer.from('bench-fingerprint-key-0123456789'),
      keyId: 'k1',
      ephemeralKey: false,
    });
    const records = await makeRecords();
    const input = `bench-in-${randomUUID().slice(0, 8)}`;
    await createTopics(brokers, [input]);
    await produceInput(brokers, input, records);
    const mb = records.reduce((n, r) => n + r.length, 0) / 1024 / 1024;
    console.log(
      `Kafka pipeline benchmark: ${RECORDS} records of ~${RECORD_BYTES} B (${mb.toFixed(1)} MB, 10% with a token), ${PARTITIONS} partitions, best of ${ROUNDS}`,
    );
    console.log(
      `broker ${brokers}, node ${process.version} ${process.execArgv.join(' ')} (the CLI's flags), kafkajs 2.2.4, for both pipelines: record headers encoded by ${headerPatch.applied ? 'src/kafka/kafkajs-header.ts' : `kafkajs (${headerPatch.reason})`}, records and batches by ${recordsPatch.applied ? 'src/kafka/kafkajs-records.ts' : `kafkajs (${recordsPatch.reason})`}, producer helpers (grouping, murmur2) by ${producerPatch.applied ? 'src/kafka/kafkajs-producer.ts' : `kafkajs (${producerPatch.reason})`}`,
    );

    const best = new Map<string, number>();
    const cpuOf = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['exactly-once', 'at-least-once'] as const) {
        const suffix = randomUUID().slice(0, 8);
        await createTopics(brokers, [
          `bench-plain-${suffix}`,
          `bench-plain-x-${suffix}`,
          `bench-out-${suffix}`,
          `bench-findings-${suffix}`,
          `bench-quarantine-${suffix}`,
        ]);
        const suffix2 = randomUUID().slice(0, 8);
        const suffix3 = randomUUID().slice(0, 8);
        await createTopics(brokers, [
          ...[suffix2, suffix3].flatMap((x) => [
            `bench-out-${x}`,
            `bench-findings-${x}`,
            `bench-quarantine-${x}`,
          ]),
        ]);
        const runs: [string, () => Promise<number>][] = [
          [`plain ${mode}`, () => runPlain(brokers, input, `bench-plain-${suffix}`, mode)],
          [`processor ${mode}`, () => runProcessor(brokers, engine, input, suffix, mode)],
          [`pass-through ${mode}`, () => runProcessor(brokers, passThrough(engine), input, suffix2, mode)],
          [
            `plain x${CONCURRENCY} ${mode}`,
            () => runPlain(brokers, input, `bench-plain-x-${suffix}`, mode, CONCURRENCY),
          ],
          [
            `processor x${CONCURRENCY} ${mode}`,
            () => runProcessor(brokers, engine, input, suffix3, mode, CONCURRENCY),
          ],
        ];
        for (const [name, run] of runs) {
          if (ONLY !== undefined && !ONLY.includes(name)) continue;
          const rate = await run();
          cpuOf.set(name, lastCpuPerRecord);
          process.stderr.write(
            `  round ${round + 1}: ${name.padEnd(28)} ${rate.toFixed(0).padStart(8)} records/s, CPU µs/record: node ${lastCpuPerRecord.toFixed(1)} (main thread ${lastMainCpuPerRecord.toFixed(1)}), broker ${lastBrokerCpuPerRecord.toFixed(1)}; ${(RECORDS / Math.max(1, lastBatches)).toFixed(0)} records/batch\n`,
          );
          best.set(name, Math.max(best.get(name) ?? 0, rate));
        }
      }
    }

    console.log('');
    console.log('pipeline                    records/s    MB/s');
    for (const [name, rate] of best)
      console.log(
        `${name.padEnd(26)} ${rate.toFixed(0).padStart(10)} ${((rate * RECORD_BYTES) / 1024 / 1024).toFixed(1).padStart(7)}`,
      );
    console.log('');
    for (const mode of ['exactly-once', 'at-least-once']) {
      if (!best.has(`plain ${mode}`) || !best.has(`processor ${mode}`)) continue;
      const ratio = (best.get(`processor ${mode}`) ?? 0) / (best.get(`plain ${mode}`) ?? 1);
      const cost = (1 - ratio) * 100;
      console.log(
        `${mode.padEnd(14)} processor/plain = ${ratio.toFixed(3)}  (redaction costs ${cost.toFixed(1)}%; target <= 15%: ${cost <= 15 ? 'met' : 'NOT met'})`,
      );
    }
  } finally {
    await broker?.stop();
  }
}

rerunWithCliFlags(fileURLToPath(import.meta.url));
await main();
