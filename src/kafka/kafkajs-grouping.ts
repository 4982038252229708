// kafkajs' grouping of a send's messages by partition, replaced by a linear one. Loaded by client.ts
// before kafkajs itself: kafkajs binds this module when its producer module loads, which is when
// kafkajs is first imported (unlike the encoders, kafkajs-header.ts and kafkajs-records.ts).
//
// Why: kafkajs 2.2.4 groups with `Object.assign(result, { [partition]: [...current, message] })`
// per message, copying the partition's list so far each time: quadratic in the messages of a
// partition (about 220,000 element copies for one fetch batch of 667 records, ~2 us per record).
// The result is the same object: keys are the partitions the partitioner gives, in the order
// JavaScript keeps integer keys, each with its messages in send order.
import { exportsOf, kafkajsFiles, loaded, type PatchState, replaceModule } from './kafkajs-patch.ts';

export interface GroupInput<M> {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly M[];
  partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

/** kafkajs' groupMessagesPerPartition, in one pass. */
export function groupMessagesPerPartition<M>({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: GroupInput<M>): Record<string, M[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<string, M[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const current = result[partition];
    if (current === undefined) result[partition] = [message];
    else current.push(message);
  }
  return result;
}

function install(): PatchState {
  const files = kafkajsFiles();
  if (!('path' in files)) return { applied: false, reason: files.reason };
  const groupPath = files.path('src', 'producer', 'groupMessagesPerPartition.js');
  const sendPath = files.path('src', 'producer', 'sendMessages.js');
  if (exportsOf(groupPath) === groupMessagesPerPartition) return { applied: true };
  if (loaded(sendPath)) return { applied: false, reason: 'kafkajs was loaded before the patch' };
  replaceModule(groupPath, groupMessagesPerPartition);
  return { applied: true };
}

/** Whether kafkajs groups messages by partition with groupMessagesPerPartition in this process. */
export const groupingPatch: PatchState = install();
