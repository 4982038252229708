// The per-batch transform, without Kafka: what each input record becomes (redacted record or
// quarantine record, then its findings), with the real engine and default policy.
import { describe, expect, it } from 'vitest';
import type { InputRecord, OutputRecord } from '../../../src/kafka/index.ts';
import { engineFromConfig, type FullEngine } from '../../../src/pipeline/index.ts';
import {
  BatchTransform,
  ERROR_HEADER,
  FINDINGS_HEADER,
  QUARANTINE_CONTENT_HEADER,
  RULE_HEADER,
  SEVERITY_HEADER,
  SOURCE_OFFSET_HEADER,
  SOURCE_PARTITION_HEADER,
  SOURCE_TOPIC_HEADER,
  type TransformOptions,
} from '../../../src/stream/transform.ts';
import { humanClaims, jwsRS256, k8sClaims } from '../../helpers/tokens.ts';

const engine = await engineFromConfig({
  policies: ['default'],
  ruleFiles: [],
  key: new Uint8Array(32).fill(7),
  keyId: 'unit',
  ephemeralKey: false,
});
const k8s = await jwsRS256(k8sClaims());
const human = await jwsRS256(humanClaims());

const OPTIONS: TransformOptions = {
  outputTopic: 'out',
  findingsTopic: 'findings',
  quarantineTopic: 'quarantine',
  quarantinePartitions: 2,
  findingsFormat: 'native',
  maxRecordBytes: 4096,
  maxOutputBytes: 8192,
  maxFindingsPerRecord: 100,
};

let offset = 0;
function record(value: Buffer | string | null, extra: Partial<InputRecord> = {}): InputRecord {
  return {
    topic: 'in',
    partition: 3,
    offset: String(offset++),
    key: Buffer.from('key-1'),
    value: value === null ? null : Buffer.from(value),
    headers: { 'x-trace': Buffer.from('abc') },
    timestamp: '0',
    ...extra,
  };
}

function text(v: OutputRecord['value'] | OutputRecord['key']): string {
  return v === null ? '<null>' : v.toString();
}

function h(r: OutputRecord, name: string): string | undefined {
  const v = r.headers?.[name];
  return v === undefined ? undefined : Array.isArray(v) ? String(v[0]) : String(v);
}

describe('BatchTransform', () => {
  const transform = new BatchTransform(engine, OPTIONS);

  it('keeps a record without tokens byte-identical, with its key, headers and partition (R7)', async () => {
    const input = record('plain log line, nothing to see');
    const { records, stats } = await transform.run({ records: [input] });
    expect(records).toHaveLength(1);
    const [r] = records;
    expect(r!.topic).toBe('out');
    expect(r!.partition).toBe(3);
    expect(r!.value).toBe(input.value); // the same bytes, not a copy
    expect(text(r!.key)).toBe('key-1');
    expect(h(r!, 'x-trace')).toBe('abc');
    expect(h(r!, FINDINGS_HEADER)).toBe('0');
    expect(stats.changed).toBe(0);
  });

  it('redacts tokens in the value, key and headers; each finding follows its record, keyed by fingerprint', async () => {
    const input = record(JSON.stringify({ msg: 'login', token: human }), {
      key: Buffer.from(`session:${k8s}`),
      headers: { authorization: Buffer.from(`Bearer ${k8s}`), dup: [Buffer.from('a'), Buffer.from('b')] },
    });
    const { records, stats } = await transform.run({ records: [input] });
    const [r, ...findings] = records;
    expect(text(r!.value)).not.toContain(human.split('.')[2]);
    expect(text(r!.key)).not.toContain(k8s.split('.')[2]);
    expect(h(r!, 'authorization')).not.toContain(k8s.split('.')[2]);
    expect(r!.headers?.['dup']).toEqual([Buffer.from('a'), Buffer.from('b')]);
    expect(h(r!, FINDINGS_HEADER)).toBe('3');
    expect(findings).toHaveLength(3);
    for (const f of findings) {
      const finding = JSON.parse(text(f.value)) as {
        token: { fingerprint: string };
        source: { topic: string; offset: string };
      };
      expect(f.topic).toBe('findings');
      expect(f.partition).toBeUndefined();
      expect(text(f.key)).toBe(finding.token.fingerprint);
      expect(finding.source).toMatchObject({ topic: 'in', offset: input.offset });
    }
    expect(stats.changed).toBe(1);
    expect([...stats.findings.values()].reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('passes a tombstone through as a tombstone', async () => {
    const { records } = await transform.run({ records: [record(null)] });
    expect(records).toHaveLength(1);
    expect(records[0]!.value).toBeNull();
    expect(records[0]!.topic).toBe('out');
  });

  it('quarantines a record above max-record-bytes, masked, with error and source headers (R6)', async () => {
    const input = record(`${'x'.repeat(5000)} ${k8s}`);
    const { records, stats } = await transform.run({ records: [input] });
    const q = records[0]!;
    expect(q.topic).toBe('quarantine');
    expect(q.partition).toBe(1); // 3 % 2
    expect(h(q, ERROR_HEADER)).toBe('record-too-large');
    expect(h(q, SOURCE_OFFSET_HEADER)).toBe(input.offset);
    expect(h(q, QUARANTINE_CONTENT_HEADER)).toBe('masked');
    expect(text(q.value)).not.toContain(k8s.split('.')[1]!.slice(0, 40));
    expect(stats.quarantined.get('record-too-large')).toBe(1);
    // The error finding goes to the findings topic, without a key.
    expect(records[1]!.topic).toBe('findings');
    expect(records[1]!.key).toBeNull();
  });

  it('quarantines metadata-only when even the masked record would not fit', async () => {
    const t = new BatchTransform(engine, { ...OPTIONS, maxRecordBytes: 100_000, maxOutputBytes: 4096 });
    const { records } = await t.run({ records: [record(`${'x '.repeat(3000)}${k8s}`)] });
    const q = records[0]!;
    expect(q.topic).toBe('quarantine');
    expect(h(q, ERROR_HEADER)).toBe('output-too-large');
    expect(h(q, QUARANTINE_CONTENT_HEADER)).toBe('metadata-only');
    expect(q.value).toEqual(Buffer.alloc(0));
  });

  it.each([
    ['a rejected promise', 'async'],
    ['a synchronous throw', 'sync'],
  ] as const)('never throws: an engine failure (%s) quarantines the record, masked', async (_, how) => {
    const error = new RangeError(`Maximum call stack size exceeded near ${k8s}`);
    const boom = async (): Promise<never> => {
      throw error;
    };
    const now =
      how === 'async'
        ? boom
        : (): never => {
            throw error;
          };
    const failing: FullEngine = {
      ...engine,
      processText: boom,
      processJson: boom,
      processRecord: boom,
      processRecordNow: now,
    };
    const t = new BatchTransform(failing, OPTIONS);
    // One record through the per-record fast path (no headers, short key), one through the parts path.
    const bare = record(`boom ${k8s}`, { headers: {} });
    const withHeader = record(`boom ${k8s}`);
    const { records } = await t.run({ records: [bare, withHeader] });
    expect(records.map((q) => [q.topic, h(q, ERROR_HEADER), h(q, FINDINGS_HEADER)])).toEqual([
      ['quarantine', 'processing-failed', '1'],
      ['findings', undefined, undefined],
      ['quarantine', 'processing-failed', '1'],
      ['findings', undefined, undefined],
    ]);
    const all = records.map((r) => `${text(r.value)} ${JSON.stringify(r.headers)}`).join('\n');
    expect(all).not.toContain(k8s);
    expect(all).not.toContain(k8s.split('.')[2]);
  });

  it('publishes at most max-findings-per-record findings and counts the rest', async () => {
    const t = new BatchTransform(engine, {
      ...OPTIONS,
      maxRecordBytes: 1 << 20,
      maxOutputBytes: 1 << 20,
      maxFindingsPerRecord: 2,
    });
    const { records, stats } = await t.run({ records: [record(`${k8s} ${human} ${k8s} ${human}`)] });
    expect(h(records[0]!, FINDINGS_HEADER)).toBe('4');
    expect(records.filter((r) => r.topic === 'findings')).toHaveLength(2);
    expect(stats.findingsDropped).toBe(2);
  });

  it('counts findings in the header beyond the shared small counts (70 tokens: "70")', async () => {
    const t = new BatchTransform(engine, {
      ...OPTIONS,
      maxRecordBytes: 1 << 20,
      maxOutputBytes: 1 << 20,
      maxFindingsPerRecord: 1,
    });
    const value = Array.from({ length: 70 }, (_, i) => (i % 2 === 0 ? k8s : human)).join(' ');
    const { records, stats } = await t.run({ records: [record(value), record('nothing')] });
    expect(h(records[0]!, FINDINGS_HEADER)).toBe('70');
    expect(h(records[2]!, FINDINGS_HEADER)).toBe('0');
    expect(stats.findingsDropped).toBe(69);
  });

  it('writes findings records with their severity, rule and source as header bytes', async () => {
    const input = record(`x ${k8s}`);
    const { records } = await transform.run({ records: [input] });
    const f = records.find((r) => r.topic === 'findings')!;
    const finding = JSON.parse(text(f.value)) as { severity: string; rule: string };
    expect(h(f, SEVERITY_HEADER)).toBe(finding.severity);
    expect(h(f, RULE_HEADER)).toBe(finding.rule);
    expect(h(f, SOURCE_TOPIC_HEADER)).toBe('in');
    expect(h(f, SOURCE_PARTITION_HEADER)).toBe('3');
    expect(h(f, SOURCE_OFFSET_HEADER)).toBe(input.offset);
  });

  it('keeps the input order', async () => {
    const inputs = Array.from({ length: 20 }, (_, i) => record(i % 3 === 0 ? `n=${i} ${k8s}` : `n=${i}`));
    const { records } = await transform.run({ records: inputs });
    const values = records.filter((r) => r.topic === 'out').map((r) => /n=(\d+)/.exec(text(r.value))?.[1]);
    expect(values).toEqual(inputs.map((_, i) => String(i)));
  });
});
