// The header encoder that replaces kafkajs' own (src/kafka/kafkajs-header.ts) must write the
// same bytes, and must actually be the one kafkajs uses once client.ts is loaded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHeader } from '../../../src/kafka/kafkajs-header.ts';
import { CLIENT_FIRST, inFreshProcess, kafkajsFirst } from './kafkajs-harness.ts';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('kafkajs/package.json'));
const headerPath = join(root, 'src', 'protocol', 'recordBatch', 'header', 'v0', 'index.js');

interface KafkajsEncoder {
  writeVarIntString(s: unknown): KafkajsEncoder;
  writeVarIntBytes(v: unknown): KafkajsEncoder;
  buffer: Buffer;
}
const Encoder = require(join(root, 'src', 'protocol', 'encoder.js')) as new () => KafkajsEncoder;

/** kafkajs 2.2.4's header encoder, verbatim (the file is pinned below). */
function kafkajsHeader({ key, value }: { key: unknown; value: unknown }): Buffer {
  return new Encoder().writeVarIntString(key).writeVarIntBytes(value).buffer;
}

describe('kafkajs header encoder replacement', () => {
  it('replaces the encoder of the pinned kafkajs file (a changed kafkajs must be looked at again)', () => {
    const source = readFileSync(headerPath, 'utf8');
    expect(source).toContain(
      'module.exports = ({ key, value }) => {\n  return new Encoder().writeVarIntString(key).writeVarIntBytes(value)\n}',
    );
  });

  it('writes the bytes kafkajs writes, for the header shapes the processor sends', () => {
    const cases: [unknown, unknown][] = [
      ['jwt-redactor-findings', Buffer.from('0')],
      ['jwt-redactor-findings', Buffer.from('1234')],
      ['jwt-redactor-source-offset', '18446744073709551615'],
      ['jwt-redactor-error-reason', 'record of 2000000 bytes exceeds max-record-bytes 1048576'],
      ['k', null],
      ['k', undefined],
      ['k', ''],
      ['k', Buffer.alloc(0)],
      ['', Buffer.from('v')],
      ['é', 'ü€😀'],
      ['x'.repeat(128), Buffer.alloc(300, 7)],
      ['y'.repeat(20_000), 'z'.repeat(70_000)],
    ];
    for (const [key, value] of cases) {
      expect(encodeHeader({ key, value }).buffer.equals(kafkajsHeader({ key, value }))).toBe(true);
    }
  });

  it('writes the bytes kafkajs writes, for any key and value', () => {
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.constant(null),
      fc.integer(),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), value, (key, v) => {
        const ours = encodeHeader({ key, value: v });
        expect(ours.buf).toBe(ours.buffer);
        expect(ours.buffer.equals(kafkajsHeader({ key, value: v }))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('is what kafkajs uses after client.ts is loaded, with the same record bytes', () => {
    // Fresh processes: one loads client.ts (patched), one kafkajs' record encoder first (unpatched).
    const encodeRecord = (first: string) =>
      inFreshProcess<{ applied: boolean; reason: string | null; hex: string }>(
        first,
        `const { headerPatch } = await load('kafkajs-header.ts');
         const Record = require('./src/protocol/recordBatch/record/v0/index.js');
         const bytes = Record({ key: Buffer.from('k'), value: Buffer.alloc(1500, 97), headers: {
           'jwt-redactor-findings': Buffer.from('3'), 'jwt-redactor-source-offset': '42', multi: [Buffer.from('a'), 'é'] } }).buffer;
         process.stdout.write(JSON.stringify({ applied: headerPatch.applied, reason: headerPatch.reason ?? null, hex: bytes.toString('hex') }));`,
      );
    const patched = encodeRecord(CLIENT_FIRST);
    // kafkajs loads its record encoder on first use: load it before the patch to keep kafkajs' own.
    const plain = encodeRecord(kafkajsFirst('./src/protocol/recordBatch/record/v0/index.js'));
    expect(patched.applied).toBe(true);
    expect(plain).toMatchObject({ applied: false, reason: 'kafkajs encoded a record before the patch' });
    expect(patched.hex).toBe(plain.hex);
  });
});
