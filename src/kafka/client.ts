// The one place that talks to kafkajs. Everything it hands out is typed with ./types.ts.
// First, before kafkajs loads: its record-header, record and record-batch encoders, its grouping of
// messages by partition and its partitioner's key hash are replaced (see kafkajs-header.ts,
// kafkajs-records.ts, kafkajs-producer.ts).
import './kafkajs-producer.ts';
import './kafkajs-header.ts';
import './kafkajs-records.ts';
import {
  type Admin,
  CompressionTypes,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  Kafka,
  type KafkaConfig,
  type LogEntry,
  logLevel,
  type Message,
  Partitioners,
  type Producer as RawProducer,
  type SASLOptions,
  type Transaction,
} from 'kafkajs';
import { describeError, isFencedError } from './errors.ts';
import { createTopicsSettled } from './topics.ts';
import type {
  BatchHandler,
  ConnectionOptions,
  ConsumedOffsets,
  GroupConsumer,
  GroupConsumerEvents,
  GroupConsumerOptions,
  InputBatch,
  InputRecord,
  KafkaAdmin,
  KafkaClient,
  KafkaLogLevel,
  OutputRecord,
  Producer,
  ProducerOptions,
  RecordHeaders,
  TopicPartitions,
  TransactionalProducer,
  TransactionalProducerOptions,
} from './types.ts';

/**
 * Bytes of records per produce request. The broker refuses a record batch above its
 * `message.max.bytes` (1 MiB by default) and kafkajs puts all records of one partition in one
 * batch, so large transactions are sent as several requests inside the same transaction.
 */
const MAX_REQUEST_BYTES = 900 * 1024;
const MAX_REQUEST_RECORDS = 5_000;
/** Per-record overhead estimate (record header, varints, header framing). */
const RECORD_OVERHEAD = 64;

const LEVELS: Record<KafkaLogLevel, logLevel> = {
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/** Fields of kafkajs log entries that may be passed on: identifiers and numbers, never payloads. */
const LOG_FIELDS = new Set([
  'groupId',
  'memberId',
  'leaderId',
  'isLeader',
  'generationId',
  'groupProtocol',
  'topic',
  'partition',
  'clientId',
  'transactionalId',
  'broker',
  'nodeId',
  'retryCount',
  'retryTime',
  'duration',
  'error',
  'type',
  'code',
]);

/** kafkajs' log lines that say nothing an operator can act on. */
const QUIET_MESSAGES = [
  // We bound the retries of transactional producers on purpose: a failed transaction is aborted
  // and the batch retried, so the idempotence warning does not apply.
  'Limiting retries for the idempotent producer',
];

function logCreator(options: ConnectionOptions) {
  const sink = options.log;
  return (_level: logLevel) =>
    (entry: LogEntry): void => {
      if (sink === undefined) return;
      const { message, ...rest } = entry.log;
      if (QUIET_MESSAGES.some((q) => message.startsWith(q))) return;
      const fields: Record<string, string | number | boolean> = { namespace: entry.namespace };
      for (const [k, v] of Object.entries(rest)) {
        if (!LOG_FIELDS.has(k)) continue;
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
      }
      const level: KafkaLogLevel =
        entry.level === logLevel.ERROR
          ? 'error'
          : entry.level === logLevel.WARN
            ? 'warn'
            : entry.level === logLevel.INFO
              ? 'info'
              : 'debug';
      sink(level, message, fields);
    };
}

function kafkaConfig(options: ConnectionOptions): KafkaConfig {
  const config: KafkaConfig = {
    brokers: options.brokers,
    clientId: options.clientId,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { retries: options.retries ?? 8, initialRetryTime: 300, maxRetryTime: 5_000 },
    logLevel: options.log === undefined ? logLevel.NOTHING : LEVELS[options.logLevel ?? 'warn'],
    logCreator: logCreator(options),
  };
  if (options.tls !== undefined && options.tls !== false) config.ssl = options.tls;
  if (options.sasl !== undefined) {
    const { mechanism, username, password } = options.sasl;
    config.sasl = { mechanism, username, password } as SASLOptions;
  }
  return config;
}

/** The headers of a record without any: one shared, frozen object (most records have none). */
const NO_HEADERS: RecordHeaders = Object.freeze({});

function toHeaders(headers: IHeaders | undefined): RecordHeaders {
  if (headers === undefined) return NO_HEADERS;
  let out: RecordHeaders | undefined;
  // for-in, not Object.entries: most records have no headers, and this runs once per record.
  for (const k in headers) {
    out ??= {};
    const v = headers[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? Buffer.from(x) : x));
    else out[k] = typeof v === 'string' ? Buffer.from(v) : v;
  }
  return out ?? NO_HEADERS;
}

/**
 * An output record as a kafkajs message. OutputRecord already has a message's shape (key, value,
 * headers, optional partition; kafkajs ignores the extra `topic`), so it is passed as is: no copy
 * per record.
 */
function toMessage(r: OutputRecord): Message {
  return r as Message;
}

function sizeOf(r: OutputRecord): number {
  let n = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  const headers = r.headers;
  if (headers !== undefined) {
    for (const k in headers) {
      const v = headers[k]!;
      if (Array.isArray(v)) for (const x of v) n += k.length + x.length + 8;
      else n += k.length + v.length + 8;
    }
  }
  return n;
}

/** Splits records into produce requests of bounded size, keeping their order. */
function* requests(records: readonly OutputRecord[]): Generator<{ topic: string; messages: Message[] }[]> {
  let byTopic = new Map<string, Message[]>();
  let bytes = 0;
  let count = 0;
  let lastTopic = '';
  let last: Message[] | undefined;
  for (const r of records) {
    const size = sizeOf(r);
    if (count > 0 && (bytes + size > MAX_REQUEST_BYTES || count >= MAX_REQUEST_RECORDS)) {
      yield [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      byTopic = new Map();
      last = undefined;
      bytes = 0;
      count = 0;
    }
    // Runs of records share a topic (redacted records, then a few findings): skip the map lookup.
    let list = last !== undefined && r.topic === lastTopic ? last : byTopic.get(r.topic);
    if (list === undefined) {
      list = [];
      byTopic.set(r.topic, list);
    }
    list.push(toMessage(r));
    last = list;
    lastTopic = r.topic;
    bytes += size;
    count++;
  }
  if (count > 0) yield [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function toInputBatch(batch: EachBatchPayload['batch']): InputBatch {
  const { topic, partition } = batch;
  const messages = batch.messages;
  const records: InputRecord[] = new Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    records[i] = {
      topic,
      partition,
      offset: m.offset,
      key: m.key ?? null,
      value: m.value ?? null,
      headers: toHeaders(m.headers),
      timestamp: m.timestamp,
    };
  }
  return {
    topic,
    partition,
    records,
    nextOffset: (BigInt(batch.lastOffset()) + 1n).toString(),
    highWatermark: batch.highWatermark,
  };
}

class KafkajsGroupConsumer implements GroupConsumer {
  readonly #options: GroupConsumerOptions;
  readonly #events: GroupConsumerEvents;
  readonly #consumer: Consumer;
  #stopping = false;
  topics: string[] = [];

  constructor(kafka: Kafka, options: GroupConsumerOptions, events: GroupConsumerEvents) {
    this.#options = options;
    this.#events = events;
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: options.maxBytes,
      maxWaitTimeInMs: options.maxWaitTimeMs,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      retry: {
        retries: 8,
        initialRetryTime: 300,
        maxRetryTime: 5_000,
        // kafkajs restarts only after retriable errors; a stop in progress must not be undone.
        restartOnFailure: async () => !this.#stopping,
      },
    });
    const c = this.#consumer;
    c.on(c.events.GROUP_JOIN, (e) => {
      const assignment: TopicPartitions[] = Object.entries(e.payload.memberAssignment).map(
        ([topic, partitions]) => ({
          topic,
          partitions: [...partitions].sort((a, b) => a - b),
        }),
      );
      this.#events.onAssigned?.(assignment, { memberId: e.payload.memberId, isLeader: e.payload.isLeader });
    });
    c.on(c.events.REBALANCING, () => this.#events.onRebalancing?.());
    c.on(c.events.CRASH, (e) => this.#events.onCrash?.(e.payload.error, e.payload.restart));
  }

  async run(handler: BatchHandler): Promise<void> {
    this.topics = [...this.#options.topics];
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: this.topics, fromBeginning: this.#options.fromBeginning });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, this.#options.partitionConcurrency ?? 1),
      eachBatch: async (payload) => {
        if (payload.batch.isEmpty()) return;
        const batch = toInputBatch(payload.batch);
        const { topic, partition } = batch;
        await handler(batch, {
          isRunning: payload.isRunning,
          isStale: payload.isStale,
          heartbeat: payload.heartbeat,
          markConsumed: (nextOffset) => payload.resolveOffset((BigInt(nextOffset) - 1n).toString()),
          commit: (nextOffset) =>
            payload.commitOffsetsIfNecessary({
              topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }],
            }),
        });
      },
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#consumer.disconnect();
  }
}

function compressionOf(options: ProducerOptions): CompressionTypes {
  return options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
}

class KafkajsTransactionalProducer implements TransactionalProducer {
  readonly transactionalId: string;
  readonly #producer: RawProducer;
  readonly #compression: CompressionTypes;
  #connected: Promise<void> | undefined;
  #usable = true;

  constructor(kafka: Kafka, transactionalId: string, options: TransactionalProducerOptions) {
    this.transactionalId = transactionalId;
    this.#compression = compressionOf(options);
    this.#producer = kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: options.transactionTimeoutMs,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      // Bounded: a send that cannot finish must surface, so the batch is aborted and retried
      // instead of blocking the member past its session timeout.
      retry: { retries: 6, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
  }

  get usable(): boolean {
    return this.#usable;
  }

  #connect(): Promise<void> {
    this.#connected ??= this.#producer.connect().catch((error: unknown) => {
      this.#usable = false;
      throw error;
    });
    return this.#connected;
  }

  /** Connects if needed and begins a transaction; a producer that cannot begin one is no longer usable. */
  async #begin(): Promise<Transaction> {
    await this.#connect();
    try {
      return await this.#producer.transaction();
    } catch (error) {
      this.#usable = false;
      throw error;
    }
  }

  async init(): Promise<void> {
    // kafkajs runs InitProducerId on the first transaction(); an empty transaction ends locally.
    const tx = await this.#begin();
    await tx.abort();
  }

  async commitBatch(records: readonly OutputRecord[], offsets: ConsumedOffsets): Promise<void> {
    if (!this.#usable) throw new Error(`transactional producer ${this.transactionalId} is no longer usable`);
    const tx = await this.#begin();
    try {
      // One request at a time: concurrent sends on an idempotent producer break its sequence numbers.
      for (const topicMessages of requests(records)) {
        await tx.sendBatch({ topicMessages, acks: -1, compression: this.#compression });
      }
      await tx.sendOffsets({
        consumerGroupId: offsets.groupId,
        topics: [
          {
            topic: offsets.topic,
            partitions: [{ partition: offsets.partition, offset: offsets.nextOffset }],
          },
        ],
      });
      await tx.commit();
    } catch (error) {
      // A failed abort (or a commit whose outcome is unknown) leaves the producer unusable: the
      // owner makes a new one, whose InitProducerId settles the open transaction either way.
      if (isFencedError(error) || !tx.isActive()) this.#usable = false;
      else {
        try {
          await tx.abort();
        } catch {
          this.#usable = false;
        }
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    this.#usable = false;
    await this.#producer.disconnect();
  }
}

class IdempotentProducer implements Producer {
  readonly #producer: RawProducer;
  readonly #compression: CompressionTypes;
  #connected: Promise<void> | undefined;

  constructor(kafka: Kafka, options: ProducerOptions) {
    this.#compression = compressionOf(options);
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: { retries: 6, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
  }

  async send(records: readonly OutputRecord[]): Promise<void> {
    this.#connected ??= this.#producer.connect().catch((error: unknown) => {
      this.#connected = undefined;
      throw error;
    });
    await this.#connected;
    for (const topicMessages of requests(records)) {
      await this.#producer.sendBatch({ topicMessages, acks: -1, compression: this.#compression });
    }
  }

  async close(): Promise<void> {
    await this.#producer.disconnect();
  }
}

class KafkajsAdmin implements KafkaAdmin {
  readonly #admin: Admin;
  constructor(admin: Admin) {
    this.#admin = admin;
  }

  async committedOffset(groupId: string, topic: string, partition: number): Promise<string | null> {
    const [entry] = await this.#admin.fetchOffsets({ groupId, topics: [topic] });
    const p = entry?.partitions.find((x) => x.partition === partition);
    if (p === undefined || p.offset === '-1' || p.offset === '') return null;
    return p.offset;
  }

  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const existing = new Set(await this.#admin.listTopics());
    const wanted = [...new Set(topics)].filter((t) => existing.has(t));
    const out = new Map<string, number>();
    if (wanted.length === 0) return out;
    const meta = await this.#admin.fetchTopicMetadata({ topics: wanted });
    for (const t of meta.topics) out.set(t.name, t.partitions.length);
    return out;
  }

  listTopics(): Promise<string[]> {
    return this.#admin.listTopics();
  }

  async endOffsets(topic: string): Promise<Map<number, string>> {
    const offsets = await this.#admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, o.high]));
  }

  async createTopics(
    topics: readonly { topic: string; partitions: number; replicationFactor?: number }[],
  ): Promise<void> {
    const existing = new Set(await this.#admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    await createTopicsSettled(
      this.#admin,
      missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions,
        ...(t.replicationFactor !== undefined ? { replicationFactor: t.replicationFactor } : {}),
      })),
    );
  }

  async close(): Promise<void> {
    await this.#admin.disconnect();
  }
}

/** A Kafka client for the given cluster. Nothing connects until a consumer, producer or admin is used. */
export function createKafkaClient(options: ConnectionOptions): KafkaClient {
  const kafka = new Kafka(kafkaConfig(options));
  return {
    groupConsumer: (o, events = {}) => new KafkajsGroupConsumer(kafka, o, events),
    transactionalProducer: (id, o) => new KafkajsTransactionalProducer(kafka, id, o),
    producer: (o = {}) => new IdempotentProducer(kafka, o),
    admin: async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
      } catch (error) {
        await admin.disconnect().catch(() => {});
        throw new Error(`cannot connect to Kafka at ${options.brokers.join(',')}: ${describeError(error)}`);
      }
      return new KafkajsAdmin(admin);
    },
  };
}
