// The grouping of messages by partition that replaces kafkajs' own (src/kafka/kafkajs-producer.ts)
// must give the same object, and must be what kafkajs' producer uses once client.ts is loaded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GroupInput, groupMessagesPerPartition, murmur2 } from '../../../src/kafka/kafkajs-producer.ts';
import { CLIENT_FIRST, inFreshProcess, kafkajsFirst, kafkajsOwn } from './kafkajs-harness.ts';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('kafkajs/package.json'));
const groupPath = join(root, 'src', 'producer', 'groupMessagesPerPartition.js');
const murmurPath = join(root, 'src', 'producer', 'partitioners', 'default', 'murmur2.js');

const kafkajsGroup = (): ((input: GroupInput<{ id: number; partition: number }>) => unknown) =>
  kafkajsOwn(groupPath);

describe('kafkajs producer helpers replacement', () => {
  it('replaces the function of the pinned kafkajs file (a changed kafkajs must be looked at again)', () => {
    expect(readFileSync(groupPath, 'utf8')).toContain(
      'return Object.assign(result, { [partition]: [...current, message] })',
    );
  });

  it('gives the object kafkajs gives: same keys in the same order, same messages in send order', () => {
    const original = kafkajsGroup();
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 3 }),
        (partitions, metadataLength) => {
          const messages = partitions.map((partition, id) => ({ id, partition }));
          const calls: number[][] = [[], []];
          const input = (n: number): GroupInput<(typeof messages)[number]> => ({
            topic: 't',
            partitionMetadata: Array.from({ length: metadataLength }, (_, i) => ({ partitionId: i })),
            messages,
            partitioner: ({ message }) => {
              calls[n]!.push(message.id);
              return message.partition;
            },
          });
          const ours = groupMessagesPerPartition(input(0));
          const theirs = original(input(1)) as typeof ours;
          expect(Object.keys(ours)).toEqual(Object.keys(theirs));
          for (const k of Object.keys(ours)) {
            expect(ours[k]!.length).toBe(theirs[k]!.length);
            for (const [i, m] of ours[k]!.entries()) expect(m).toBe(theirs[k]![i]);
          }
          expect(calls[0]).toEqual(calls[1]); // the partitioner is asked the same, in the same order
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hashes keys as kafkajs (and Kafka) do: strings, Buffers, every tail length', () => {
    const kafkajsMurmur2 = kafkajsOwn<(key: unknown) => number>(murmurPath);
    expect(readFileSync(murmurPath, 'utf8')).toContain('return h.toInt()');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 64 }),
          fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
          fc.integer(),
        ),
        (key) => {
          expect(murmur2(key)).toBe(kafkajsMurmur2(key));
        },
      ),
      { numRuns: 3_000 },
    );
    // Known values of Kafka's Utils.murmur2 (as its Java tests state them, signed 32-bit).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from('abc'))).toBe(479470107);
  });

  it("is what kafkajs' producer uses after client.ts is loaded, and not when kafkajs came first", () => {
    const state = (first: string) =>
      inFreshProcess<{ applied: boolean; reason: string | null; ours: boolean }>(
        first,
        `const { producerPatch, groupMessagesPerPartition, murmur2 } = await load('kafkajs-producer.ts');
         require('./index.js');
         const used = (p) => require.cache[p].exports;
         process.stdout.write(JSON.stringify({ applied: producerPatch.applied, reason: producerPatch.reason ?? null,
           ours: used(${JSON.stringify(groupPath)}) === groupMessagesPerPartition && used(${JSON.stringify(murmurPath)}) === murmur2 }));`,
      );
    expect(state(CLIENT_FIRST)).toEqual({ applied: true, reason: null, ours: true });
    expect(state(kafkajsFirst('./index.js'))).toEqual({
      applied: false,
      reason: 'kafkajs was loaded before the patch',
      ours: false,
    });
  });
});
