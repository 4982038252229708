/**
 * `npm run demo`: the stream processor end to end on this machine, in one command.
 *
 *   1. starts one Kafka broker the way the tests do (scripts/kafka/broker.ts: KRaft, Maven Central
 *      jars; needs Java 17+ and Maven) unless KAFKA_BROKERS names one;
 *   2. creates the topics and produces the bundled sample logs (scripts/demo-data/), with tokens of
 *      several identity kinds made now with jose;
 *   3. runs `jwt-redactor stream` (exactly-once) as a child process until everything is committed;
 *   4. prints the redacted records, the quarantine, a findings summary and a few metrics;
 *   5. stops the processor (SIGTERM) and the broker.
 *
 * Parts, for docker/compose.yaml:  node scripts/demo.ts produce   (topics + sample records only,
 * against KAFKA_BROKERS).  Environment: KAFKA_BROKERS, DEMO_TOPIC_PREFIX (default "demo").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSummary, summarize } from '../src/findings/index.ts';
import { createKafkaClient, type InputRecord, type KafkaClient } from '../src/kafka/index.ts';
import type { AnyFinding } from '../src/model.ts';
import { fill, makeDemoTokens } from './demo-data/tokens.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DATA = fileURLToPath(new URL('./demo-data/', import.meta.url));
const PREFIX = process.env['DEMO_TOPIC_PREFIX'] ?? 'demo';
const TOPICS = {
  input: `${PREFIX}-logs`,
  output: `${PREFIX}-logs-redacted`,
  findings: `${PREFIX}-findings`,
  quarantine: `${PREFIX}-quarantine`,
};
const GROUP = `${PREFIX}-redactor`;
const PARTITIONS = 3;

const tty = process.stdout.isTTY === true;
const bold = (s: string): string => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const step = (s: string): void => {
  process.stdout.write(`\n${bold(`== ${s}`)}\n`);
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Tokens shortened for the "before" view: the demo never needs to print a whole one. */
function abbreviate(line: string): string {
  return line.replace(
    /(?:eyJ|ZXlK)[A-Za-z0-9_=+/-]{20,}(?:\.[A-Za-z0-9_=-]*){0,4}/g,
    (t) => `${t.slice(0, 12)}…[${t.length} chars]`,
  );
}

interface Sample {
  key: string;
  value: string;
  partition: number;
}

async function samples(): Promise<Sample[]> {
  const tokens = await makeDemoTokens();
  const out: Sample[] = [];
  for (const file of readdirSync(DATA)
    .filter((f) => /\.(jsonl|txt|json)$/.test(f))
    .sort()) {
    const text = readFileSync(`${DATA}${file}`, 'utf8');
    // A .json file is one document, one record (as an exported manifest would be); others one per line.
    const lines = file.endsWith('.json')
      ? [text.trim()]
      : text.split('\n').filter((l) => l.trim().length > 0);
    for (const [i, line] of lines.entries()) {
      out.push({ key: `${file}:${i + 1}`, value: fill(line, tokens), partition: out.length % PARTITIONS });
    }
  }
  return out;
}

async function produceSamples(client: KafkaClient): Promise<Sample[]> {
  const admin = await client.admin();
  try {
    await admin.createTopics([
      { topic: TOPICS.input, partitions: PARTITIONS },
      { topic: TOPICS.output, partitions: PARTITIONS },
      { topic: TOPICS.findings, partitions: 1 },
      { topic: TOPICS.quarantine, partitions: 1 },
    ]);
  } finally {
    await admin.close();
  }
  const records = await samples();
  const producer = client.producer();
  try {
    await producer.send(
      records.map((r) => ({
        topic: TOPICS.input,
        partition: r.partition,
        key: r.key,
        value: r.value,
        headers: { 'demo-source': r.key.split(':')[0]! },
      })),
    );
  } finally {
    await producer.close();
  }
  return records;
}

/** Until the group has committed every input offset. */
async function waitForCommitted(client: KafkaClient, child: ChildProcess, timeoutMs: number): Promise<void> {
  const admin = await client.admin();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the processor exited (code ${child.exitCode})`);
      const ends = await admin.endOffsets(TOPICS.input);
      let done = true;
      for (const [p, end] of ends) {
        const committed = await admin.committedOffset(GROUP, TOPICS.input, p);
        if (BigInt(committed ?? '0') < BigInt(end)) done = false;
      }
      if (done) return;
      if (Date.now() > deadline) throw new Error(`the processor did not finish within ${timeoutMs} ms`);
      await sleep(200);
    }
  } finally {
    await admin.close();
  }
}

/** Reads the output topics as a read_committed reader until `enough` says so. */
async function readOutputs(
  client: KafkaClient,
  enough: (r: InputRecord[]) => boolean,
): Promise<InputRecord[]> {
  const records: InputRecord[] = [];
  const reader = client.groupConsumer({
    groupId: `${PREFIX}-reader-${randomBytes(4).toString('hex')}`,
    topics: [TOPICS.output, TOPICS.quarantine, TOPICS.findings],
    fromBeginning: true,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    maxBytesPerPartition: 1 << 20,
    maxBytes: 8 << 20,
    maxWaitTimeMs: 100,
  });
  await reader.run(async (batch, control) => {
    records.push(...batch.records);
    control.markConsumed(batch.nextOffset);
  });
  const deadline = Date.now() + 30_000;
  while (!enough(records) && Date.now() < deadline) await sleep(100);
  await reader.stop();
  return records;
}

function header(r: InputRecord, name: string): string | undefined {
  const v = r.headers[name];
  return v === undefined ? undefined : (Array.isArray(v) ? v[0] : v)?.toString('utf8');
}

async function runProcessor(
  brokers: string,
): Promise<{ child: ChildProcess; log: string[]; port: Promise<number> }> {
  const args = [
    'bin/jwt-redactor.js',
    'stream',
    '--brokers',
    brokers,
    '--group',
    GROUP,
    '--input-topics',
    TOPICS.input,
    '--output-topic',
    TOPICS.output,
    '--findings-topic',
    TOPICS.findings,
    '--quarantine-topic',
    TOPICS.quarantine,
    '--http-port',
    '0',
    '--http-host',
    '127.0.0.1',
    '--max-wait-ms',
    '100',
  ];
  process.stdout.write(
    dim(`$ JWT_REDACTOR_KEY=<random 32 bytes> JWT_REDACTOR_KEY_ID=demo node ${args.join(' ')}\n`),
  );
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // The fingerprint key comes from the environment (never a flag); a fresh one per demo run.
    env: { ...process.env, JWT_REDACTOR_KEY: randomBytes(32).toString('hex'), JWT_REDACTOR_KEY_ID: 'demo' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const log: string[] = [];
  let resolvePort: (p: number) => void = () => {};
  const port = new Promise<number>((resolve) => {
    resolvePort = resolve;
  });
  let pending = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      log.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number; level?: string };
        if (entry.msg?.startsWith('http endpoints listening') && entry.port !== undefined)
          resolvePort(entry.port);
        if (entry.msg !== undefined && !entry.msg.startsWith('http'))
          process.stdout.write(dim(`  [processor ${entry.level}] ${entry.msg}\n`));
      } catch {
        process.stdout.write(dim(`  [processor] ${line}\n`));
      }
    }
  });
  return { child, log, port };
}

async function main(): Promise<number> {
  const mode = process.argv[2] ?? 'all';
  if (mode !== 'all' && mode !== 'produce') {
    process.stderr.write('usage: node scripts/demo.ts [all|produce]\n');
    return 2;
  }
  let stopBroker: (() => Promise<void>) | undefined;
  let brokers = process.env['KAFKA_BROKERS'];
  const { suppressTimeoutNegativeWarning, startKafkaBroker } = await import('./kafka/broker.ts');
  suppressTimeoutNegativeWarning();
  if (brokers === undefined || brokers === '') {
    if (mode === 'produce') {
      process.stderr.write('demo produce: set KAFKA_BROKERS\n');
      return 2;
    }
    step('Starting a Kafka broker (KRaft, from the Maven Central jars; the first run downloads them)');
    const broker = await startKafkaBroker({ onProgress: (m) => process.stdout.write(dim(`  ${m}\n`)) });
    brokers = broker.brokers;
    stopBroker = () => broker.stop();
  }
  const client = createKafkaClient({ brokers: brokers.split(','), clientId: `${PREFIX}-demo` });
  let processor: ChildProcess | undefined;
  try {
    step(`Producing the sample logs to ${TOPICS.input} (${PARTITIONS} partitions)`);
    const inputs = await produceSamples(client);
    for (const s of inputs)
      process.stdout.write(
        `  ${dim(`p${s.partition} ${s.key.padEnd(18)}`)} ${abbreviate(s.value).replace(/\s*\n\s*/g, ' ')}\n`,
      );
    if (mode === 'produce') return 0;

    step('Running jwt-redactor stream (exactly-once)');
    const run = await runProcessor(brokers);
    processor = run.child;
    await waitForCommitted(client, run.child, 120_000);
    const port = await run.port;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const ready = (await fetch(`http://127.0.0.1:${port}/readyz`)).status;

    const announced = (rs: InputRecord[]): number =>
      rs
        .filter((r) => r.topic !== TOPICS.findings)
        .reduce((n, r) => n + Math.min(100, Number(header(r, 'jwt-redactor-findings') ?? 0)), 0);
    const outputs = await readOutputs(client, (rs) => {
      const main = rs.filter((r) => r.topic !== TOPICS.findings);
      return (
        main.length >= inputs.length && rs.filter((r) => r.topic === TOPICS.findings).length >= announced(rs)
      );
    });
    const redacted = outputs.filter((r) => r.topic === TOPICS.output);
    const quarantined = outputs.filter((r) => r.topic === TOPICS.quarantine);
    const findings = outputs
      .filter((r) => r.topic === TOPICS.findings)
      .map((r) => JSON.parse(r.value!.toString('utf8')) as AnyFinding);

    step(`Redacted records (${TOPICS.output}): ${redacted.length}, one per input record`);
    const order = new Map(inputs.map((s, i) => [s.key, i]));
    redacted.sort(
      (a, b) => (order.get(a.key?.toString() ?? '') ?? 0) - (order.get(b.key?.toString() ?? '') ?? 0),
    );
    for (const r of redacted) {
      const n = header(r, 'jwt-redactor-findings');
      process.stdout.write(
        `  ${dim(`p${r.partition}@${r.offset} ${String(r.key).padEnd(18)} findings=${n}`)}\n    ${r.value?.toString('utf8')}\n`,
      );
    }
    if (quarantined.length > 0) {
      step(`Quarantine (${TOPICS.quarantine}): ${quarantined.length}`);
      for (const r of quarantined)
        process.stdout.write(`  ${String(r.key)} error=${header(r, 'jwt-redactor-error')}\n`);
    }

    step(`Findings (${TOPICS.findings}): ${findings.length}, keyed by token fingerprint`);
    process.stdout.write(`${renderSummary(summarize(findings), { maxTokens: 10 })}\n`);

    step(`Metrics (GET http://127.0.0.1:${port}/metrics; /readyz answered ${ready})`);
    for (const line of metrics.split('\n')) {
      if (
        /^jwt_redactor_(records_in|records_out|records_redacted|records_quarantined|findings)_total/.test(
          line,
        )
      )
        process.stdout.write(`  ${line}\n`);
    }

    step('Stopping the processor (SIGTERM: it finishes its batch, leaves the group, exits 0)');
    const exited = new Promise<number | null>((resolve) => run.child.once('exit', (code) => resolve(code)));
    run.child.kill('SIGTERM');
    const code = await exited;
    processor = undefined;
    process.stdout.write(`  processor exit code ${code}\n`);
    return code === 0 ? 0 : 1;
  } finally {
    if (processor !== undefined && processor.exitCode === null) processor.kill('SIGKILL');
    if (stopBroker !== undefined) {
      step('Stopping the broker');
      await stopBroker();
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
