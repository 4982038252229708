// Poison records: invalid UTF-8, a record above the size limit, JSON nested 100,000 deep, a record
// with 100,000 tokens (and one with 5,000 that fits). Each is quarantined or processed, never passed
// through raw, and the records after it are processed as usual: the processor keeps going.
import { describe, expect, inject, it } from 'vitest';
import {
  ERROR_HEADER,
  FINDINGS_HEADER,
  QUARANTINE_CONTENT_HEADER,
  SOURCE_OFFSET_HEADER,
  SOURCE_PARTITION_HEADER,
  SOURCE_TOPIC_HEADER,
} from '../../src/stream/index.ts';
import * as kit from './stream-kit.ts';
import { makeTokens } from './stream-tokens.ts';

/** The default policy's max_record_bytes. */
const LIMIT = 1024 * 1024;

describe('stream processor poison records', () => {
  const brokers = inject('kafkaBrokers');

  it('quarantines or redacts every poison record and keeps going', async () => {
    const tokens = await makeTokens();
    const t = kit.topicNames('poison');
    await kit.createStreamTopics(brokers, t, 1, 1);
    const tiny = tokens.none; // the shortest token shape: 100,000 of them still make a 2.5 MB record
    const poison: { key: string; value: Buffer }[] = [
      {
        key: 'invalid-utf8',
        value: Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x80, 0xbf]),
      },
      {
        key: 'invalid-utf8-with-token',
        value: Buffer.concat([
          Buffer.from([0xff, 0xc3, 0x28, 0x20]),
          Buffer.from(`Bearer ${tokens.k8s}`),
          Buffer.from([0x20, 0xe2, 0x28, 0xa1]),
        ]),
      },
      {
        key: 'too-large',
        value: Buffer.from(`${'a'.repeat(LIMIT)} token=${tokens.github} and ${tokens.human}`),
      },
      {
        key: 'deep-json',
        value: Buffer.from(`${'['.repeat(100_000)}"${tokens.human}"${']'.repeat(100_000)}`),
      },
      {
        key: 'deep-json-object',
        value: Buffer.from(`${'{"a":'.repeat(100_000)}"${tokens.es256}"${'}'.repeat(100_000)}`),
      },
      { key: 'many-tokens', value: Buffer.from(Array.from({ length: 100_000 }, () => tiny).join(' ')) },
      {
        key: 'thousands-of-tokens',
        value: Buffer.from(JSON.stringify({ tokens: Array.from({ length: 5_000 }, () => tiny) })),
      },
      { key: 'unterminated-json', value: Buffer.from(`{"token":"${tokens.k8s}","x":[1,2,`) },
    ];
    const inputs: kit.InputMessage[] = [];
    for (const [n, p] of poison.entries()) {
      inputs.push({ key: p.key, value: p.value, partition: 0 });
      // A normal record after each poison one: it must come out redacted as usual.
      inputs.push({
        key: `after-${n}`,
        value: JSON.stringify({ n, auth: `Bearer ${tokens.k8s}` }),
        partition: 0,
      });
    }
    // Records above 1 MB reach Kafka compressed only.
    await kit.produce(brokers, t.input, inputs, { gzip: true, perRequest: 1 });

    const run = await kit.startInProcess(kit.processorArgs(brokers, t, kit.keyFile()));
    try {
      await kit.waitForCommitted(brokers, t.group, t.input, 120_000);
      expect(run.processor.state).toBe('running');
    } finally {
      await run.stop();
    }

    const o = await kit.readRunOutput(brokers, t);
    const { out, quarantine, findings } = o;
    const report = kit.checkExactlyOnce(
      inputs.map((i) => ({ key: String(i.key), partition: 0 })),
      out,
      quarantine,
    );
    expect(report.problems).toEqual([]);

    const outcome = new Map<string, string>();
    for (const r of out) outcome.set(r.key!.toString(), 'redacted');
    for (const r of quarantine) {
      const key = r.key!.toString();
      outcome.set(key, `quarantined:${kit.header(r, ERROR_HEADER)}`);
      // Quarantine headers: the error, and where the record came from.
      expect(kit.header(r, SOURCE_TOPIC_HEADER)).toBe(t.input);
      expect(kit.header(r, SOURCE_PARTITION_HEADER)).toBe('0');
      const offset = inputs.findIndex((i) => i.key === key);
      expect(kit.header(r, SOURCE_OFFSET_HEADER)).toBe(String(offset));
      expect(['masked', 'metadata-only']).toContain(kit.header(r, QUARANTINE_CONTENT_HEADER));
      expect(Number(kit.header(r, FINDINGS_HEADER))).toBeGreaterThan(0);
    }
    // Known outcomes; the others may go either way as long as nothing raw gets out.
    expect(outcome.get('too-large')).toBe('quarantined:record-too-large');
    expect(outcome.get('many-tokens')).toBe('quarantined:record-too-large');
    expect(outcome.get('invalid-utf8')).toBeDefined();
    for (let n = 0; n < poison.length; n++) expect(outcome.get(`after-${n}`), `after-${n}`).toBe('redacted');
    // The invalid UTF-8 record without a token comes out byte-identical (R7) or quarantined.
    const plain = out.find((r) => r.key?.toString() === 'invalid-utf8');
    if (plain !== undefined) expect(plain.value?.equals(poison[0]!.value)).toBe(true);
    // The redacted records after the poison ones carry their finding.
    for (const r of out.filter((x) => x.key?.toString().startsWith('after-')))
      expect(kit.header(r, FINDINGS_HEADER)).toBe('1');
    // A record with thousands of findings publishes at most max-findings-per-record (100) of them.
    const thousands = [...out, ...quarantine].find((r) => r.key?.toString() === 'thousands-of-tokens')!;
    const fromThousands = findings.filter(
      (f) =>
        kit.header(f, SOURCE_OFFSET_HEADER) ===
        String(inputs.findIndex((i) => i.key === 'thousands-of-tokens')),
    );
    expect(fromThousands.length).toBeLessThanOrEqual(100);
    expect(Number(kit.header(thousands, FINDINGS_HEADER))).toBeGreaterThanOrEqual(fromThousands.length);

    const secrets = tokens.secrets.filter((s) => s !== tiny && !tiny.includes(s));
    kit.expectNoLeaks([...kit.runTexts(o), ...kit.logTexts(run.logs)], [...secrets, tiny]);
    console.info(`[stream-poison] ${[...outcome].map(([k, v]) => `${k}=${v}`).join(', ')}`);
  });
});
