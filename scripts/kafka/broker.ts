/**
 * One Apache Kafka broker in KRaft mode (combined broker + controller, node.id 1) on free loopback
 * ports, run from the official Maven Central jars. No Docker, no ZooKeeper, no Kafka download:
 * Maven resolves `org.apache.kafka:kafka_2.13` plus a logging backend once, the classpath is cached
 * under `${XDG_CACHE_HOME:-~/.cache}/jwt-redactor/kafka-<version>/`, later starts are offline.
 *
 * Library:
 *   const broker = await startKafkaBroker();   // { brokers: '127.0.0.1:PORT', stop(), ... }
 *   await broker.restart();                     // same ports, same data (stopProcess + startProcess)
 *   await broker.stop();                        // SIGTERM (SIGKILL after 15 s), temp dir removed
 *
 * CLI:
 *   node scripts/kafka/broker.ts start [--state FILE] [--version V] [--keep]
 *       prints KAFKA_BROKERS=127.0.0.1:PORT, runs in the foreground until SIGTERM/SIGINT
 *   node scripts/kafka/broker.ts stop --state FILE
 *   node scripts/kafka/broker.ts classpath [--version V]    (fetch the jars only)
 *
 * Environment: KAFKA_VERSION (default below), JAVA_HOME, KAFKA_MVN (Maven binary, default `mvn`),
 * KAFKA_KEEP_FILES=1 (do not delete the temp dir on stop).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

/** Kafka 4.x works with kafkajs 2.2.4 (transactions, consumer groups, sendOffsets): see the README snippet. */
export const DEFAULT_KAFKA_VERSION = '4.4.0';

const SLF4J_VERSION = '2.0.17';
const LOG4J2_VERSION = '2.25.5';
const STOP_GRACE_MS = 15_000;

export interface KafkaBrokerOptions {
  /** Kafka version on Maven Central (`kafka_2.13`). Default: env KAFKA_VERSION or DEFAULT_KAFKA_VERSION. */
  version?: string;
  /** Broker (PLAINTEXT) port; default: a free port. */
  port?: number;
  /** Controller port; default: a free port. */
  controllerPort?: number;
  /** Milliseconds to wait for the broker JVM to answer describeCluster() (per start). Default 120 s. */
  readyTimeoutMs?: number;
  /** Milliseconds allowed for the Maven resolution (first run only). Default 15 min. */
  resolveTimeoutMs?: number;
  /** Aborts classpath resolution / startup (kills the child processes). */
  signal?: AbortSignal;
  /** Extra or overriding server.properties entries. */
  properties?: Record<string, string | number | boolean>;
  /** Max heap of the broker JVM. Default 512m. */
  heap?: string;
  /** Keep the temp dir (data + logs) after stop(). Default: env KAFKA_KEEP_FILES=1. */
  keepFiles?: boolean;
  /** Create and load the group and transaction coordinators before reporting ready. Default true. */
  warmUp?: boolean;
  /** Progress messages (a line each, no newline). Default: silent. */
  onProgress?: (message: string) => void;
}

export interface KafkaBroker {
  /** Bootstrap servers for clients, `127.0.0.1:PORT`. */
  readonly brokers: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly version: string;
  /** Broker log (stdout + stderr of the JVMs, appended across restarts). */
  readonly logFile: string;
  /** `log.dirs` of the broker. */
  readonly dataDir: string;
  /** Temp dir holding dataDir, logFile and the config files. */
  readonly workDir: string;
  /** Pid of the running broker JVM, undefined while stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Stops the JVM (SIGTERM, SIGKILL after 15 s); data and ports stay for startProcess(). */
  stopProcess(): Promise<void>;
  /** Starts the JVM again on the same ports and data dir and waits until it answers. */
  startProcess(): Promise<void>;
  /** stopProcess() then startProcess(). */
  restart(): Promise<void>;
  /** Stops the JVM and removes the temp dir (unless keepFiles). Idempotent. */
  stop(): Promise<void>;
  /** Last lines of the broker log. */
  logTail(lines?: number): string;
}

/** Java or Maven is missing (or too old): the caller may fall back to something else. */
export class KafkaPrerequisiteError extends Error {
  override name = 'KafkaPrerequisiteError';
}

/** The broker did not come up (or Maven failed); message includes the relevant log tail. */
export class KafkaBrokerStartError extends Error {
  override name = 'KafkaBrokerStartError';
}

// ---------------------------------------------------------------------------------------------
// kafkajs on Node 24 prints "TimeoutNegativeWarning: -N is a negative number" on connects
// (a negative setTimeout in its request queue; harmless, unfixed upstream). Drop only that one.

const SUPPRESS_KEY = Symbol.for('jwt-redactor.suppressTimeoutNegativeWarning');

export function suppressTimeoutNegativeWarning(): void {
  const g = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (g[SUPPRESS_KEY]) return;
  g[SUPPRESS_KEY] = true;
  const original = process.emitWarning;
  const filtered = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const first = rest[0];
    const type =
      typeof warning !== 'string'
        ? warning.name
        : typeof first === 'string'
          ? first
          : typeof first === 'object' && first !== null
            ? (first as { type?: unknown }).type
            : undefined;
    if (type === 'TimeoutNegativeWarning') return;
    (original as (...args: unknown[]) => void).call(this, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
}

// ---------------------------------------------------------------------------------------------
// Classpath (Maven)

function cacheRoot(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache'), 'jwt-redactor');
}

function isKafka3(version: string): boolean {
  return /^[0-3]\./.test(version);
}

function dependency(groupId: string, artifactId: string, version: string): string {
  return [
    '    <dependency>',
    `      <groupId>${groupId}</groupId>`,
    `      <artifactId>${artifactId}</artifactId>`,
    `      <version>${version}</version>`,
    '    </dependency>',
  ].join('\n');
}

function pomFor(version: string): string {
  const deps = [dependency('org.apache.kafka', 'kafka_2.13', version)];
  if (isKafka3(version)) {
    // 3.9 loads log4j 1 classes at start: reload4j through slf4j 1.7.
    deps.push(dependency('org.slf4j', 'slf4j-reload4j', '1.7.36'));
    deps.push(dependency('ch.qos.reload4j', 'reload4j', '1.2.25'));
  } else {
    deps.push(dependency('org.slf4j', 'slf4j-api', SLF4J_VERSION));
    deps.push(dependency('org.apache.logging.log4j', 'log4j-api', LOG4J2_VERSION));
    deps.push(dependency('org.apache.logging.log4j', 'log4j-core', LOG4J2_VERSION));
    deps.push(dependency('org.apache.logging.log4j', 'log4j-slf4j2-impl', LOG4J2_VERSION));
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<project xmlns="http://maven.apache.org/POM/4.0.0"',
    '         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
    '         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>local.jwt-redactor</groupId>',
    '  <artifactId>kafka-broker-runtime</artifactId>',
    `  <version>${version}</version>`,
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    ...deps,
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function run(
  command: string,
  args: string[],
  options: { signal?: AbortSignal; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, output: Buffer.concat(chunks).toString('utf8') }),
    );
  });
}

function tail(text: string, lines: number): string {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

function javaBinary(): string {
  const home = process.env['JAVA_HOME'];
  return home ? join(home, 'bin', 'java') : 'java';
}

async function checkJava(version: string, signal?: AbortSignal): Promise<void> {
  const java = javaBinary();
  let result: RunResult;
  try {
    result = await run(java, ['-version'], { signal, timeoutMs: 30_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KafkaPrerequisiteError(
        `Java not found (${java}). Install a JDK/JRE 17+ (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME.`,
      );
    }
    throw error;
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(result.output);
  if (!match) return; // unknown format: let the broker try
  const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
  const needed = isKafka3(version) ? 11 : 17;
  if (major < needed) {
    throw new KafkaPrerequisiteError(
      `Kafka ${version} needs Java ${needed}+, found Java ${major} (${java}).`,
    );
  }
}

function classpathIsUsable(classpath: string): boolean {
  const entries = classpath.split(':').filter((e) => e.length > 0);
  if (entries.length === 0) return false;
  return entries.every((entry) => existsSync(entry));
}

/**
 * Resolves (first run: downloads) the broker's runtime classpath and returns it.
 * Cached in `<cache>/kafka-<version>/classpath.txt` next to the generated pom.
 */
export async function resolveKafkaClasspath(
  options: Pick<KafkaBrokerOptions, 'version' | 'signal' | 'resolveTimeoutMs' | 'onProgress'> = {},
): Promise<string> {
  const version = options.version ?? process.env['KAFKA_VERSION'] ?? DEFAULT_KAFKA_VERSION;
  const dir = join(cacheRoot(), `kafka-${version}`);
  const pomFile = join(dir, 'pom.xml');
  const classpathFile = join(dir, 'classpath.txt');
  const pom = pomFor(version);

  if (existsSync(classpathFile) && existsSync(pomFile) && readFileSync(pomFile, 'utf8') === pom) {
    const cached = readFileSync(classpathFile, 'utf8').trim();
    if (classpathIsUsable(cached)) return cached;
  }

  await mkdir(dir, { recursive: true });
  await writeFile(pomFile, pom);
  const mvn = process.env['KAFKA_MVN'] ?? 'mvn';
  const tmpFile = `${classpathFile}.${process.pid}.tmp`;
  options.onProgress?.(`resolving Kafka ${version} jars with Maven (first run only, ~65 MB into ~/.m2)`);
  let result: RunResult;
  try {
    result = await run(
      mvn,
      [
        '-q',
        '-B',
        '--no-transfer-progress',
        '-f',
        pomFile,
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath',
        '-DincludeScope=runtime',
        `-Dmdep.outputFile=${tmpFile}`,
      ],
      { signal: options.signal, timeoutMs: options.resolveTimeoutMs ?? 15 * 60_000, cwd: dir },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KafkaPrerequisiteError(
        `Maven not found (${mvn}). Install Maven 3.6+ (e.g. apt-get install maven) or set KAFKA_MVN; ` +
          'it fetches the Kafka jars from Maven Central once.',
      );
    }
    throw error;
  }
  if (result.code !== 0 || !existsSync(tmpFile)) {
    await rm(tmpFile, { force: true });
    throw new KafkaBrokerStartError(
      `Maven could not resolve org.apache.kafka:kafka_2.13:${version} (exit ${result.code ?? result.signal}).\n` +
        `pom: ${pomFile}\n--- mvn output (tail) ---\n${tail(result.output, 40)}`,
    );
  }
  const classpath = (await readFile(tmpFile, 'utf8')).trim();
  await rename(tmpFile, classpathFile);
  if (!classpathIsUsable(classpath)) {
    throw new KafkaBrokerStartError(`Maven wrote an unusable classpath to ${classpathFile}`);
  }
  return classpath;
}

// ---------------------------------------------------------------------------------------------
// Broker

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not get a free port'));
      });
    });
  });
}

/** Kafka Uuid in base64url (16 random bytes), as `kafka-storage random-uuid` prints it. */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Settings for one node (replication factors 1 and friends), without listeners and paths.
 * Shared with the container path of the test global setup.
 */
export function singleNodeProperties(
  version: string = DEFAULT_KAFKA_VERSION,
): Record<string, string | number | boolean> {
  const props: Record<string, string | number | boolean> = {
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    // With the default 3, transactional producers never initialise on one node.
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': true,
    'delete.topic.enable': true,
    // Two cores: fewer threads than the defaults (3 network, 8 io).
    'num.network.threads': 2,
    'num.io.threads': 4,
  };
  if (!isKafka3(version)) {
    props['share.coordinator.state.topic.replication.factor'] = 1;
    props['share.coordinator.state.topic.min.isr'] = 1;
    props['share.coordinator.state.topic.num.partitions'] = 1;
  }
  return props;
}

function serverProperties(
  version: string,
  port: number,
  controllerPort: number,
  dataDir: string,
  extra: Record<string, string | number | boolean>,
): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': dataDir,
    ...singleNodeProperties(version),
    ...extra,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n')}\n`;
}

function loggingConfig(version: string): {
  fileName: string;
  content: string;
  flag: (file: string) => string;
} {
  if (isKafka3(version)) {
    return {
      fileName: 'log4j.properties',
      content: [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.state.change.logger=WARN',
        '',
      ].join('\n'),
      flag: (file) => `-Dlog4j.configuration=${pathToFileURL(file).href}`,
    };
  }
  return {
    fileName: 'log4j2.properties',
    content: [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = STDOUT',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = INFO',
      'rootLogger.appenderRef.out.ref = STDOUT',
      'logger.request.name = kafka.request.logger',
      'logger.request.level = WARN',
      'logger.state.name = state.change.logger',
      'logger.state.level = WARN',
      '',
    ].join('\n'),
    flag: (file) => `-Dlog4j2.configurationFile=${file}`,
  };
}

function readTail(file: string, lines: number): string {
  try {
    const size = statSync(file).size;
    const start = Math.max(0, size - 64 * 1024);
    const buffer = Buffer.alloc(size - start);
    const fd = openSync(file, 'r');
    let read = 0;
    try {
      read = readSync(fd, buffer, 0, buffer.length, start);
    } finally {
      closeSync(fd);
    }
    return tail(buffer.subarray(0, read).toString('utf8'), lines);
  } catch {
    return '(no broker log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when describeCluster() answers on `brokers`, rejects after timeoutMs. */
export async function waitForKafka(
  brokers: string,
  options: { timeoutMs?: number; signal?: AbortSignal; isDead?: () => string | undefined } = {},
): Promise<void> {
  suppressTimeoutNegativeWarning();
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted();
    const dead = options.isDead?.();
    if (dead) throw new Error(dead);
    const kafka = new Kafka({
      clientId: 'jwt-redactor-broker-probe',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 3_000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0 && cluster.controller !== null) return;
    } catch (error) {
      lastError = error;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(250);
  }
  throw new Error(
    `no answer to describeCluster() from ${brokers} within ${options.timeoutMs ?? 60_000} ms` +
      (lastError instanceof Error ? ` (last error: ${lastError.message})` : ''),
  );
}

/**
 * Makes the group and transaction coordinators ready (creates and loads __consumer_offsets and
 * __transaction_state), so that the first consumer group or transactional producer of a test does
 * not meet COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE (kafkajs would retry, noisily).
 */
export async function warmUpKafka(
  brokers: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<void> {
  suppressTimeoutNegativeWarning();
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  // kafkajs does not retry COORDINATOR_LOAD_IN_PROGRESS everywhere (admin.fetchOffsets): retry here.
  const retrying = async (what: string, action: () => Promise<unknown>): Promise<void> => {
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        await action();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`warm-up (${what}) failed: ${(error as Error).message}`);
        await sleep(200);
      }
    }
  };
  const kafka = new Kafka({
    clientId: 'jwt-redactor-broker-warmup',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({
    transactionalId: 'jwt-redactor-broker-warmup',
    idempotent: true,
    maxInFlightRequests: 1,
  });
  try {
    await retrying('admin connect', () => admin.connect());
    await retrying('group coordinator', () =>
      admin.fetchOffsets({ groupId: 'jwt-redactor-broker-warmup', topics: [] }),
    );
    await retrying('producer connect', () => producer.connect());
    // InitProducerId on the transaction coordinator; an empty transaction is then aborted locally.
    await retrying('transaction coordinator', async () => {
      const transaction = await producer.transaction();
      await transaction.abort();
    });
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const version = options.version ?? process.env['KAFKA_VERSION'] ?? DEFAULT_KAFKA_VERSION;
  const progress = options.onProgress ?? (() => {});
  const signal = options.signal;
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const keepFiles = options.keepFiles ?? process.env['KAFKA_KEEP_FILES'] === '1';

  suppressTimeoutNegativeWarning();
  await checkJava(version, signal);
  const classpath = await resolveKafkaClasspath({
    version,
    signal,
    resolveTimeoutMs: options.resolveTimeoutMs,
    onProgress: progress,
  });
  const java = javaBinary();

  const port = options.port ?? (await freePort());
  let controllerPort = options.controllerPort ?? (await freePort());
  while (controllerPort === port) controllerPort = await freePort();
  const brokers = `127.0.0.1:${port}`;

  const workDir = await mkdtemp(join(tmpdir(), 'jwt-redactor-kafka-'));
  const dataDir = join(workDir, 'data');
  const logFile = join(workDir, 'broker.log');
  const propsFile = join(workDir, 'server.properties');
  const logging = loggingConfig(version);
  const loggingFile = join(workDir, logging.fileName);
  await mkdir(dataDir);
  await writeFile(
    propsFile,
    serverProperties(version, port, controllerPort, dataDir, options.properties ?? {}),
  );
  await writeFile(loggingFile, logging.content);
  await writeFile(logFile, '');
  progress(`broker log: ${logFile}`);

  const logTail = (lines = 60): string => readTail(logFile, lines);

  // Format the storage (a JVM of its own: StorageTool calls System.exit).
  const formatStorage = async (): Promise<void> => {
    const out = openSync(logFile, 'a');
    try {
      const clusterId = randomClusterId();
      const formatted = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          java,
          [
            '-Xmx256m',
            '-XX:TieredStopAtLevel=1',
            '-XX:+UseSerialGC',
            '-Djava.awt.headless=true',
            logging.flag(loggingFile),
            '-cp',
            classpath,
            'kafka.tools.StorageTool',
            'format',
            '-t',
            clusterId,
            '-c',
            propsFile,
          ],
          { stdio: ['ignore', out, out], signal, killSignal: 'SIGKILL' },
        );
        child.on('error', reject);
        child.on('exit', (code) => resolve(code));
      });
      if (formatted !== 0) {
        throw new KafkaBrokerStartError(
          `kafka StorageTool format failed (exit ${formatted}); log: ${logFile}\n--- broker log (tail) ---\n${logTail(40)}`,
        );
      }
    } finally {
      closeSync(out);
    }
  };

  let child: ChildProcess | undefined;
  let stopped = false;
  const killOnExit = (): void => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const jvmArgs = [
    '-Xms128m',
    `-Xmx${options.heap ?? '512m'}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    logging.flag(loggingFile),
    '-cp',
    classpath,
    'kafka.Kafka',
    propsFile,
  ];

  const stopProcess = async (): Promise<void> => {
    const current = child;
    if (!current) return;
    if (current.exitCode === null && current.signalCode === null) {
      current.kill('SIGTERM');
      if (!(await waitForExit(current, STOP_GRACE_MS))) {
        current.kill('SIGKILL');
        await waitForExit(current, 10_000);
      }
    }
    child = undefined;
  };

  const startProcess = async (): Promise<void> => {
    if (stopped) throw new Error('broker was stopped for good; start a new one');
    if (child) return;
    const out = openSync(logFile, 'a');
    let spawnError: Error | undefined;
    const current = spawn(java, jvmArgs, { stdio: ['ignore', out, out] });
    closeSync(out);
    current.on('error', (error) => {
      spawnError = error;
    });
    child = current;
    const started = Date.now();
    try {
      await waitForKafka(brokers, {
        timeoutMs: readyTimeoutMs,
        signal,
        isDead: () => {
          if (spawnError) return `could not start java: ${spawnError.message}`;
          if (current.exitCode !== null || current.signalCode !== null) {
            return `broker JVM exited (${current.exitCode ?? current.signalCode}) before it was ready`;
          }
          return undefined;
        },
      });
      if (options.warmUp !== false) await warmUpKafka(brokers, { signal });
    } catch (error) {
      await stopProcess();
      throw new KafkaBrokerStartError(
        `Kafka ${version} broker on ${brokers} did not start: ${(error as Error).message}\n` +
          `log: ${logFile}\n--- broker log (tail) ---\n${logTail(60)}`,
      );
    }
    progress(`Kafka ${version} ready on ${brokers} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };

  const broker: KafkaBroker = {
    brokers,
    port,
    controllerPort,
    version,
    logFile,
    dataDir,
    workDir,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stopProcess,
    startProcess,
    restart: async () => {
      await stopProcess();
      await startProcess();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopProcess();
      process.off('exit', killOnExit);
      if (!keepFiles) await rm(workDir, { recursive: true, force: true, maxRetries: 3 });
    },
    logTail,
  };

  try {
    await formatStorage();
    await startProcess();
  } catch (error) {
    stopped = true;
    await stopProcess();
    process.off('exit', killOnExit);
    // Keep workDir after a failure: its log explains it. Not after a requested abort.
    if (signal?.aborted && !keepFiles) await rm(workDir, { recursive: true, force: true, maxRetries: 3 });
    throw error;
  }
  return broker;
}

// ---------------------------------------------------------------------------------------------
// CLI

interface CliState {
  brokers: string;
  cliPid: number;
  brokerPid: number | undefined;
  logFile: string;
  dataDir: string;
  version: string;
}

function parseArgs(argv: string[]): { command: string | undefined; flags: Map<string, string | true> } {
  const flags = new Map<string, string | true>();
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      else if (['state', 'version'].includes(arg.slice(2)) && i + 1 < argv.length) {
        flags.set(arg.slice(2), argv[++i] as string);
      } else flags.set(arg.slice(2), true);
    } else if (command === undefined) command = arg;
  }
  return { command, flags };
}

const USAGE = `usage:
  node scripts/kafka/broker.ts start [--state FILE] [--version V] [--keep]
      start one KRaft broker, print KAFKA_BROKERS=127.0.0.1:PORT, run until SIGTERM/SIGINT
  node scripts/kafka/broker.ts stop --state FILE
      stop a broker started with --state FILE
  node scripts/kafka/broker.ts classpath [--version V]
      fetch the Kafka jars with Maven (cached), print the classpath file
env: KAFKA_VERSION (default ${DEFAULT_KAFKA_VERSION}), JAVA_HOME, KAFKA_MVN, KAFKA_KEEP_FILES=1
`;

function stderr(message: string): void {
  process.stderr.write(`[kafka] ${message}\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function cliStart(flags: Map<string, string | true>): Promise<number> {
  const stateFile = typeof flags.get('state') === 'string' ? (flags.get('state') as string) : undefined;
  const version = typeof flags.get('version') === 'string' ? (flags.get('version') as string) : undefined;
  const controller = new AbortController();
  let broker: KafkaBroker | undefined;
  let starting: Promise<KafkaBroker> | undefined;
  let shuttingDown = false;

  const shutdown = async (code: number): Promise<never> => {
    if (!shuttingDown) {
      shuttingDown = true;
      controller.abort();
      // Signal during the start: let the aborted start kill its child processes and clean up.
      if (!broker && starting) {
        const late = await Promise.race([
          starting.catch(() => undefined),
          sleep(STOP_GRACE_MS).then(() => undefined),
        ]);
        broker = broker ?? late;
      }
      try {
        await broker?.stop();
      } catch (error) {
        stderr(`stop failed: ${(error as Error).message}`);
        code = code || 1;
      }
      if (stateFile) await rm(stateFile, { force: true });
    }
    process.exit(code);
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (shuttingDown) process.exit(1); // second signal: give up waiting (the JVM is SIGKILLed on exit)
      void shutdown(0);
    });
  }

  starting = startKafkaBroker({
    version,
    signal: controller.signal,
    keepFiles: flags.has('keep') || undefined,
    onProgress: stderr,
  });
  try {
    broker = await starting;
  } catch (error) {
    if (shuttingDown) return new Promise<number>(() => {}); // shutdown() exits
    stderr((error as Error).message);
    return error instanceof KafkaPrerequisiteError ? 3 : 1;
  }
  if (shuttingDown) return new Promise<number>(() => {});

  if (stateFile) {
    const state: CliState = {
      brokers: broker.brokers,
      cliPid: process.pid,
      brokerPid: broker.pid,
      logFile: broker.logFile,
      dataDir: broker.dataDir,
      version: broker.version,
    };
    await writeFile(`${stateFile}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    await rename(`${stateFile}.tmp`, stateFile);
  }
  process.stdout.write(`KAFKA_BROKERS=${broker.brokers}\n`);

  // Foreground until a signal; report a broker that dies on its own.
  const started = broker;
  setInterval(() => {
    if (!shuttingDown && !started.running) {
      stderr(`broker JVM exited unexpectedly; log: ${started.logFile}\n${started.logTail(40)}`);
      void shutdown(1);
    }
  }, 1_000);
  return new Promise<number>(() => {});
}

async function cliStop(flags: Map<string, string | true>): Promise<number> {
  const stateFile = flags.get('state');
  if (typeof stateFile !== 'string') {
    stderr('stop needs --state FILE');
    return 2;
  }
  if (!existsSync(stateFile)) {
    stderr(`no state file ${stateFile}: nothing to stop`);
    return 0;
  }
  const state = JSON.parse(await readFile(stateFile, 'utf8')) as CliState;
  if (!isAlive(state.cliPid)) {
    await rm(stateFile, { force: true });
    return 0;
  }
  process.kill(state.cliPid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS + 15_000;
  while (isAlive(state.cliPid) && Date.now() < deadline) await sleep(200);
  if (isAlive(state.cliPid)) {
    stderr(`process ${state.cliPid} did not stop`);
    return 1;
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const { command, flags } = parseArgs(argv);
  switch (command) {
    case 'start':
      return cliStart(flags);
    case 'stop':
      return cliStop(flags);
    case 'classpath': {
      const version = typeof flags.get('version') === 'string' ? (flags.get('version') as string) : undefined;
      try {
        await resolveKafkaClasspath({ version, onProgress: stderr });
      } catch (error) {
        stderr((error as Error).message);
        return error instanceof KafkaPrerequisiteError ? 3 : 1;
      }
      const v = version ?? process.env['KAFKA_VERSION'] ?? DEFAULT_KAFKA_VERSION;
      process.stdout.write(`${join(cacheRoot(), `kafka-${v}`, 'classpath.txt')}\n`);
      return 0;
    }
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === 'help' || flags.has('help') ? 0 : 2;
  }
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      stderr(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exit(1);
    },
  );
}
