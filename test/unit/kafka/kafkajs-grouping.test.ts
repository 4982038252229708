// The grouping of messages by partition that replaces kafkajs' own (src/kafka/kafkajs-grouping.ts)
// must give the same object, and must be what kafkajs' producer uses once client.ts is loaded.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GroupInput, groupMessagesPerPartition } from '../../../src/kafka/kafkajs-grouping.ts';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('kafkajs/package.json'));
const groupPath = join(root, 'src', 'producer', 'groupMessagesPerPartition.js');

/** kafkajs' own function, from its file, whatever the require cache holds. */
function kafkajsGroup(): (input: GroupInput<{ id: number; partition: number }>) => unknown {
  const m = new Module(groupPath) as Module & { _compile(source: string, filename: string): void };
  m.filename = groupPath;
  m._compile(readFileSync(groupPath, 'utf8'), groupPath);
  return m.exports as never;
}

describe('kafkajs grouping by partition replacement', () => {
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

  it("is what kafkajs' producer uses after client.ts is loaded, and not when kafkajs came first", () => {
    const state = (first: string): { applied: boolean; reason: string | null; ours: boolean } =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `${first}
             import { createRequire } from 'node:module';
             const { groupingPatch, groupMessagesPerPartition } = await import(${JSON.stringify(new URL('../../../src/kafka/kafkajs-grouping.ts', import.meta.url).href)});
             const require = createRequire(${JSON.stringify(join(root, 'index.js'))});
             require('./index.js');
             const used = require.cache[${JSON.stringify(groupPath)}].exports;
             process.stdout.write(JSON.stringify({ applied: groupingPatch.applied, reason: groupingPatch.reason ?? null, ours: used === groupMessagesPerPartition }));`,
          ],
          { encoding: 'utf8' },
        ),
      );
    expect(
      state(`import ${JSON.stringify(new URL('../../../src/kafka/client.ts', import.meta.url).href)};`),
    ).toEqual({
      applied: true,
      reason: null,
      ours: true,
    });
    expect(
      state(
        `import { createRequire as early } from 'node:module'; early(${JSON.stringify(join(root, 'index.js'))})('./index.js');`,
      ),
    ).toEqual({ applied: false, reason: 'kafkajs was loaded before the patch', ours: false });
  });
});
