// The record and record-batch encoders that replace kafkajs' own (src/kafka/kafkajs-records.ts)
// must write the same bytes (or leave the input to kafkajs), and must be the ones kafkajs uses once
// client.ts is loaded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, type EncodedBytes, encodeRecord, recordsPatch } from '../../../src/kafka/kafkajs-records.ts';
import { CLIENT_FIRST, inFreshProcess, kafkajsFirst, kafkajsOwn } from './kafkajs-harness.ts';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('kafkajs/package.json'));
const protocol = join(root, 'src', 'protocol');
const recordPath = join(protocol, 'recordBatch', 'record', 'v0', 'index.js');
const batchPath = join(protocol, 'recordBatch', 'v0', 'index.js');

type RecordFn = (r: Record<string, unknown>) => EncodedBytes;
type BatchFn = (b: Record<string, unknown>) => Promise<EncodedBytes>;
const kafkajsRecord = kafkajsOwn<RecordFn>(recordPath);
const kafkajsBatch = kafkajsOwn<{ RecordBatch: BatchFn }>(batchPath).RecordBatch;
const kafkajsCrc = require(join(protocol, 'recordBatch', 'crc32C', 'index.js')) as (b: Buffer) => number;
const Long = require(join(root, 'src', 'utils', 'long.js')) as { fromValue(v: unknown): unknown };
const Compression = require(join(protocol, 'message', 'compression', 'index.js')) as {
  Types: { GZIP: number };
};

// Lengths spread up to 300 ('max'), so that 1- and 2-byte varint lengths both come up.
const bytesOrText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300, size: 'max' }),
  fc.uint8Array({ maxLength: 300, size: 'max' }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const keyOrValue = fc.oneof(bytesOrText, fc.constant(null), fc.constant(undefined));
const headers = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.oneof(bytesOrText, fc.array(bytesOrText, { maxLength: 3 })),
  { maxKeys: 6 },
);
const delta = fc.integer({ min: -(2 ** 30) + 1, max: 2 ** 30 - 1 });
const record = fc.record(
  {
    offsetDelta: fc.integer({ min: 0, max: 2 ** 30 - 1 }),
    timestampDelta: delta,
    key: keyOrValue,
    value: keyOrValue,
    headers,
  },
  { requiredKeys: ['key', 'value'] },
);

describe('kafkajs record encoders replacement', () => {
  it('replaces the encoders of the pinned kafkajs files (a changed kafkajs must be looked at again)', () => {
    const rec = readFileSync(recordPath, 'utf8');
    expect(rec).toContain('.writeVarIntArray(headersArray.map(Header))');
    expect(rec).toContain(
      'module.exports = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {',
    );
    const batch = readFileSync(batchPath, 'utf8');
    expect(batch).toContain('return new Encoder().writeInt64(firstOffset).writeBytes(batch.buffer)');
    expect(batch).toContain('.writeUInt32(crc32C(batchBody.buffer))');
  });

  it('computes the CRC32C kafkajs computes, over any bytes and any range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(20), fc.nat(20), (a, s, e) => {
        const buf = Buffer.from(a);
        const start = Math.min(s, buf.length);
        const end = Math.max(start, buf.length - e);
        expect(crc32c(buf, start, end)).toBe(kafkajsCrc(buf.subarray(start, end)));
      }),
      { numRuns: 3_000 },
    );
    // The check value of CRC-32C (RFC 3720): "123456789" -> 0xe3069283.
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('writes the record bytes kafkajs writes, for any key, value, headers and deltas', () => {
    fc.assert(
      fc.property(record, (r) => {
        const ours = encodeRecord(r);
        expect(ours).toBeDefined();
        expect(ours!.buf).toBe(ours!.buffer);
        expect(ours!.size()).toBe(ours!.buffer.length);
        expect(ours!.buffer.toString('hex')).toBe(kafkajsRecord(r).buffer.toString('hex'));
      }),
      { numRuns: 2_000 },
    );
    // Long varints: a 1500-byte value (the processor's findings), 70,000 bytes (3 bytes of length),
    // a long header name, many headers.
    const big: Record<string, unknown>[] = [
      {
        key: 'k1:PXSCvHq6aPz1pMs-JkYNjw',
        value: 'é'.repeat(750),
        headers: { 'jwt-redactor-findings': Buffer.from('1') },
      },
      {
        key: Buffer.alloc(0),
        value: Buffer.alloc(70_000, 1),
        offsetDelta: 2 ** 30 - 1,
        timestampDelta: -(2 ** 30) + 1,
      },
      { key: null, value: '', headers: { ['h'.repeat(20_000)]: 'v'.repeat(200) } },
      {
        key: null,
        value: 'x',
        headers: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`h${i}`, String(i)])),
      },
    ];
    for (const r of big)
      expect(encodeRecord(r)!.buffer.toString('hex')).toBe(kafkajsRecord(r).buffer.toString('hex'));
  });

  it('leaves to kafkajs what it does not write the same way, with the same bytes or the same error', () => {
    const patched = require(recordPath) as RecordFn;
    const cases: Record<string, unknown>[] = [
      { key: null, value: new Uint8Array([1, 2, 3]) }, // not a Buffer: kafkajs writes String(value)
      { key: 42, value: Buffer.from('v') }, // kafkajs sizes with Buffer.byteLength(42): throws
      { key: null, value: Buffer.from('v'), headers: { h: null } },
      { key: null, value: Buffer.from('v'), timestampDelta: 2 ** 40 },
      { key: null, value: Buffer.from('v'), timestampDelta: -(2 ** 33) },
      { key: null, value: Buffer.from('v'), timestampDelta: 1.5 },
      { key: null, value: Buffer.from('v'), headers: null },
    ];
    for (const c of cases) {
      expect(encodeRecord(c)).toBeUndefined();
      let expected: string;
      try {
        expected = kafkajsRecord(c).buffer.toString('hex');
      } catch (error) {
        expect(() => patched(c)).toThrow((error as Error).message);
        continue;
      }
      expect(patched(c).buffer.toString('hex')).toBe(expected);
    }
  });

  it('writes the batch bytes kafkajs writes, uncompressed and compressed', async () => {
    const { RecordBatch } = require(batchPath) as { RecordBatch: BatchFn };
    const batch = fc.record({
      records: fc.array(record, { maxLength: 12 }),
      firstTimestamp: fc.integer({ min: 0, max: 2 ** 42 }),
      span: fc.nat(100_000),
      producerId: fc.oneof(fc.constant(-1), fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 62n }).map(String)),
      producerEpoch: fc.nat(32_767),
      firstSequence: fc.nat(),
      transactional: fc.boolean(),
      gzip: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(batch, async (b) => {
        const input = {
          compression: b.gzip ? Compression.Types.GZIP : 0,
          firstTimestamp: b.firstTimestamp,
          maxTimestamp: b.firstTimestamp + b.span,
          producerId: Long.fromValue(b.producerId),
          producerEpoch: b.producerEpoch,
          firstSequence: b.firstSequence,
          transactional: b.transactional,
          lastOffsetDelta: b.records.length - 1,
          records: b.records.map((r, i) => kafkajsRecord({ ...r, offsetDelta: i })),
        };
        const ours = await RecordBatch(input);
        const theirs = await kafkajsBatch(input);
        expect(ours.size()).toBe(theirs.size());
        expect(ours.buffer.toString('hex')).toBe(theirs.buffer.toString('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('is what kafkajs uses after client.ts is loaded, with the same produce request bytes', () => {
    expect(recordsPatch).toEqual({ applied: true });
    const encodeRequest = (first: string, env?: NodeJS.ProcessEnv) =>
      inFreshProcess<{ applied: boolean; reason: string | null; hex: string }>(
        first,
        `const { recordsPatch } = await load('kafkajs-records.ts');
         const Long = require('./src/utils/long.js');
         const request = require('./src/protocol/requests/produce/v3/request.js');
         const messages = [
           { key: Buffer.from('k'), value: Buffer.alloc(1500, 97), headers: { 'jwt-redactor-findings': Buffer.from('3') }, timestamp: '1700000000000' },
           { key: 'k1:fingerprint', value: '{"finding":"é"}', headers: { a: 'x', multi: [Buffer.from('a'), 'é'] }, timestamp: 1700000000123 },
           { key: null, value: null, timestamp: 1700000000007 },
         ];
         const topicData = [{ topic: 'out', partitions: [{ partition: 2, firstSequence: 7, messages }] },
                            { topic: 'findings', partitions: [{ partition: 0, firstSequence: 0, messages: messages.slice(1) }] }];
         const r = request({ acks: -1, timeout: 30000, transactionalId: 'tx', producerId: Long.fromValue(99), producerEpoch: 3, topicData });
         const bytes = (await r.encode()).buffer;
         process.stdout.write(JSON.stringify({ applied: recordsPatch.applied, reason: recordsPatch.reason ?? null, hex: bytes.toString('hex') }));`,
        env,
      );
    const patched = encodeRequest(CLIENT_FIRST);
    // kafkajs loads its produce request encoder on first use: load it first to keep kafkajs' own.
    const plain = encodeRequest(kafkajsFirst('./src/protocol/requests/produce/v3/request.js'));
    expect(patched).toMatchObject({ applied: true, reason: null });
    expect(plain.applied).toBe(false);
    expect(plain.reason).toMatch(/before the patch/);
    expect(patched.hex).toBe(plain.hex);
    // The operators' switch: client.ts first, and still kafkajs' own encoders (same bytes).
    const off = encodeRequest(CLIENT_FIRST, { ...process.env, JWT_REDACTOR_KAFKAJS_PATCHES: 'off' });
    expect(off).toMatchObject({ applied: false, reason: 'turned off by JWT_REDACTOR_KAFKAJS_PATCHES' });
    expect(off.hex).toBe(plain.hex);
  });
});
