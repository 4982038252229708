// Two kafkajs producer helpers, replaced by equivalent ones that do far less work. Loaded by client.ts
// before kafkajs itself: kafkajs binds both when its producer and partitioner modules load, which is
// when kafkajs is first imported (unlike the encoders, kafkajs-header.ts and kafkajs-records.ts).
//
// - Grouping a send's messages by partition. kafkajs 2.2.4 does
//   `Object.assign(result, { [partition]: [...current, message] })` per message, copying the
//   partition's list so far each time: quadratic in a partition's messages (about 220,000 element
//   copies for one fetch batch of 667 records, ~2 us per record). The result here is the same
//   object in one pass: keys are the partitions the partitioner gives, in the order JavaScript keeps
//   integer keys, each with its messages in send order.
// - The default partitioner's murmur2 of a record key (the findings topic is keyed by token
//   fingerprint). kafkajs computes Kafka's 32-bit murmur2 with 64-bit Long objects, several
//   allocated per 4 bytes of key (~2.5 us for a fingerprint); only the low 32 bits are kept, and
//   multiplication and xor give the same low 32 bits from the low 32 bits of their operands, so
//   Math.imul on 32-bit ints gives the same result.
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

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 of a key (a Buffer, or anything else as the UTF-8 of String(key)), as a signed 32-bit int. */
export function murmur2(key: unknown): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  // murmur2's tail: the last one to three bytes, highest first.
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

function install(): PatchState {
  const files = kafkajsFiles();
  if (!('path' in files)) return { applied: false, reason: files.reason };
  const groupPath = files.path('src', 'producer', 'groupMessagesPerPartition.js');
  const murmurPath = files.path('src', 'producer', 'partitioners', 'default', 'murmur2.js');
  const sendPath = files.path('src', 'producer', 'sendMessages.js');
  const partitionerPath = files.path('src', 'producer', 'partitioners', 'default', 'index.js');
  if (exportsOf(groupPath) === groupMessagesPerPartition && exportsOf(murmurPath) === murmur2)
    return { applied: true };
  if (loaded(sendPath) || loaded(partitionerPath))
    return { applied: false, reason: 'kafkajs was loaded before the patch' };
  replaceModule(groupPath, groupMessagesPerPartition);
  replaceModule(murmurPath, murmur2);
  return { applied: true };
}

/**
 * Whether kafkajs groups messages by partition with groupMessagesPerPartition, and its default
 * partitioner hashes keys with murmur2, in this process.
 */
export const producerPatch: PatchState = install();
