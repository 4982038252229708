/**
 * Proves the test broker does what the product needs (SPEC §7): partitioned topics, transactional
 * consume-transform-produce with kafkajs (sendOffsets + commit), read_committed isolation of aborted
 * transactions, and a broker restart that keeps data, committed offsets and transaction state.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  type Admin,
  CompressionTypes,
  ConfigResourceTypes,
  type Consumer,
  type IHeaders,
  Kafka,
  logLevel,
  type Producer,
} from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';
import {
  type KafkaBroker,
  startKafkaBroker,
  suppressTimeoutNegativeWarning,
} from '../../scripts/kafka/broker.ts';
import { createTopicsSettled } from '../../src/kafka/index.ts';

suppressTimeoutNegativeWarning();

interface Received {
  partition: number;
  offset: string;
  key: string;
  value: string;
  headers: IHeaders;
}

// kafkajs logs retried errors (CONCURRENT_TRANSACTIONS, coordinator moves) at ERROR: quiet unless asked.
const LOG_LEVEL = process.env['KAFKAJS_LOG'] === '1' ? logLevel.INFO : logLevel.NOTHING;

function client(brokers: string, level = LOG_LEVEL): Kafka {
  return new Kafka({
    clientId: `broker-test-${randomUUID().slice(0, 8)}`,
    brokers: brokers.split(','),
    logLevel: level,
  });
}

function str(value: Buffer | string | null | undefined): string {
  return value === null || value === undefined ? '' : value.toString();
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reads `topic` from the beginning with a fresh group until `done(received)` holds. */
async function readTopic(
  kafka: Kafka,
  topic: string,
  readUncommitted: boolean,
  done: (received: Received[]) => boolean,
): Promise<Received[]> {
  const received: Received[] = [];
  const consumer = kafka.consumer({
    groupId: `reader-${randomUUID()}`,
    readUncommitted,
    maxWaitTimeInMs: 100,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          partition,
          offset: message.offset,
          key: str(message.key),
          value: str(message.value),
          headers: message.headers ?? {},
        });
      },
    });
    await waitFor(`records on ${topic} (have ${received.length})`, () => done(received));
    return received;
  } finally {
    await consumer.disconnect();
  }
}

async function groupOffsets(admin: Admin, groupId: string, topic: string): Promise<Record<number, string>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const result: Record<number, string> = {};
  for (const p of entry?.partitions ?? []) result[p.partition] = p.offset;
  return result;
}

function transactionalProducer(kafka: Kafka, transactionalId: string): Producer {
  return kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
}

const PARTITIONS = 3;
const PER_PARTITION = 10;

describe('test Kafka broker', () => {
  const brokers = inject('kafkaBrokers');

  it('runs transactional consume-transform-produce; read_committed skips aborted records', async () => {
    const id = randomUUID().slice(0, 8);
    const input = `broker-test-in-${id}`;
    const output = `broker-test-out-${id}`;
    const groupId = `broker-test-processor-${id}`;
    const kafka = client(brokers);
    const admin = kafka.admin();
    const seeder = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const producer = transactionalProducer(kafka, `broker-test-tx-${id}`);
    let processor: Consumer | undefined;
    try {
      await admin.connect();
      await createTopicsSettled(admin, [
        { topic: input, numPartitions: PARTITIONS },
        { topic: output, numPartitions: PARTITIONS },
      ]);
      const metadata = await admin.fetchTopicMetadata({ topics: [input, output] });
      for (const t of metadata.topics) expect(t.partitions).toHaveLength(PARTITIONS);

      // Input: 10 records per partition, key k<i>, partition i % 3.
      await seeder.connect();
      await seeder.send({
        topic: input,
        messages: Array.from({ length: PARTITIONS * PER_PARTITION }, (_, i) => ({
          key: `k${i}`,
          value: JSON.stringify({ i, token: `eyJhbGciOiJIUzI1NiJ9.eyJpIjoke${i}}.sig` }),
          partition: i % PARTITIONS,
          headers: { source: 'seed' },
        })),
      });

      // Consume-transform-produce, one transaction per batch: outputs + consumed offsets commit together.
      await producer.connect();
      processor = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
      await processor.connect();
      await processor.subscribe({ topic: input, fromBeginning: true });
      let processed = 0;
      let transactions = 0;
      await processor.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.isEmpty() || !isRunning() || isStale()) return;
          const transaction = await producer.transaction();
          try {
            await transaction.send({
              topic: output,
              messages: batch.messages.map((m) => ({
                key: m.key,
                value: `redacted:${str(m.value)}`,
                partition: batch.partition,
                headers: { ...m.headers, 'x-findings': '1' },
              })),
            });
            await transaction.sendOffsets({
              consumerGroupId: groupId,
              topics: [
                {
                  topic: batch.topic,
                  partitions: [
                    { partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) },
                  ],
                },
              ],
            });
            await transaction.commit();
          } catch (error) {
            await transaction.abort();
            throw error;
          }
          transactions++;
          processed += batch.messages.length;
          resolveOffset(batch.lastOffset());
          await heartbeat();
        },
      });
      await waitFor(`processor (processed ${processed})`, () => processed >= PARTITIONS * PER_PARTITION);
      await processor.disconnect();
      processor = undefined;
      expect(processed).toBe(PARTITIONS * PER_PARTITION);
      expect(transactions).toBeGreaterThanOrEqual(PARTITIONS);
      expect(await groupOffsets(admin, groupId, input)).toEqual({ 0: '10', 1: '10', 2: '10' });

      // An aborted transaction: records on every output partition and an offset commit, then abort.
      const aborted = await producer.transaction();
      await aborted.send({
        topic: output,
        messages: Array.from({ length: PARTITIONS * 2 }, (_, i) => ({
          key: `aborted${i}`,
          value: `ABORTED-${i}`,
          partition: i % PARTITIONS,
        })),
      });
      await aborted.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: '999' }] }],
      });
      await aborted.abort();

      // A committed transaction after it, one marker per partition: once a reader has seen every
      // marker it has read past the aborted records of that partition.
      const after = await producer.transaction();
      await after.send({
        topic: output,
        messages: Array.from({ length: PARTITIONS }, (_, p) => ({
          key: `after${p}`,
          value: 'AFTER',
          partition: p,
        })),
      });
      await after.commit();

      const markers = (r: Received[]): boolean => r.filter((m) => m.value === 'AFTER').length === PARTITIONS;
      const committed = await readTopic(kafka, output, false, markers);
      expect(committed.filter((m) => m.value.startsWith('ABORTED'))).toEqual([]);
      expect(committed).toHaveLength(PARTITIONS * PER_PARTITION + PARTITIONS);
      for (let p = 0; p < PARTITIONS; p++) {
        const values = committed.filter((m) => m.partition === p && m.value !== 'AFTER');
        // Same partition as the input record, order kept, headers carried over plus ours.
        expect(values.map((m) => m.key)).toEqual(
          Array.from({ length: PER_PARTITION }, (_, j) => `k${j * PARTITIONS + p}`),
        );
        for (const m of values) {
          expect(m.value.startsWith('redacted:{"i":')).toBe(true);
          expect(str(m.headers['source'] as Buffer)).toBe('seed');
          expect(str(m.headers['x-findings'] as Buffer)).toBe('1');
        }
      }

      // The aborted records are in the log: a read_uncommitted reader sees them.
      const uncommitted = await readTopic(kafka, output, true, markers);
      expect(uncommitted.filter((m) => m.value.startsWith('ABORTED'))).toHaveLength(PARTITIONS * 2);

      // The aborted offset commit did not happen.
      expect(await groupOffsets(admin, groupId, input)).toEqual({ 0: '10', 1: '10', 2: '10' });
    } finally {
      await processor?.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      await seeder.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  });

  it('shares partitions between two group members with auto commit; admin APIs answer (kafkajs protocol)', async () => {
    const id = randomUUID().slice(0, 8);
    const topic = `broker-test-group-${id}`;
    const groupId = `broker-test-group-${id}`;
    const kafka = client(brokers);
    const admin = kafka.admin();
    // Idempotent: a send retried after a timeout (a loaded machine) must not write a record twice,
    // or the count of distinct offsets below would exceed the 30 records sent.
    const producer = kafka.producer({ idempotent: true });
    const members = [0, 1].map(() =>
      kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 500 }),
    );
    const seen = new Map<string, number>(); // `${partition}:${offset}` -> member
    const assigned: number[][] = [[], []];
    try {
      await admin.connect();
      await createTopicsSettled(admin, [{ topic, numPartitions: PARTITIONS }]);
      await producer.connect();
      await producer.send({
        topic,
        compression: CompressionTypes.GZIP,
        messages: Array.from({ length: 30 }, (_, i) => ({
          key: `k${i}`,
          value: `v${i}`,
          partition: i % PARTITIONS,
        })),
      });
      for (const [n, consumer] of members.entries()) {
        consumer.on(consumer.events.GROUP_JOIN, (e) => {
          assigned[n] = (e.payload.memberAssignment[topic] ?? []).slice().sort();
        });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommitInterval: 100,
          eachMessage: async ({ partition, message }) => {
            seen.set(`${partition}:${message.offset}`, n);
          },
        });
      }
      // Member 0 first gets all partitions, then the rebalance splits them: wait for the split.
      await waitFor(
        'both members assigned',
        () =>
          assigned[0]!.length > 0 &&
          assigned[1]!.length > 0 &&
          assigned[0]!.length + assigned[1]!.length === 3,
      );
      expect([...assigned[0]!, ...assigned[1]!].sort()).toEqual([0, 1, 2]);
      await waitFor(`all records (seen ${seen.size})`, () => seen.size === 30);
      const described = await admin.describeGroups([groupId]);
      expect(described.groups[0]?.members).toHaveLength(2);
      await Promise.all(members.map((m) => m.disconnect())); // commits the last offsets on leave
      expect(await groupOffsets(admin, groupId, topic)).toEqual({ 0: '10', 1: '10', 2: '10' });

      // Admin calls the product or its tests may use.
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.map((o) => o.high).sort()).toEqual(['10', '10', '10']);
      expect(await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 60_000)).toHaveLength(PARTITIONS);
      expect(await admin.listTopics()).toContain(topic);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      });
      expect(configs.resources[0]?.configEntries.length).toBeGreaterThan(0);
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(groupId);
      await admin.setOffsets({
        groupId,
        topic,
        partitions: [0, 1, 2].map((partition) => ({ partition, offset: '3' })),
      });
      expect(await groupOffsets(admin, groupId, topic)).toEqual({ 0: '3', 1: '3', 2: '3' });
      await admin.deleteGroups([groupId]);
      await admin.deleteTopics({ topics: [topic] });
    } finally {
      await Promise.all(members.map((m) => m.disconnect().catch(() => {})));
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  });

  // A private broker: the shared one may be external (KAFKA_BROKERS) or used by other files.
  // Needs Java and Maven for its private broker; without them it fails (it never skips).
  it('keeps data, offsets and transaction state across a broker restart on the same ports', async () => {
    const broker: KafkaBroker = await startKafkaBroker();
    const kafka = client(broker.brokers); // connection errors during the restart are expected
    const admin = kafka.admin();
    const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const txId = 'restart-tx';
    let tx = transactionalProducer(kafka, txId);
    const topic = 'restart-topic';
    const groupId = 'restart-group';
    try {
      await admin.connect();
      await createTopicsSettled(admin, [{ topic, numPartitions: PARTITIONS }]);
      await tx.connect();
      const transaction = await tx.transaction();
      await transaction.send({
        topic,
        messages: Array.from({ length: 30 }, (_, i) => ({
          key: `k${i}`,
          value: `v${i}`,
          partition: i % PARTITIONS,
        })),
      });
      await transaction.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic, partitions: [0, 1, 2].map((partition) => ({ partition, offset: '4' })) }],
      });
      await transaction.commit();
      await tx.disconnect();
      await plain.connect();
      await plain.send({ topic, messages: [{ key: 'before', value: 'before-restart', partition: 0 }] });

      const { brokers, port, dataDir } = broker;
      const pidBefore = broker.pid;
      await broker.restart();
      expect(broker.brokers).toBe(brokers);
      expect(broker.port).toBe(port);
      expect(broker.dataDir).toBe(dataDir);
      expect(broker.pid).not.toBe(pidBefore);

      // A client connected before the restart carries on.
      await plain.send({ topic, messages: [{ key: 'after', value: 'after-restart', partition: 1 }] });

      const all = await readTopic(kafka, topic, false, (r) => r.length >= 32);
      expect(all).toHaveLength(32);
      expect(all.map((m) => m.value).sort()).toEqual(
        [...Array.from({ length: 30 }, (_, i) => `v${i}`), 'before-restart', 'after-restart'].sort(),
      );
      expect(await groupOffsets(admin, groupId, topic)).toEqual({ 0: '4', 1: '4', 2: '4' });

      // The transaction log survived: the same transactionalId initialises and commits again.
      tx = transactionalProducer(kafka, txId);
      await tx.connect();
      const again = await tx.transaction();
      await again.send({ topic, messages: [{ key: 'tx2', value: 'second-transaction', partition: 2 }] });
      await again.commit();
      const more = await readTopic(kafka, topic, false, (r) =>
        r.some((m) => m.value === 'second-transaction'),
      );
      expect(more).toHaveLength(33);
    } finally {
      await tx.disconnect().catch(() => {});
      await plain.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await broker.stop();
    }
    expect(broker.running).toBe(false);
    expect(existsSync(broker.workDir)).toBe(false);
  });
});
