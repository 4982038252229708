// End to end on the real broker: thousands of records holding every token shape (and none) go
// through the processor; the redacted topic holds exactly one record per input, with the exact
// expected content, partition, order, key and headers; the findings topic holds exactly the
// expected findings; nothing anywhere holds a token (R1).
import { describe, expect, inject, it } from 'vitest';
import { formatFinding } from '../../src/findings/index.ts';
import type { AnyFinding, SourceRef } from '../../src/model.ts';
import { FINDINGS_HEADER, RULE_HEADER, SEVERITY_HEADER } from '../../src/stream/index.ts';
import * as kit from './stream-kit.ts';
import { makeTokens, type Sample, samples } from './stream-tokens.ts';

const RECORDS = 3_000;
const PARTITIONS = 3;

function withoutTime(f: Record<string, unknown>): Record<string, unknown> {
  // `time` is when the finding was made; `status` counts seconds to expiry from that moment.
  const { time: _time, status, ...rest } = f;
  const s = { ...(status as Record<string, unknown>) };
  delete s['remaining_seconds'];
  return { ...rest, status: s };
}

describe('stream processor end to end', () => {
  const brokers = inject('kafkaBrokers');

  it('writes one redacted record per input with the exact content, and exactly the expected findings', async () => {
    const tokens = await makeTokens();
    const t = kit.topicNames('e2e');
    await kit.createStreamTopics(brokers, t, PARTITIONS, 2);

    const inputs: (kit.InputMessage & { sample: Sample; offset: string })[] = [];
    const perPartition = new Array<number>(PARTITIONS).fill(0);
    for (let i = 0; i < RECORDS; i++) {
      const all = samples(tokens, i);
      const sample = all[i % all.length]!;
      const partition = i % PARTITIONS;
      inputs.push({
        key: `rec-${i}`,
        value: sample.value,
        partition,
        headers: { 'x-seq': String(i), ...(sample.headers ?? {}) },
        sample,
        offset: String(perPartition[partition]!++),
      });
    }
    // A token in a record key too.
    inputs[7]!.key = `session:${tokens.human}`;
    await kit.produce(brokers, t.input, inputs);

    const run = await kit.startInProcess(kit.processorArgs(brokers, t, kit.keyFile()));
    const started = Date.now();
    try {
      await kit.waitForCommitted(brokers, t.group, t.input);
    } finally {
      await run.stop();
    }
    const seconds = (Date.now() - started) / 1000;

    const o = await kit.readRunOutput(brokers, t);
    const { out, findings, quarantine } = o;

    // Exactly one redacted record per input, nothing quarantined.
    expect(quarantine).toEqual([]);
    expect(out).toHaveLength(RECORDS);

    // Expected content: the engine's result for the value (and key/header), computed here.
    const engine = run.engine;
    const expectedFindings = new Map<string, Record<string, unknown>>();
    const byKey = new Map(out.map((r) => [r.key?.toString('utf8') ?? '', r]));
    let tokenRecords = 0;
    for (const input of inputs) {
      const source: SourceRef = {
        kind: 'kafka',
        topic: t.input,
        partition: input.partition,
        offset: input.offset,
      };
      const recordFindings: AnyFinding[] = [];
      let key = String(input.key);
      if (key.startsWith('session:')) {
        const k = await engine.processText(Buffer.from(key), { ...source, name: 'key' });
        recordFindings.push(...k.findings);
        key = Buffer.from(k.output).toString('utf8');
        expect(key).not.toContain(tokens.human);
      }
      const got = byKey.get(key);
      expect(got, `output for ${key} (${input.sample.label})`).toBeDefined();
      if (got === undefined) continue;
      // Same partition number, headers kept (token headers redacted), the findings count added.
      expect(got.partition).toBe(input.partition);
      expect(kit.header(got, 'x-seq')).toBe(input.headers!['x-seq']);
      const auth = input.sample.headers?.['authorization'];
      if (auth !== undefined) {
        const h = await engine.processText(Buffer.from(auth), { ...source, name: 'header:authorization' });
        recordFindings.push(...h.findings);
        expect(kit.header(got, 'authorization')).toBe(Buffer.from(h.output).toString('utf8'));
        expect(kit.header(got, 'trace-id')).toBe(input.headers!['trace-id']);
      }
      if (input.value === null) {
        expect(got.value).toBeNull();
      } else {
        const value = Buffer.isBuffer(input.value) ? input.value : Buffer.from(input.value);
        const r = await engine.processRecord(value, source);
        recordFindings.push(...r.findings);
        expect(got.value?.equals(Buffer.from(r.output)), `value of ${key} (${input.sample.label})`).toBe(
          true,
        );
        if (input.sample.token) {
          tokenRecords++;
          expect(r.changed, `${input.sample.label} is redacted`).toBe(true);
          expect(r.findings.length, `${input.sample.label} has findings`).toBeGreaterThan(0);
        } else {
          // R7: no token, byte-identical.
          expect(got.value?.equals(value), `${input.sample.label} is unchanged`).toBe(true);
        }
      }
      expect(kit.header(got, FINDINGS_HEADER)).toBe(String(recordFindings.length));
      for (const f of recordFindings) {
        expectedFindings.set(
          f.id,
          withoutTime(JSON.parse(formatFinding('native', f)) as Record<string, unknown>),
        );
      }
    }
    expect(tokenRecords).toBeGreaterThan(RECORDS / 2);

    // Order per partition is the input order.
    for (let p = 0; p < PARTITIONS; p++) {
      const seqs = out.filter((r) => r.partition === p).map((r) => Number(kit.header(r, 'x-seq')));
      expect(seqs).toEqual(inputs.filter((i) => i.partition === p).map((i) => Number(i.headers!['x-seq'])));
    }

    // Findings topic: exactly the expected findings, keyed by token fingerprint.
    expect(findings).toHaveLength(expectedFindings.size);
    const seen = new Set<string>();
    for (const r of findings) {
      const f = JSON.parse(r.value!.toString('utf8')) as Record<string, unknown> & {
        id: string;
        rule: string;
        severity: string;
        token?: { fingerprint: string };
      };
      expect(seen.has(f.id), `finding ${f.id} once`).toBe(false);
      seen.add(f.id);
      expect(withoutTime(f)).toEqual(expectedFindings.get(f.id));
      expect(r.key?.toString('utf8') ?? null).toBe(f.token?.fingerprint ?? null);
      expect(kit.header(r, SEVERITY_HEADER)).toBe(f.severity);
      expect(kit.header(r, RULE_HEADER)).toBe(f.rule);
    }

    // R1: no raw token, signature or wrapped form anywhere: outputs, findings, logs.
    kit.expectNoLeaks([...kit.runTexts(o), ...kit.logTexts(run.logs, 'log line')], tokens.secrets);

    const metrics = await run.metrics.registry.getSingleMetricAsString('jwt_redactor_records_in_total');
    expect(metrics).toContain(`jwt_redactor_records_in_total{topic="${t.input}"} ${RECORDS}`);
    console.info(`[stream-e2e] ${RECORDS} records, ${findings.length} findings in ${seconds.toFixed(1)} s`);
  });
});
