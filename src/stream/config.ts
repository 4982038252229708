// `jwt-redactor stream` options (flags, JWT_REDACTOR_* variables, --config file), validated into
// one StreamConfig at start-up. Every error names the option (field) and exits 2.
import { readFileSync } from 'node:fs';
import { ENGINE_OPTIONS, engineConfig, resolveKey } from '../cli/common.ts';
import { envName, type OptionSpec, type OptionValues } from '../cli/options.ts';
import { FINDING_FORMATS, type FindingFormat } from '../findings/index.ts';
import type { ConnectionOptions, SaslMechanism } from '../kafka/index.ts';
import type { EngineConfig } from '../pipeline/index.ts';
import { ConfigError } from '../util/errors.ts';

export type Delivery = 'exactly-once' | 'at-least-once';
export const DELIVERIES: readonly Delivery[] = ['exactly-once', 'at-least-once'];
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const STREAM_OPTIONS: readonly OptionSpec[] = [
  ...ENGINE_OPTIONS,
  { name: 'brokers', type: 'list', help: 'Kafka bootstrap servers, host:port[,host:port...] (required)' },
  {
    name: 'group',
    type: 'string',
    default: 'jwt-redactor',
    help: 'consumer group id; members of one group share the input partitions',
  },
  {
    name: 'input-topics',
    type: 'list',
    help: 'input topics, comma separated; /regex/ for a pattern, matched against the topics existing at start (required)',
  },
  {
    name: 'output-topic',
    type: 'string',
    help: 'redacted records: same key, headers and partition number as the input (required)',
  },
  {
    name: 'findings-topic',
    type: 'string',
    help: 'one record per finding, keyed by token fingerprint (required)',
  },
  {
    name: 'quarantine-topic',
    type: 'string',
    help: 'records that cannot be processed (R6), masked, with error headers (required)',
  },
  {
    name: 'http-port',
    type: 'number',
    default: 9464,
    help: 'port of /metrics, /healthz and /readyz; 0 picks a free port',
  },
  { name: 'http-host', type: 'string', default: '0.0.0.0', help: 'address the HTTP endpoints listen on' },
  {
    name: 'delivery',
    type: 'string',
    choices: DELIVERIES,
    default: 'exactly-once',
    help: 'exactly-once (transactions) or at-least-once',
  },
  {
    name: 'client-id',
    type: 'string',
    default: 'jwt-redactor',
    help: 'Kafka client id (broker logs, quotas)',
  },
  {
    name: 'transactional-id-prefix',
    type: 'string',
    default: 'jwt-redactor',
    help: 'prefix of the transactional ids <prefix>-<group>-<topic>-<partition>',
  },
  {
    name: 'start-from',
    type: 'string',
    choices: ['earliest', 'latest'],
    default: 'earliest',
    help: 'where a partition without a committed offset starts',
  },
  {
    name: 'findings-format',
    type: 'string',
    choices: FINDING_FORMATS,
    default: 'native',
    help: 'format of findings-topic records',
  },
  {
    name: 'max-record-bytes',
    type: 'number',
    help: 'larger records are quarantined (default: the policy limit, 1 MiB)',
  },
  {
    name: 'max-output-bytes',
    type: 'number',
    default: 1000000,
    help: "largest output record (value, key and headers); keep it below the topics' max.message.bytes",
  },
  {
    name: 'compression',
    type: 'string',
    choices: ['none', 'gzip'],
    default: 'none',
    help: 'compression of the records written',
  },
  {
    name: 'max-findings-per-record',
    type: 'number',
    default: 100,
    help: 'findings published per input record; more are counted, not published',
  },
  {
    name: 'max-bytes-per-partition',
    type: 'number',
    default: 1048576,
    help: 'fetch bound per partition (bytes): the largest batch held in memory',
  },
  { name: 'max-bytes', type: 'number', default: 8388608, help: 'fetch bound per request (bytes)' },
  { name: 'max-wait-ms', type: 'number', default: 500, help: 'how long a fetch waits for data' },
  {
    name: 'partition-concurrency',
    type: 'number',
    default: 1,
    help: 'partition batches of one fetch processed at once (each partition stays in order); 1 = one after the other',
  },
  {
    name: 'session-timeout-ms',
    type: 'number',
    default: 30000,
    help: 'group session timeout: a member silent this long is removed',
  },
  {
    name: 'heartbeat-interval-ms',
    type: 'number',
    default: 3000,
    help: 'group heartbeat interval (less than a third of the session timeout)',
  },
  {
    name: 'rebalance-timeout-ms',
    type: 'number',
    default: 60000,
    help: 'how long the group waits for members to rejoin',
  },
  {
    name: 'transaction-timeout-ms',
    type: 'number',
    default: 60000,
    help: 'broker aborts a transaction left open this long',
  },
  {
    name: 'shutdown-timeout-ms',
    type: 'number',
    default: 30000,
    help: 'on SIGTERM/SIGINT, how long the batch in flight may take',
  },
  {
    name: 'sasl-mechanism',
    type: 'string',
    choices: SASL_MECHANISMS,
    help: 'SASL authentication: plain, scram-sha-256 or scram-sha-512',
  },
  { name: 'sasl-username', type: 'string', help: 'SASL user name' },
  {
    name: 'sasl-password',
    type: 'string',
    noFlag: true,
    help: 'SASL password (environment only, never a flag)',
  },
  { name: 'sasl-password-file', type: 'string', help: 'file holding the SASL password' },
  { name: 'tls', type: 'boolean', default: false, help: 'TLS to the brokers (implied by any --tls-* file)' },
  {
    name: 'tls-ca-file',
    type: 'string',
    help: 'PEM file of the CA certificates to trust (default: system CAs)',
  },
  { name: 'tls-cert-file', type: 'string', help: 'PEM client certificate (mutual TLS)' },
  { name: 'tls-key-file', type: 'string', help: 'PEM private key of the client certificate' },
  {
    name: 'tls-key-password',
    type: 'string',
    noFlag: true,
    help: 'passphrase of the client key (environment only)',
  },
  {
    name: 'log-level',
    type: 'string',
    choices: LOG_LEVELS,
    default: 'info',
    help: 'JSON log level (stderr)',
  },
];

export interface ConsumerSettings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxBytesPerPartition: number;
  maxBytes: number;
  maxWaitTimeMs: number;
  partitionConcurrency: number;
}

export interface StreamConfig {
  engine: EngineConfig;
  connection: Omit<ConnectionOptions, 'log' | 'logLevel'>;
  groupId: string;
  inputTopics: (string | RegExp)[];
  outputTopic: string;
  findingsTopic: string;
  quarantineTopic: string;
  delivery: Delivery;
  transactionalIdPrefix: string;
  fromBeginning: boolean;
  findingsFormat: FindingFormat;
  /** undefined: the policy's max_record_bytes. */
  maxRecordBytes: number | undefined;
  maxFindingsPerRecord: number;
  maxOutputBytes: number;
  compression: 'none' | 'gzip';
  consumer: ConsumerSettings;
  transactionTimeoutMs: number;
  shutdownTimeoutMs: number;
  http: { host: string; port: number };
  logLevel: LogLevel;
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const ID = /^[A-Za-z0-9._-]{1,200}$/;

function fail(field: string, message: string): never {
  throw new ConfigError(message, { field });
}

function required(values: OptionValues, name: string): string {
  const v = values[name];
  if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) {
    fail(name, `required: set --${name}, ${envName(name)} or "${name}:" in the --config file`);
  }
  return String(v);
}

function integer(values: OptionValues, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = values[name] as number;
  if (!Number.isInteger(v) || v < min || v > max)
    fail(name, `expected a whole number from ${min} to ${max}, got ${v}`);
  return v;
}

function topicName(values: OptionValues, name: string): string {
  const t = required(values, name);
  if (!TOPIC.test(t)) fail(name, `"${t}" is not a valid topic name (1-249 characters of A-Z a-z 0-9 . _ -)`);
  return t;
}

function readSecretFile(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(`cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      file,
      field,
    });
  }
}

function readPem(values: OptionValues, name: string): string | undefined {
  const file = values[name] as string | undefined;
  if (file === undefined) return undefined;
  const text = readSecretFile(file, name);
  if (!text.includes('-----BEGIN ')) fail(name, `${file} is not a PEM file (no -----BEGIN line)`);
  return text;
}

function parseBrokers(values: OptionValues): string[] {
  required(values, 'brokers');
  const list = values.brokers as string[];
  for (const b of list) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(b);
    const port = m === null ? Number.NaN : Number(m[2]);
    if (m === null || port < 1 || port > 65535) fail('brokers', `"${b}" is not host:port`);
  }
  return list;
}

function parseInputTopics(values: OptionValues): (string | RegExp)[] {
  required(values, 'input-topics');
  const out: (string | RegExp)[] = [];
  for (const entry of values['input-topics'] as string[]) {
    if (entry.length >= 2 && entry.startsWith('/') && entry.endsWith('/')) {
      try {
        out.push(new RegExp(`^(?:${entry.slice(1, -1)})$`));
      } catch (err) {
        fail('input-topics', `pattern ${entry} does not compile: ${(err as Error).message}`);
      }
    } else if (!TOPIC.test(entry)) {
      fail('input-topics', `"${entry}" is not a valid topic name (write a pattern as /regex/)`);
    } else out.push(entry);
  }
  return out;
}

function matchesInput(inputs: readonly (string | RegExp)[], topic: string): boolean {
  return inputs.some((i) => (typeof i === 'string' ? i === topic : i.test(topic)));
}

function parseSasl(values: OptionValues): ConnectionOptions['sasl'] {
  const mechanism = values['sasl-mechanism'] as SaslMechanism | undefined;
  const username = values['sasl-username'] as string | undefined;
  const passwordFile = values['sasl-password-file'] as string | undefined;
  const envPassword = values['sasl-password'] as string | undefined;
  if (mechanism === undefined) {
    if (username !== undefined)
      fail(
        'sasl-mechanism',
        'sasl-username is set but no SASL mechanism (plain, scram-sha-256, scram-sha-512)',
      );
    if (passwordFile !== undefined || envPassword !== undefined)
      fail('sasl-mechanism', 'a SASL password is set but no SASL mechanism');
    return undefined;
  }
  if (username === undefined || username === '')
    fail('sasl-username', `required with sasl-mechanism ${mechanism}`);
  if (passwordFile !== undefined && envPassword !== undefined) {
    fail('sasl-password-file', `set either sasl-password-file or ${envName('sasl-password')}, not both`);
  }
  const password =
    passwordFile !== undefined ? readSecretFile(passwordFile, 'sasl-password-file') : envPassword;
  if (password === undefined || password === '') {
    fail(
      'sasl-password',
      `required with sasl-mechanism ${mechanism}: set ${envName('sasl-password')} or --sasl-password-file FILE`,
    );
  }
  return { mechanism, username, password };
}

function parseTls(values: OptionValues): ConnectionOptions['tls'] {
  const ca = readPem(values, 'tls-ca-file');
  const cert = readPem(values, 'tls-cert-file');
  const key = readPem(values, 'tls-key-file');
  const passphrase = values['tls-key-password'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) {
    fail(
      cert === undefined ? 'tls-cert-file' : 'tls-key-file',
      'a client certificate needs both tls-cert-file and tls-key-file',
    );
  }
  if (passphrase !== undefined && key === undefined) fail('tls-key-password', 'set without tls-key-file');
  const any = ca !== undefined || cert !== undefined;
  if (!any) return values.tls === true ? true : undefined;
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(passphrase !== undefined ? { passphrase } : {}),
  };
}

/** Validates the resolved option values; throws ConfigError naming the field. */
export function streamConfig(values: OptionValues): StreamConfig {
  const brokers = parseBrokers(values);
  const groupId = required(values, 'group');
  if (!ID.test(groupId)) fail('group', `"${groupId}" must be 1-200 characters of A-Z a-z 0-9 . _ -`);
  const inputTopics = parseInputTopics(values);
  const outputTopic = topicName(values, 'output-topic');
  const findingsTopic = topicName(values, 'findings-topic');
  const quarantineTopic = topicName(values, 'quarantine-topic');
  const outputs: [string, string][] = [
    ['output-topic', outputTopic],
    ['findings-topic', findingsTopic],
    ['quarantine-topic', quarantineTopic],
  ];
  for (const [field, topic] of outputs) {
    if (matchesInput(inputTopics, topic))
      fail(field, `${topic} is also an input topic: the processor would read its own output`);
  }
  if (new Set(outputs.map(([, t]) => t)).size !== outputs.length) {
    fail(
      'quarantine-topic',
      'output-topic, findings-topic and quarantine-topic must be three different topics',
    );
  }
  const clientId = required(values, 'client-id');
  if (!ID.test(clientId)) fail('client-id', `"${clientId}" must be 1-200 characters of A-Z a-z 0-9 . _ -`);
  const transactionalIdPrefix = required(values, 'transactional-id-prefix');
  if (!ID.test(transactionalIdPrefix))
    fail('transactional-id-prefix', 'must be 1-200 characters of A-Z a-z 0-9 . _ -');

  const sessionTimeoutMs = integer(values, 'session-timeout-ms', 1000, 3_600_000);
  const heartbeatIntervalMs = integer(values, 'heartbeat-interval-ms', 100, 3_600_000);
  if (heartbeatIntervalMs >= sessionTimeoutMs)
    fail('heartbeat-interval-ms', `must be below session-timeout-ms (${sessionTimeoutMs})`);
  const maxBytesPerPartition = integer(values, 'max-bytes-per-partition', 1024, 1 << 30);
  const maxBytes = integer(values, 'max-bytes', 1024, 1 << 30);
  if (maxBytes < maxBytesPerPartition)
    fail('max-bytes', `must be at least max-bytes-per-partition (${maxBytesPerPartition})`);
  const maxRecordBytes =
    values['max-record-bytes'] === undefined ? undefined : integer(values, 'max-record-bytes', 1, 1 << 30);

  const connection: StreamConfig['connection'] = { brokers, clientId };
  const sasl = parseSasl(values);
  if (sasl !== undefined) connection.sasl = sasl;
  const tls = parseTls(values);
  if (tls !== undefined) connection.tls = tls;

  // Last: the key check (R3) reads files, and the topic errors above are the likelier typos.
  const key = resolveKey(values, true);

  return {
    engine: engineConfig(values, key),
    connection,
    groupId,
    inputTopics,
    outputTopic,
    findingsTopic,
    quarantineTopic,
    delivery: values.delivery as Delivery,
    transactionalIdPrefix,
    fromBeginning: values['start-from'] !== 'latest',
    findingsFormat: values['findings-format'] as FindingFormat,
    maxRecordBytes,
    maxFindingsPerRecord: integer(values, 'max-findings-per-record', 0, 1_000_000),
    maxOutputBytes: integer(values, 'max-output-bytes', 4096, 1 << 30),
    compression: values.compression as 'none' | 'gzip',
    consumer: {
      sessionTimeoutMs,
      heartbeatIntervalMs,
      rebalanceTimeoutMs: integer(values, 'rebalance-timeout-ms', 1000, 3_600_000),
      maxBytesPerPartition,
      maxBytes,
      maxWaitTimeMs: integer(values, 'max-wait-ms', 0, 60_000),
      partitionConcurrency: integer(values, 'partition-concurrency', 1, 64),
    },
    transactionTimeoutMs: integer(values, 'transaction-timeout-ms', 1000, 3_600_000),
    shutdownTimeoutMs: integer(values, 'shutdown-timeout-ms', 0, 3_600_000),
    http: { host: required(values, 'http-host'), port: integer(values, 'http-port', 0, 65535) },
    logLevel: values['log-level'] as LogLevel,
  };
}
