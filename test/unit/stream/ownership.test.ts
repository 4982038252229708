// Exactly-once ownership logic without a broker (the integration tests prove it on one): which
// producers exist after each assignment, and that a new producer reads the committed offset only
// after its InitProducerId (the floor), so records an earlier owner committed are skipped.
import { describe, expect, it } from 'vitest';
import type { KafkaAdmin, KafkaClient, TransactionalProducer } from '../../../src/kafka/index.ts';
import { PartitionOwnership, transactionalId } from '../../../src/stream/ownership.ts';

function fakes() {
  const events: string[] = [];
  const committed = new Map<string, string>();
  const client = {
    transactionalProducer(id: string): TransactionalProducer {
      let usable = true;
      return {
        transactionalId: id,
        get usable() {
          return usable;
        },
        init: async () => {
          events.push(`init ${id}`);
        },
        commitBatch: async () => {},
        close: async () => {
          usable = false;
          events.push(`close ${id}`);
        },
      };
    },
  } as unknown as KafkaClient;
  const admin = {
    committedOffset: async (_group: string, topic: string, partition: number) => {
      events.push(`offset ${topic}-${partition}`);
      return committed.get(`${topic}-${partition}`) ?? null;
    },
  } as unknown as KafkaAdmin;
  const ownership = new PartitionOwnership({
    client,
    admin,
    groupId: 'g',
    transactionalIdPrefix: 'jr',
    transactionTimeoutMs: 60_000,
    compression: 'none',
  });
  return { events, committed, ownership };
}

describe('PartitionOwnership', () => {
  it('names transactional ids after prefix, group, topic and partition', () => {
    expect(transactionalId('jr', 'g', 'logs', 4)).toBe('jr-g-logs-4');
  });

  it('fences first, then reads the floor', async () => {
    const { events, committed, ownership } = fakes();
    committed.set('t-0', '42');
    const owned = await ownership.acquire('t', 0);
    expect(events).toEqual(['init jr-g-t-0', 'offset t-0']);
    expect(owned.floor).toBe(42n);
    expect(await ownership.acquire('t', 0)).toBe(owned);
  });

  it('follows the assignment: closes revoked partitions, creates new ones', async () => {
    const { events, ownership } = fakes();
    await ownership.reconcile([{ topic: 't', partitions: [0, 1] }]);
    events.length = 0;
    await ownership.reconcile([{ topic: 't', partitions: [1, 2] }]);
    await new Promise((r) => setTimeout(r, 0));
    expect(events.sort()).toEqual(['close jr-g-t-0', 'init jr-g-t-2', 'offset t-2']);
    expect(ownership.size).toBe(2);
  });

  it('replaces a discarded producer with a new one (and a new floor)', async () => {
    const { events, committed, ownership } = fakes();
    const first = await ownership.acquire('t', 0);
    committed.set('t-0', '7');
    ownership.discard(first);
    await new Promise((r) => setTimeout(r, 0));
    const second = await ownership.acquire('t', 0);
    expect(second).not.toBe(first);
    expect(second.floor).toBe(7n);
    expect(events.filter((e) => e.startsWith('init'))).toHaveLength(2);
  });
});
