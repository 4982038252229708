/**
 * vitest globalSetup of the `integration` project: makes one Kafka broker available to the tests
 * as `inject('kafkaBrokers')` ('host:port[,host:port]').
 *
 * Order:
 *   1. KAFKA_BROKERS set: use it (checked with describeCluster()).
 *   2. A container engine answers (testcontainers): the `apache/kafka` image (KAFKA_IMAGE), KRaft, one
 *      node. When the engine answers but the container does not start (the image cannot be pulled),
 *      the local broker of 3 is used instead.
 *   3. Java 17 + Maven: a local broker from the Maven Central jars (scripts/kafka/broker.ts).
 * KAFKA_TEST_BROKER=local|container forces 3 or 2. KAFKA_SETUP_TIMEOUT_MS bounds the whole start
 * (default 10 min: the first local start downloads ~65 MB of jars; vitest has no timeout here).
 */
import type { TestProject } from 'vitest/node';
import {
  DEFAULT_KAFKA_VERSION,
  freePort,
  KafkaPrerequisiteError,
  randomClusterId,
  singleNodeProperties,
  startKafkaBroker,
  suppressTimeoutNegativeWarning,
  waitForKafka,
  warmUpKafka,
} from '../../scripts/kafka/broker.ts';

interface RunningKafka {
  brokers: string;
  description: string;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'Integration tests need a Kafka broker. Either\n' +
  '  - set KAFKA_BROKERS=host:port to use a running broker, or\n' +
  '  - install Java 17+ and Maven 3.6+ (e.g. apt-get install openjdk-17-jre-headless maven): the tests then run\n' +
  '    Kafka from the Maven Central jars (node scripts/kafka/broker.ts start), or\n' +
  '  - run a Docker engine: the tests then start the apache/kafka image with testcontainers.';

function log(message: string): void {
  process.stderr.write(`[kafka] ${message}\n`);
}

/** Property name -> apache/kafka image env var ('.' -> '_', '_' -> '__', '-' -> '___', upper case). */
function toImageEnv(name: string): string {
  return `KAFKA_${name.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase()}`;
}

/** undefined: no container engine (or testcontainers missing). */
async function startContainer(signal: AbortSignal): Promise<RunningKafka | undefined> {
  let tc: typeof import('testcontainers');
  try {
    tc = await import('testcontainers');
  } catch {
    return undefined;
  }
  let host: string;
  try {
    const client = await tc.getContainerRuntimeClient();
    host = client.info.containerRuntime.host;
  } catch {
    return undefined; // "Could not find a working container runtime strategy"
  }
  const image = process.env['KAFKA_IMAGE'] ?? `apache/kafka:${DEFAULT_KAFKA_VERSION}`;
  // The advertised listener must carry the host-side port, so bind a fixed (free) host port.
  const hostPort = await freePort();
  const env: Record<string, string> = {
    CLUSTER_ID: randomClusterId(),
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:9094,CONTROLLER://0.0.0.0:9093',
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${hostPort},BROKER://localhost:9094`,
    KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT',
    KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
  };
  for (const [key, value] of Object.entries(singleNodeProperties(DEFAULT_KAFKA_VERSION))) {
    env[toImageEnv(key)] = String(value);
  }
  log(`starting ${image} with testcontainers (${host}:${hostPort})`);
  const container = await new tc.GenericContainer(image)
    .withEnvironment(env)
    .withExposedPorts({ container: 9092, host: hostPort })
    .withStartupTimeout(180_000)
    .start();
  const brokers = `${host}:${hostPort}`;
  try {
    await waitForKafka(brokers, { timeoutMs: 120_000, signal });
    await warmUpKafka(brokers, { signal });
  } catch (error) {
    await container.stop().catch(() => {});
    throw error;
  }
  return { brokers, description: `container ${image}`, stop: async () => void (await container.stop()) };
}

async function startLocal(signal: AbortSignal): Promise<RunningKafka> {
  const broker = await startKafkaBroker({ signal, onProgress: log });
  return {
    brokers: broker.brokers,
    description: `local Kafka ${broker.version} (${broker.logFile})`,
    stop: broker.stop,
  };
}

async function startSomething(signal: AbortSignal): Promise<RunningKafka> {
  const external = process.env['KAFKA_BROKERS'];
  if (external && external.trim().length > 0) {
    const brokers = external.trim();
    try {
      await waitForKafka(brokers, { timeoutMs: 30_000, signal });
    } catch (error) {
      throw new Error(`KAFKA_BROKERS=${brokers} does not answer: ${(error as Error).message}`);
    }
    return { brokers, description: 'KAFKA_BROKERS', stop: async () => {} };
  }

  const mode = process.env['KAFKA_TEST_BROKER'] ?? 'auto';
  if (mode !== 'local') {
    let container: RunningKafka | undefined;
    try {
      container = await startContainer(signal);
    } catch (error) {
      // An engine that answers but cannot start the image (no registry, no such image): in auto mode
      // the local broker still can run the tests.
      if (mode === 'container' || signal.aborted) throw error;
      log(`the container did not start (${(error as Error).message}); falling back to a local broker`);
    }
    if (container) return container;
    if (mode === 'container') throw new Error('KAFKA_TEST_BROKER=container but no container engine answers');
  }
  try {
    return await startLocal(signal);
  } catch (error) {
    if (error instanceof KafkaPrerequisiteError) {
      throw new Error(`${INSTALL_HINT}\n(no container engine found; ${error.message})`);
    }
    throw error;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  suppressTimeoutNegativeWarning();
  const timeoutMs = Number(process.env['KAFKA_SETUP_TIMEOUT_MS'] ?? 600_000);
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(new Error(`Kafka broker not ready after ${timeoutMs} ms (KAFKA_SETUP_TIMEOUT_MS)`)),
    timeoutMs,
  );
  let kafka: RunningKafka;
  try {
    kafka = await startSomething(controller.signal);
  } catch (error) {
    const reason: unknown = controller.signal.reason;
    if (controller.signal.aborted && reason instanceof Error && reason !== error) {
      throw new Error(`${reason.message}: ${(error as Error).message}`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (kafka.description !== 'KAFKA_BROKERS') log(`using ${kafka.description} at ${kafka.brokers}`);
  project.provide('kafkaBrokers', kafka.brokers);
  return async () => {
    await kafka.stop();
  };
}
