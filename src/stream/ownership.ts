// Exactly-once ownership of input partitions: one transactional producer per assigned input
// partition, with a transactional id stable across members (<prefix>-<group>-<topic>-<partition>).
//
// Why one per partition: kafkajs commits transactional offsets without the group generation
// (no KIP-447), so the group cannot fence a zombie member. The transactional id does: when a
// partition moves, its new owner initialises a producer with the same id, which bumps the epoch
// (the old owner's next send, offset commit or commit fails with a fencing error) and settles the
// transaction the old owner left open (aborted, or completed if its commit was already under way).
//
// After that InitProducerId the committed offset of the partition is final, but the consumer may
// have fetched from an older one (kafkajs reads offsets as soon as the group is synced, before
// any producer exists). So each new producer reads the committed offset once more, the
// `floor`: records below it were written by the previous owner and are skipped, not duplicated.
import type {
  Compression,
  KafkaAdmin,
  KafkaClient,
  TopicPartitions,
  TransactionalProducer,
} from '../kafka/index.ts';

export interface OwnedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly producer: TransactionalProducer;
  /** Committed offset read after InitProducerId; records below it are already done. null: none committed. */
  floor: bigint | null;
}

export interface OwnershipOptions {
  client: KafkaClient;
  admin: KafkaAdmin;
  groupId: string;
  transactionalIdPrefix: string;
  transactionTimeoutMs: number;
  compression: Compression;
  onClosedError?: (transactionalId: string, error: unknown) => void;
}

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export function transactionalId(prefix: string, groupId: string, topic: string, partition: number): string {
  return `${prefix}-${groupId}-${topic}-${partition}`;
}

export class PartitionOwnership {
  readonly #o: OwnershipOptions;
  readonly #owned = new Map<string, Promise<OwnedPartition>>();

  constructor(options: OwnershipOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#owned.size;
  }

  async #create(topic: string, partition: number): Promise<OwnedPartition> {
    const id = transactionalId(this.#o.transactionalIdPrefix, this.#o.groupId, topic, partition);
    const producer = this.#o.client.transactionalProducer(id, {
      transactionTimeoutMs: this.#o.transactionTimeoutMs,
    });
    try {
      await producer.init();
      const committed = await this.#o.admin.committedOffset(this.#o.groupId, topic, partition);
      return { topic, partition, producer, floor: committed === null ? null : BigInt(committed) };
    } catch (error) {
      this.#close(producer);
      throw error;
    }
  }

  #close(producer: TransactionalProducer): void {
    producer.close().catch((error: unknown) => this.#o.onClosedError?.(producer.transactionalId, error));
  }

  /** The producer for a partition, created (and the previous owner fenced) on first use. */
  acquire(topic: string, partition: number): Promise<OwnedPartition> {
    const key = keyOf(topic, partition);
    let entry = this.#owned.get(key);
    if (entry === undefined) {
      entry = this.#create(topic, partition);
      this.#owned.set(key, entry);
      // A failed creation is forgotten, so the next acquire tries again.
      entry.catch(() => {
        if (this.#owned.get(key) === entry) this.#owned.delete(key);
      });
    }
    return entry;
  }

  /** Drops a producer that can no longer be used; the next acquire makes a new one (and re-reads the floor). */
  discard(owned: OwnedPartition): void {
    const key = keyOf(owned.topic, owned.partition);
    const entry = this.#owned.get(key);
    if (entry !== undefined) {
      entry.then(
        (current) => {
          if (current === owned && this.#owned.get(key) === entry) this.#owned.delete(key);
        },
        () => {},
      );
    }
    this.#close(owned.producer);
  }

  /**
   * Makes the owned set match a new assignment: producers of revoked partitions are closed,
   * producers of new partitions are created now (fencing their previous owner before any batch).
   * Resolves when every assigned partition has an initialised producer; rejects if one failed.
   */
  async reconcile(assignment: readonly TopicPartitions[]): Promise<void> {
    const wanted = new Set<string>();
    for (const { topic, partitions } of assignment) for (const p of partitions) wanted.add(keyOf(topic, p));
    for (const [key, entry] of [...this.#owned]) {
      if (wanted.has(key)) continue;
      this.#owned.delete(key);
      entry.then(
        (owned) => this.#close(owned.producer),
        () => {},
      );
    }
    const pending: Promise<OwnedPartition>[] = [];
    for (const { topic, partitions } of assignment)
      for (const p of partitions) pending.push(this.acquire(topic, p));
    await Promise.all(pending);
  }

  /** Closes every producer. */
  async closeAll(): Promise<void> {
    const entries = [...this.#owned.values()];
    this.#owned.clear();
    await Promise.all(
      entries.map((entry) =>
        entry.then(
          (owned) => owned.producer.close().catch(() => {}),
          () => {},
        ),
      ),
    );
  }
}
