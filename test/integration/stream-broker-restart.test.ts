// A broker restart mid-run: the processor loses its connections, transactions fail and the consumer
// falls out of the group; once the broker is back (same ports, same data) it recovers by itself and
// nothing is lost or duplicated. Runs on a private broker: the shared one may be external
// (KAFKA_BROKERS) and other test files use it. Needs Java 17 + Maven like the shared local broker;
// without them the test fails (it never skips).
import { describe, expect, it } from 'vitest';
import { startKafkaBroker } from '../../scripts/kafka/broker.ts';
import {
  checkExactlyOnce,
  checkFindings,
  committedProgress,
  createTopics,
  findLeaks,
  keyFile,
  processorArgs,
  produce,
  readAll,
  recordTexts,
  startInProcess,
  topicNames,
  waitFor,
  waitForCommitted,
} from './stream-kit.ts';
import { makeTokens, mixedInputs, SMALL_LIMIT } from './stream-tokens.ts';

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
      const t = topicNames('restart');
      await createTopics(brokers, [
        { topic: t.input, partitions: PARTITIONS },
        { topic: t.output, partitions: PARTITIONS },
        { topic: t.findings, partitions: 2 },
        { topic: t.quarantine, partitions: 1 },
      ]);
      const inputs = mixedInputs(tokens, BEFORE + AFTER, PARTITIONS, 'restart');
      await produce(brokers, t.input, inputs.slice(0, BEFORE), { perRequest: PARTITIONS });

      const run = await startInProcess(
        processorArgs(brokers, t, keyFile(), [
          '--max-bytes-per-partition',
          '4096',
          '--max-record-bytes',
          String(SMALL_LIMIT),
        ]),
      );
      let restartedAt = 0n;
      try {
        await waitFor(
          '20% processed',
          async () => (await committedProgress(brokers, t.group, t.input)).committed >= BigInt(BEFORE * 0.2),
          60_000,
          50,
        );
        restartedAt = (await committedProgress(brokers, t.group, t.input)).committed;
        await broker.restart();
        // New input after the restart, too.
        await produce(brokers, t.input, inputs.slice(BEFORE), { perRequest: PARTITIONS });
        await waitForCommitted(brokers, t.group, t.input, 180_000);
        expect(run.processor.state).toBe('running');
      } finally {
        await run.stop();
      }
      expect(restartedAt).toBeLessThan(BigInt(BEFORE));

      const [out, quarantine, findings] = await Promise.all([
        readAll(brokers, t.output),
        readAll(brokers, t.quarantine),
        readAll(brokers, t.findings),
      ]);
      const report = checkExactlyOnce(inputs, out, quarantine);
      expect(report.problems).toEqual([]);
      expect(report.redacted + report.quarantined).toBe(BEFORE + AFTER);
      expect(checkFindings(findings, [...out, ...quarantine])).toEqual([]);
      const leaks = findLeaks(
        [
          ...recordTexts(out),
          ...recordTexts(quarantine),
          ...recordTexts(findings),
          ...run.logs.map((l, i) => ({ where: `log ${i}`, text: l })),
        ],
        tokens.secrets,
      );
      expect(leaks).toEqual([]);
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
