// Creating topics and waiting until every partition has a leader. kafkajs' own `waitForLeaders`
// retries only LEADER_NOT_AVAILABLE; right after a CreateTopics a broker (KRaft, loaded machine)
// can still answer UNKNOWN_TOPIC_OR_PARTITION for the new topic, and kafkajs then throws
// (tulios/kafkajs#1222, #815). We create without its wait and poll the metadata ourselves,
// tolerating both transient errors, until each partition names a leader or the deadline passes.
import type { Admin } from 'kafkajs';

export interface NewTopic {
  topic: string;
  numPartitions: number;
  replicationFactor?: number;
}

const TRANSIENT = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER']);

function isTransient(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && TRANSIENT.has(String((error as { type?: unknown }).type))
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True when every partition of every topic has a leader. Transient metadata errors count as "not yet". */
async function settled(admin: Admin, topics: readonly NewTopic[]): Promise<boolean> {
  try {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
    return topics.every((t) => {
      const m = meta.find((x) => x.name === t.topic);
      return (
        m !== undefined && m.partitions.length >= t.numPartitions && m.partitions.every((p) => p.leader >= 0)
      );
    });
  } catch (error) {
    if (isTransient(error)) return false;
    throw error;
  }
}

/**
 * Creates the topics that do not exist yet (an existing one is left as it is) and resolves once
 * every partition of all of them has a leader; rejects after `timeoutMs`.
 */
export async function createTopicsSettled(
  admin: Admin,
  topics: readonly NewTopic[],
  timeoutMs = 30_000,
): Promise<void> {
  if (topics.length === 0) return;
  await admin.createTopics({
    waitForLeaders: false,
    topics: topics.map((t) => ({
      topic: t.topic,
      numPartitions: t.numPartitions,
      replicationFactor: t.replicationFactor ?? -1,
    })),
  });
  const deadline = Date.now() + timeoutMs;
  for (let wait = 25; ; wait = Math.min(500, wait * 2)) {
    if (await settled(admin, topics)) return;
    if (Date.now() > deadline) {
      throw new Error(`topics ${topics.map((t) => t.topic).join(', ')} have no leader after ${timeoutMs} ms`);
    }
    await sleep(wait);
  }
}
