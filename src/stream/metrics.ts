// Prometheus metrics of the stream processor, in a registry of its own (several processors in one
// process, as in tests, do not collide). Labels carry topic names, partition numbers, severities,
// rule ids and error codes: never record contents.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchStats } from './transform.ts';

export interface StreamMetrics {
  readonly registry: Registry;
  /** Counts a committed batch (called only after its transaction or offset commit succeeded). */
  batchCommitted(topic: string, stats: BatchStats, seconds: number, mode: string): void;
  recordsSkipped(topic: string, count: number): void;
  aborted(reason: string): void;
  lag(topic: string, partition: number, lag: bigint): void;
  forgetPartition(topic: string, partition: number): void;
  setReady(ready: boolean): void;
  setAssigned(count: number): void;
  rebalance(): void;
}

export function createStreamMetrics(options: { defaultMetrics?: boolean } = {}): StreamMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, prefix: 'jwt_redactor_' });
  const registers = [registry];

  const recordsIn = new Counter({
    name: 'jwt_redactor_records_in_total',
    help: 'Input records processed and committed',
    labelNames: ['topic'],
    registers,
  });
  const recordsOut = new Counter({
    name: 'jwt_redactor_records_out_total',
    help: 'Records written (committed) per output topic',
    labelNames: ['topic'],
    registers,
  });
  const recordsChanged = new Counter({
    name: 'jwt_redactor_records_redacted_total',
    help: 'Input records whose value, key or headers were changed by redaction',
    labelNames: ['topic'],
    registers,
  });
  const findings = new Counter({
    name: 'jwt_redactor_findings_total',
    help: 'Findings published, by severity and rule',
    labelNames: ['severity', 'rule'],
    registers,
  });
  const findingsDropped = new Counter({
    name: 'jwt_redactor_findings_dropped_total',
    help: 'Findings beyond max-findings-per-record (counted in the record header, not published)',
    registers,
  });
  const quarantined = new Counter({
    name: 'jwt_redactor_records_quarantined_total',
    help: 'Records sent to the quarantine topic, by error code',
    labelNames: ['reason'],
    registers,
  });
  const skipped = new Counter({
    name: 'jwt_redactor_records_skipped_total',
    help: 'Fetched records already committed by an earlier owner of the partition (not written again)',
    labelNames: ['topic'],
    registers,
  });
  const batchSeconds = new Histogram({
    name: 'jwt_redactor_batch_duration_seconds',
    help: 'Time from fetching a partition batch to its commit',
    labelNames: ['delivery'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const batchRecords = new Histogram({
    name: 'jwt_redactor_batch_records',
    help: 'Records per committed partition batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    registers,
  });
  const lag = new Gauge({
    name: 'jwt_redactor_consumer_lag',
    help: 'Records between the committed position and the high watermark, per assigned partition',
    labelNames: ['topic', 'partition'],
    registers,
  });
  const aborts = new Counter({
    name: 'jwt_redactor_transaction_aborts_total',
    help: 'Batches whose transaction (or, at-least-once, whose send or commit) failed and was retried',
    labelNames: ['reason'],
    registers,
  });
  const ready = new Gauge({ name: 'jwt_redactor_ready', help: '1 when /readyz answers 200', registers });
  const assigned = new Gauge({
    name: 'jwt_redactor_assigned_partitions',
    help: 'Input partitions assigned to this member',
    registers,
  });
  const rebalances = new Counter({
    name: 'jwt_redactor_rebalances_total',
    help: 'Group rebalances this member took part in',
    registers,
  });

  return {
    registry,
    batchCommitted(topic, stats, seconds, mode) {
      recordsIn.inc({ topic }, stats.records);
      if (stats.changed > 0) recordsChanged.inc({ topic }, stats.changed);
      for (const [t, n] of stats.out) recordsOut.inc({ topic: t }, n);
      for (const [k, n] of stats.findings) {
        const [severity, rule] = k.split('\u0000') as [string, string];
        findings.inc({ severity, rule }, n);
      }
      if (stats.findingsDropped > 0) findingsDropped.inc(stats.findingsDropped);
      for (const [reason, n] of stats.quarantined) quarantined.inc({ reason }, n);
      batchSeconds.observe({ delivery: mode }, seconds);
      batchRecords.observe(stats.records);
    },
    recordsSkipped(topic, count) {
      if (count > 0) skipped.inc({ topic }, count);
    },
    aborted(reason) {
      aborts.inc({ reason });
    },
    lag(topic, partition, value) {
      lag.set({ topic, partition: String(partition) }, Number(value < 0n ? 0n : value));
    },
    forgetPartition(topic, partition) {
      lag.remove({ topic, partition: String(partition) });
    },
    setReady(value) {
      ready.set(value ? 1 : 0);
    },
    setAssigned(count) {
      assigned.set(count);
    },
    rebalance() {
      rebalances.inc();
    },
  };
}
