// Kafka behind one small interface of our own: the stream processor, its tests and the demo see
// these types only; kafkajs stays inside this folder (see client.ts). createTopicsSettled takes a
// kafkajs admin: it is for the tests and benchmarks that drive kafkajs directly.
export { createKafkaClient } from './client.ts';
export { describeError, errorType, isFencedError, isGroupError, isPermanentError } from './errors.ts';
export { createTopicsSettled, type NewTopic } from './topics.ts';
export type * from './types.ts';

import { headerPatch } from './kafkajs-header.ts';
import type { PatchState } from './kafkajs-patch.ts';
import { producerPatch } from './kafkajs-producer.ts';
import { recordsPatch } from './kafkajs-records.ts';

/** Which kafkajs replacements this process uses (see kafkajs-*.ts), for the start-up log. */
export function kafkajsReplacements(): Record<'headers' | 'records' | 'producer', PatchState> {
  return { headers: headerPatch, records: recordsPatch, producer: producerPatch };
}
