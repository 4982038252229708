// Our own vocabulary for Kafka, so that nothing outside src/kafka/ sees a kafkajs type.
// A client swap (e.g. to another Kafka library) rewrites this folder and nothing else.

/** Header values as they arrive: one Buffer, or several when the header name repeats. */
export type RecordHeaders = Record<string, Buffer | Buffer[]>;
/** Header values as they are written. */
export type OutputHeaders = Record<string, Buffer | string | (Buffer | string)[]>;

export interface InputRecord {
  topic: string;
  partition: number;
  /** Decimal offset (Kafka offsets are 64-bit). */
  offset: string;
  key: Buffer | null;
  /** null for a tombstone. */
  value: Buffer | null;
  /** Shared and frozen when the record has none: never written to. */
  headers: Readonly<RecordHeaders>;
  timestamp: string;
}

export interface OutputRecord {
  topic: string;
  /** Absent: the producer's default partitioner (murmur2 of the key, Java-compatible). */
  partition?: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: OutputHeaders;
}

/** The records one fetch returned for one partition, in offset order. */
export interface InputBatch {
  topic: string;
  partition: number;
  records: InputRecord[];
  /**
   * The offset to commit once the batch is done: one past the last offset the fetch covered,
   * including control records (transaction markers) that never reach `records`.
   */
  nextOffset: string;
  highWatermark: string;
}

export interface BatchControl {
  /** False once stop() began: a batch not yet started must be left alone. */
  isRunning(): boolean;
  /** The partition was sought or revoked meanwhile: the batch must not be processed. */
  isStale(): boolean;
  /** Everything before `nextOffset` is done: the next fetch of this partition starts there. */
  markConsumed(nextOffset: string): void;
  /**
   * Tells the group coordinator this member is alive. Throws when the group is rebalancing or this
   * member was removed: let that error propagate, the consumer rejoins the group.
   */
  heartbeat(): Promise<void>;
  /** At-least-once: commits `nextOffset` for this partition through the group (generation-checked). */
  commit(nextOffset: string): Promise<void>;
}

export type BatchHandler = (batch: InputBatch, control: BatchControl) => Promise<void>;

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface GroupConsumerOptions {
  groupId: string;
  /** Topic names (resolve patterns with KafkaAdmin.listTopics first). */
  topics: string[];
  /** Where a partition without a committed offset starts. */
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Fetch bounds: what one fetch may hold in memory at most (per partition, and in total). */
  maxBytesPerPartition: number;
  maxBytes: number;
  maxWaitTimeMs: number;
  /**
   * Partition batches of one fetch handled at the same time (never two of one partition). 1: one
   * after the other. Memory stays bounded by the fetch either way.
   */
  partitionConcurrency?: number;
}

export interface GroupConsumerEvents {
  /** The member joined (or rejoined) the group with this assignment. */
  onAssigned?(assignment: TopicPartitions[], info: { memberId: string; isLeader: boolean }): void;
  /** The group started a rebalance. */
  onRebalancing?(): void;
  /** The consumer failed; with `willRestart` it rejoins by itself, otherwise it is dead. */
  onCrash?(error: Error, willRestart: boolean): void;
}

export interface GroupConsumer {
  /** The subscribed topics. */
  readonly topics: readonly string[];
  /** Joins the group and calls `handler` per partition batch (one batch of a partition at a time). */
  run(handler: BatchHandler): Promise<void>;
  /** Lets the batch in flight finish, leaves the group, closes connections. */
  stop(): Promise<void>;
}

export interface ConsumedOffsets {
  groupId: string;
  topic: string;
  partition: number;
  /** The next offset to read (last processed + 1). */
  nextOffset: string;
}

/**
 * A transactional producer for one input partition. Its transactional id is stable, so a new
 * owner of the partition fences the old one by initialising a producer with the same id.
 */
export interface TransactionalProducer {
  readonly transactionalId: string;
  /** False once the producer can no longer be used (fenced, failed abort): make a new one. */
  readonly usable: boolean;
  /**
   * InitProducerId: bumps the epoch of this transactional id, which fences every earlier producer
   * with the id and completes (commits or aborts) a transaction it left open.
   */
  init(): Promise<void>;
  /**
   * One transaction: the records in order, then the consumed offsets, then commit. On failure the
   * transaction is aborted and the error rethrown; nothing of it is visible to read_committed readers.
   */
  commitBatch(records: readonly OutputRecord[], offsets: ConsumedOffsets): Promise<void>;
  close(): Promise<void>;
}

/** An idempotent producer (at-least-once delivery). */
export interface Producer {
  /** Sends in order and resolves once every record is acknowledged by all in-sync replicas. */
  send(records: readonly OutputRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaAdmin {
  /** Committed offset (next offset to read) of a group on a partition; null when none. */
  committedOffset(groupId: string, topic: string, partition: number): Promise<string | null>;
  /** Partition count of each topic; a topic that does not exist is absent from the map. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  listTopics(): Promise<string[]>;
  /** End offset (high watermark) of each partition of a topic. */
  endOffsets(topic: string): Promise<Map<number, string>>;
  /** Creates the topics that do not exist yet (single-broker tools: demo, tests); the processor never does. */
  createTopics(
    topics: readonly { topic: string; partitions: number; replicationFactor?: number }[],
  ): Promise<void>;
  close(): Promise<void>;
}

export type Compression = 'none' | 'gzip';

export interface ProducerOptions {
  /** Compression of the record batches written. */
  compression?: Compression;
}

export interface TransactionalProducerOptions extends ProducerOptions {
  transactionTimeoutMs: number;
}

export interface KafkaClient {
  groupConsumer(options: GroupConsumerOptions, events?: GroupConsumerEvents): GroupConsumer;
  transactionalProducer(
    transactionalId: string,
    options: TransactionalProducerOptions,
  ): TransactionalProducer;
  producer(options?: ProducerOptions): Producer;
  /** Connected admin client. */
  admin(): Promise<KafkaAdmin>;
}

export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Where the client's own log lines go; `fields` never hold record contents. */
export type KafkaLogSink = (
  level: KafkaLogLevel,
  message: string,
  fields: Record<string, string | number | boolean>,
) => void;

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface ConnectionOptions {
  brokers: string[];
  clientId: string;
  /** TLS: true for the system CAs; an object for a private CA and client certificates (PEM contents). */
  tls?: boolean | { ca?: string; cert?: string; key?: string; passphrase?: string; servername?: string };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Retries of one request before the error reaches the caller. */
  retries?: number;
  log?: KafkaLogSink;
  /** The least severe client log level passed to `log`. */
  logLevel?: KafkaLogLevel;
}
