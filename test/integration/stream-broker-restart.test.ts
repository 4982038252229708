// A broker restart mid-run: the processor loses its connections, transactions fail and the consumer
// falls out of the group; once the broker is back (same ports, same data) it recovers by itself and
// nothing is lost or duplicated. Runs on a private broker: the shared one may be external
// (KAFKA_BROKERS) and other test files use it. Needs Java 17 + Maven like the shared local broker;
// without them the test fails (it never skips).
import { describe, expect, it } from 'vitest';
import { startKafkaBroker } from '../../scripts/kafka/broker.ts';
import * as kit from './stream-kit.ts';
import { makeTokens, mixedInputs, SMALL_BATCH_ARGS } from './stream-tokens.ts';

const BEFORE = 4_000;
const AFTER = 2_000;
const PARTITIONS = 3;

describe('stream processor and a broker restart', () => {
  it('recovers after the broker restarts mid-run; nothing lost, nothing duplicated', async () => {
    const broker = await startKafkaBroker({
      onProgress: (m) => process.stderr.write(`[kafka private] ${m}\n`),
    });
    const brokers = broker.brokers;
    try {
      const tokens = await makeTokens();
      const t = kit.topicNames('restart');
      await kit.createStreamTopics(brokers, t, PARTITIONS, 2);
      const inputs = mixedInputs(tokens, BEFORE + AFTER, PARTITIONS, 'restart');
      await kit.produce(brokers, t.input, inputs.slice(0, BEFORE), { perRequest: PARTITIONS });

      const run = await kit.startInProcess(kit.processorArgs(brokers, t, kit.keyFile(), SMALL_BATCH_ARGS));
      let restartedAt = 0n;
      try {
        await kit.waitFor(
          '20% processed',
          async () => (await kit.committedCount(brokers, t)) >= BigInt(BEFORE * 0.2),
          60_000,
          50,
        );
        restartedAt = await kit.committedCount(brokers, t);
        await broker.restart();
        // New input after the restart, too.
        await kit.produce(brokers, t.input, inputs.slice(BEFORE), { perRequest: PARTITIONS });
        await kit.waitForCommitted(brokers, t.group, t.input, 180_000);
        expect(run.processor.state).toBe('running');
      } finally {
        await run.stop();
      }
      expect(restartedAt).toBeLessThan(BigInt(BEFORE));

      expect(inputs).toHaveLength(BEFORE + AFTER);
      const o = await kit.readRunOutput(brokers, t);
      const report = kit.expectExactlyOnce(inputs, o);
      kit.expectNoLeaks([...kit.runTexts(o), ...kit.logTexts(run.logs)], tokens.secrets);
      const warnings = new Map<string, number>();
      for (const line of run.logs) {
        const l = JSON.parse(line) as { level: string; msg: string };
        if (l.level === 'warn' || l.level === 'error') warnings.set(l.msg, (warnings.get(l.msg) ?? 0) + 1);
      }
      const aborts = await run.metrics.registry.getSingleMetricAsString(
        'jwt_redactor_transaction_aborts_total',
      );
      console.info(
        `[stream-broker-restart] restarted at ~${restartedAt} of ${BEFORE} committed; ` +
          `${report.redacted} redacted + ${report.quarantined} quarantined; aborts: ${
            aborts
              .split('\n')
              .filter((l) => !l.startsWith('#'))
              .join(', ') || 'none'
          }; ` +
          `warnings: ${[...warnings].map(([m, n]) => `${n}x ${m}`).join('; ')}`,
      );
    } finally {
      await broker.stop();
    }
  });
});
