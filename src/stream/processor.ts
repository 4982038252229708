// The stream processor: one consumer-group member reading the input topics, one partition batch at a
// time (bounded by the fetch sizes: no queue grows with the input's lead), redacting each batch and
// committing its outputs and consumed offsets together.
//
// exactly-once: per batch, one transaction on the partition's own transactional producer
//   (ownership.ts): redacted/quarantine records + findings + the consumed offset, then commit.
//   read_committed readers see each input offset's outputs exactly once, whatever crashes.
// at-least-once: one idempotent producer; the outputs are acknowledged, then the offset is
//   committed through the group. A crash between the two repeats the batch.
//
// A batch whose commit fails is not marked consumed: the transaction is aborted (or its producer
// replaced), and the next fetch of the partition returns the same records again.
import {
  type BatchControl,
  describeError,
  errorType,
  type GroupConsumer,
  type InputBatch,
  isFencedError,
  isGroupError,
  isPermanentError,
  type KafkaAdmin,
  type KafkaClient,
  kafkajsReplacements,
  type Producer,
  type TopicPartitions,
} from '../kafka/index.ts';
import type { FullEngine } from '../pipeline/index.ts';
import { ConfigError } from '../util/errors.ts';
import type { StreamConfig } from './config.ts';
import type { StreamLogger } from './log.ts';
import type { StreamMetrics } from './metrics.ts';
import { type OwnedPartition, PartitionOwnership } from './ownership.ts';
import { BatchTransform } from './transform.ts';

/** After this many failed batches in a row, /readyz turns 503 until a batch succeeds again. */
const UNREADY_AFTER_FAILURES = 3;
/** The same permanent error (permissions, a record the broker refuses) this many times in a row stops the processor (exit 3). */
const FATAL_AFTER_FAILURES = 5;

export type ProcessorState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface StreamProcessorOptions {
  config: StreamConfig;
  engine: FullEngine;
  client: KafkaClient;
  logger: StreamLogger;
  metrics: StreamMetrics;
}

/**
 * Input topic names: the names given (each must exist) and the existing topics a pattern matches
 * (internal `__` topics and our own output topics never match). Patterns are matched once, at start.
 */
export function resolveInputTopics(
  inputs: readonly (string | RegExp)[],
  existing: readonly string[],
  outputs: readonly string[],
): string[] {
  const have = new Set(existing);
  const out = new Set<string>();
  for (const i of inputs) {
    if (typeof i === 'string') {
      if (!have.has(i)) throw new ConfigError(`input topic ${i} does not exist`, { field: 'input-topics' });
      out.add(i);
    }
  }
  const patterns = inputs.filter((i): i is RegExp => typeof i !== 'string');
  for (const t of existing) {
    if (t.startsWith('__') || outputs.includes(t)) continue;
    if (patterns.some((p) => p.test(t))) out.add(t);
  }
  if (out.size === 0)
    throw new ConfigError('no existing topic matches input-topics', { field: 'input-topics' });
  return [...out].sort();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class StreamProcessor {
  readonly #c: StreamConfig;
  readonly #engine: FullEngine;
  readonly #client: KafkaClient;
  readonly #log: StreamLogger;
  readonly #metrics: StreamMetrics;
  #state: ProcessorState = 'created';
  #admin: KafkaAdmin | undefined;
  #consumer: GroupConsumer | undefined;
  #ownership: PartitionOwnership | undefined;
  #producer: Producer | undefined;
  #transform: BatchTransform | undefined;
  #outputPartitions = 0;
  #joined = false;
  #producersReady = false;
  #assignment: TopicPartitions[] = [];
  #assignmentVersion = 0;
  #failures = 0;
  #fatalStreak: { type: string; count: number } = { type: '', count: 0 };
  #stopping: Promise<void> | undefined;
  #started: Promise<void> | undefined;
  #sendQueue: Promise<void> = Promise.resolve();
  #resolveDone!: () => void;
  #rejectDone!: (error: Error) => void;
  /** Settles when the processor stopped: resolves after stop(), rejects after a fatal error. */
  readonly done: Promise<void>;

  constructor(options: StreamProcessorOptions) {
    this.#c = options.config;
    this.#engine = options.engine;
    this.#client = options.client;
    this.#log = options.logger;
    this.#metrics = options.metrics;
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(() => {}); // observed through `done` by the caller
  }

  get state(): ProcessorState {
    return this.#state;
  }

  /** Ready: joined the group and (exactly-once) every assigned partition has an initialised producer. */
  get ready(): boolean {
    return (
      this.#state === 'running' &&
      this.#joined &&
      this.#producersReady &&
      this.#failures < UNREADY_AFTER_FAILURES
    );
  }

  /** Live: not failed. */
  get live(): boolean {
    return this.#state !== 'failed';
  }

  get assignment(): readonly TopicPartitions[] {
    return this.#assignment;
  }

  #updateReady(): void {
    this.#metrics.setReady(this.ready);
  }

  /** Checks the topics, joins the group and starts consuming. Throws ConfigError for missing topics. */
  start(): Promise<void> {
    if (this.#state !== 'created') return Promise.reject(new Error('a StreamProcessor starts once'));
    this.#state = 'starting';
    this.#started = this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const c = this.#c;
    try {
      this.#admin = await this.#client.admin();
      const counts = await this.#admin.partitionCounts([c.outputTopic, c.findingsTopic, c.quarantineTopic]);
      const fields: [string, string][] = [
        ['output-topic', c.outputTopic],
        ['findings-topic', c.findingsTopic],
        ['quarantine-topic', c.quarantineTopic],
      ];
      for (const [field, topic] of fields) {
        if (!counts.has(topic))
          throw new ConfigError(
            `topic ${topic} does not exist; create it first (the processor never creates topics)`,
            { field },
          );
      }
      this.#outputPartitions = counts.get(c.outputTopic)!;
      const inputs = resolveInputTopics(c.inputTopics, await this.#admin.listTopics(), [
        c.outputTopic,
        c.findingsTopic,
        c.quarantineTopic,
      ]);
      const inputCounts = await this.#admin.partitionCounts(inputs);
      this.#checkOutputPartitions(inputCounts);

      const maxRecordBytes = Math.min(
        c.maxRecordBytes ?? Number.POSITIVE_INFINITY,
        this.#engine.policy.limits.maxRecordBytes,
      );
      this.#transform = new BatchTransform(this.#engine, {
        outputTopic: c.outputTopic,
        findingsTopic: c.findingsTopic,
        quarantineTopic: c.quarantineTopic,
        quarantinePartitions: counts.get(c.quarantineTopic)!,
        findingsFormat: c.findingsFormat,
        maxRecordBytes,
        maxOutputBytes: c.maxOutputBytes,
        maxFindingsPerRecord: c.maxFindingsPerRecord,
      });
      if (c.delivery === 'exactly-once') {
        this.#ownership = new PartitionOwnership({
          client: this.#client,
          admin: this.#admin,
          groupId: c.groupId,
          transactionalIdPrefix: c.transactionalIdPrefix,
          transactionTimeoutMs: c.transactionTimeoutMs,
          compression: c.compression,
          onClosedError: (id, error) =>
            this.#log.debug(
              { transactionalId: id, error: describeError(error) },
              'closing a producer failed',
            ),
        });
      } else {
        this.#producer = this.#client.producer({ compression: c.compression });
      }

      this.#consumer = this.#client.groupConsumer(
        {
          groupId: c.groupId,
          topics: inputs,
          fromBeginning: c.fromBeginning,
          ...c.consumer,
        },
        {
          onAssigned: (assignment, info) => this.#onAssigned(assignment, info.memberId),
          onRebalancing: () => {
            this.#metrics.rebalance();
            this.#log.info('group is rebalancing');
          },
          onCrash: (error, willRestart) => this.#onCrash(error, willRestart),
        },
      );
      if (this.#state !== 'starting') return; // stop() came first
      this.#state = 'running';
      await this.#consumer.run((batch, control) => this.#handle(batch, control));
      this.#log.info(
        {
          group: c.groupId,
          inputTopics: inputs,
          outputTopic: c.outputTopic,
          delivery: c.delivery,
          kafkajsReplacements: kafkajsReplacements(),
        },
        'consumer started',
      );
    } catch (error) {
      if (this.#stopping !== undefined) return; // stopping anyway; stop() settles `done`
      this.#state = 'failed';
      await this.#consumer?.stop().catch(() => {});
      await this.#closeClients();
      this.#rejectDone(error as Error);
      throw error;
    }
  }

  #checkOutputPartitions(inputCounts: Map<string, number>): void {
    for (const [topic, n] of inputCounts) {
      if (n > this.#outputPartitions) {
        throw new ConfigError(
          `input topic ${topic} has ${n} partitions but ${this.#c.outputTopic} only ${this.#outputPartitions}: records keep their partition number, so the output topic needs at least as many`,
          { field: 'output-topic' },
        );
      }
    }
  }

  #onAssigned(assignment: TopicPartitions[], memberId: string): void {
    const previous = this.#assignment;
    this.#assignment = assignment;
    const version = ++this.#assignmentVersion;
    this.#joined = true;
    const count = assignment.reduce((n, a) => n + a.partitions.length, 0);
    this.#metrics.setAssigned(count);
    const now = new Set(assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}\u0000${p}`)));
    for (const a of previous)
      for (const p of a.partitions)
        if (!now.has(`${a.topic}\u0000${p}`)) this.#metrics.forgetPartition(a.topic, p);
    this.#log.info(
      { memberId, assignment: assignment.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') },
      'joined the group',
    );

    for (const a of assignment) {
      const max = Math.max(-1, ...a.partitions);
      if (max >= this.#outputPartitions) {
        this.#fail(
          new ConfigError(
            `input partition ${a.topic}:${max} has no partition of the same number in ${this.#c.outputTopic}`,
            { field: 'output-topic' },
          ),
        );
        return;
      }
    }

    if (this.#ownership === undefined) {
      this.#producersReady = true;
      this.#updateReady();
      return;
    }
    this.#producersReady = false;
    this.#updateReady();
    this.#ownership.reconcile(assignment).then(
      () => {
        if (version !== this.#assignmentVersion) return;
        this.#producersReady = true;
        this.#updateReady();
        this.#log.info({ producers: this.#ownership?.size ?? 0 }, 'transactional producers initialised');
      },
      (error: unknown) => {
        // Not fatal: the batch handler creates the missing producers when it needs them.
        this.#log.warn(
          { error: describeError(error) },
          'initialising transactional producers failed; retrying on the next batch',
        );
      },
    );
  }

  #onCrash(error: Error, willRestart: boolean): void {
    this.#joined = false;
    this.#updateReady();
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    if (willRestart) {
      this.#log.warn({ error: describeError(error) }, 'consumer failed; it restarts and rejoins the group');
      return;
    }
    this.#log.error({ error: describeError(error) }, 'consumer failed and cannot restart');
    this.#fail(error);
  }

  #fail(error: Error): void {
    if (this.#state === 'failed' || this.#state === 'stopped') return;
    this.#log.error({ error: describeError(error) }, 'stopping after a fatal error');
    this.#shutdown().then(
      () => {
        this.#state = 'failed';
        this.#updateReady();
        this.#rejectDone(error);
      },
      () => {
        this.#state = 'failed';
        this.#rejectDone(error);
      },
    );
  }

  async #handle(batch: InputBatch, control: BatchControl): Promise<void> {
    if (this.#state !== 'running' || !control.isRunning() || control.isStale()) return;
    const started = performance.now();
    const { topic, partition } = batch;
    const transform = this.#transform!;

    let owned: OwnedPartition | undefined;
    let records = batch.records;
    if (this.#ownership !== undefined) {
      try {
        owned = await this.#ownership.acquire(topic, partition);
      } catch (error) {
        await this.#failed(batch, control, error, 'init');
        return;
      }
      if (owned.floor !== null) {
        const floor = owned.floor;
        if (BigInt(batch.nextOffset) <= floor) {
          this.#metrics.recordsSkipped(topic, records.length);
          control.markConsumed(floor.toString());
          await control.heartbeat();
          return;
        }
        const before = records.length;
        records = records.filter((r) => BigInt(r.offset) >= floor);
        this.#metrics.recordsSkipped(topic, before - records.length);
      }
    }

    // Heartbeats while a long batch is transformed; a rebalance error ends the batch uncommitted.
    const out = await transform.run({ records }, () => control.heartbeat());

    try {
      if (owned !== undefined) {
        await owned.producer.commitBatch(out.records, {
          groupId: this.#c.groupId,
          topic,
          partition,
          nextOffset: batch.nextOffset,
        });
        owned.floor = null;
      } else {
        await this.#serially(() => this.#producer!.send(out.records));
        await control.commit(batch.nextOffset);
      }
    } catch (error) {
      if (owned !== undefined && !owned.producer.usable) this.#ownership!.discard(owned);
      // At-least-once: a commit refused by the group (rebalance) goes back to the consumer, which rejoins.
      if (owned === undefined && isGroupError(error)) {
        this.#metrics.aborted(errorType(error));
        throw error;
      }
      await this.#failed(batch, control, error, owned !== undefined ? 'transaction' : 'send');
      return;
    }

    control.markConsumed(batch.nextOffset);
    this.#succeeded();
    this.#log.debug(
      {
        topic,
        partition,
        nextOffset: batch.nextOffset,
        records: out.stats.records,
        written: out.records.length,
      },
      'batch committed',
    );
    this.#metrics.batchCommitted(topic, out.stats, (performance.now() - started) / 1000, this.#c.delivery);
    this.#metrics.lag(topic, partition, BigInt(batch.highWatermark) - BigInt(batch.nextOffset));
    await control.heartbeat();
  }

  /** One send at a time on the shared idempotent producer: concurrent sends break its sequence numbers. */
  #serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#sendQueue.then(fn, fn);
    this.#sendQueue = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  #succeeded(): void {
    const wasUnready = this.#failures >= UNREADY_AFTER_FAILURES;
    this.#failures = 0;
    this.#fatalStreak = { type: '', count: 0 };
    if (wasUnready) this.#updateReady();
  }

  /** A batch failed: count it, back off, check the group (a rebalance error propagates), leave the batch unconsumed. */
  async #failed(batch: InputBatch, control: BatchControl, error: unknown, stage: string): Promise<void> {
    const type = errorType(error);
    this.#failures++;
    this.#metrics.aborted(type);
    if (this.#failures === UNREADY_AFTER_FAILURES) this.#updateReady();
    const fenced = isFencedError(error);
    this.#log.warn(
      {
        topic: batch.topic,
        partition: batch.partition,
        offset: batch.records[0]?.offset,
        stage,
        error: describeError(error),
        failures: this.#failures,
      },
      fenced
        ? 'producer fenced by a newer owner of the partition; batch left for the owner'
        : 'batch failed; it is retried',
    );
    if (isPermanentError(error)) {
      this.#fatalStreak =
        this.#fatalStreak.type === type ? { type, count: this.#fatalStreak.count + 1 } : { type, count: 1 };
      if (this.#fatalStreak.count >= FATAL_AFTER_FAILURES) {
        this.#fail(
          new Error(`giving up after ${FATAL_AFTER_FAILURES} failures in a row: ${describeError(error)}`),
        );
        return;
      }
    }
    await sleep(Math.min(5_000, 200 * 2 ** Math.min(this.#failures - 1, 5)));
    // A fenced producer usually means the partition moved: the heartbeat says so (and the consumer rejoins).
    await control.heartbeat();
  }

  /** Graceful stop: the batch in flight finishes (or aborts), the member leaves the group, producers close. */
  stop(): Promise<void> {
    if (this.#state === 'created') {
      this.#state = 'stopped';
      this.#resolveDone();
      return Promise.resolve();
    }
    if (this.#state === 'failed' || this.#state === 'stopped') return Promise.resolve();
    return this.#shutdown().then(() => {
      if (this.#state !== 'failed') {
        this.#state = 'stopped';
        this.#resolveDone();
      }
    });
  }

  #shutdown(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopping';
      this.#updateReady();
      this.#log.info('stopping: finishing the batch in flight and leaving the group');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.#c.shutdownTimeoutMs);
      });
      const leave = (async () => {
        await this.#started?.catch(() => {});
        await this.#consumer?.stop();
        return 'stopped' as const;
      })().catch((error: unknown) => error);
      const result = await Promise.race([leave, timeout]);
      clearTimeout(timer);
      if (result === 'timeout')
        this.#log.warn(
          { timeoutMs: this.#c.shutdownTimeoutMs },
          'the batch in flight did not finish in time; its transaction is left to abort',
        );
      else if (result !== 'stopped')
        this.#log.warn({ error: describeError(result) }, 'leaving the group failed');
      await this.#closeClients();
      this.#log.info('stopped');
    })();
    return this.#stopping;
  }

  async #closeClients(): Promise<void> {
    await this.#ownership?.closeAll();
    await this.#producer?.close().catch(() => {});
    await this.#admin?.close().catch(() => {});
  }
}
