// kafkajs' record-header encoder, replaced by one that writes the same bytes with less work.
//
// Why: the SPEC puts a header (the finding count) on every redacted record, and findings records
// carry five. kafkajs 2.2.4 encodes each header with a fresh Encoder (a zero-filled 512-byte
// Buffer), then copies it out through a `slice` view: about as much work as the record's own key
// and value. This encoder sizes the header exactly, writes it once into a pooled buffer and hands
// kafkajs an object with the two fields its record encoder reads (`buf`, `buffer`).
//
// How: kafkajs is CommonJS; its record encoder (recordBatch/record/v0) takes the header encoder
// from `require('../../header/v0')` when it loads, which is on the first produce request, not when
// kafkajs is imported. Registering our function in the require cache under that module's path
// before then makes the record encoder take ours; client.ts imports this module first. Nothing else
// changes: the bytes on the wire are the same (test/unit/kafka/kafkajs-header.test.ts compares them
// with kafkajs' own encoder), and where the patch cannot apply (another kafkajs version, or a record
// encoded before this module loaded) kafkajs' encoder stays and only speed differs. `headerPatch`
// says which.
import { exportsOf, kafkajsFiles, loaded, type PatchState, replaceModule } from './kafkajs-patch.ts';
import { varIntSize, writeVarInt } from './varint.ts';

/** What kafkajs' record encoder reads of a header encoder: the bytes (`buffer`) and, checked, `buf`. */
export interface EncodedHeader {
  readonly buf: Buffer;
  readonly buffer: Buffer;
}

/**
 * One record header as Kafka encodes it (Header => Key: varint-length string, Value: varint-length
 * bytes, -1 for null), with kafkajs' conversions: a key or a non-Buffer value is written as
 * `String(x)` in UTF-8.
 */
export function encodeHeader({ key, value }: { key: unknown; value: unknown }): EncodedHeader {
  const k = String(key);
  const keyBytes = Buffer.byteLength(k, 'utf8');
  let valueBytes = -1;
  let text: string | undefined;
  let raw: Buffer | undefined;
  if (value !== null && value !== undefined) {
    if (Buffer.isBuffer(value)) {
      raw = value;
      valueBytes = value.length;
    } else {
      text = String(value);
      valueBytes = Buffer.byteLength(text, 'utf8');
    }
  }
  const size = varIntSize(keyBytes) + keyBytes + varIntSize(valueBytes) + Math.max(0, valueBytes);
  // allocUnsafe: every byte is written below (sizes computed above); small sizes come from Node's pool.
  const buf = Buffer.allocUnsafe(size);
  let at = writeVarInt(buf, 0, keyBytes);
  at += buf.write(k, at, keyBytes, 'utf8');
  at = writeVarInt(buf, at, valueBytes);
  if (raw !== undefined) at += raw.copy(buf, at);
  else if (text !== undefined) at += buf.write(text, at, valueBytes, 'utf8');
  return { buf, buffer: buf };
}

function install(): PatchState {
  const files = kafkajsFiles();
  if (!('path' in files)) return { applied: false, reason: files.reason };
  const headerPath = files.path('src', 'protocol', 'recordBatch', 'header', 'v0', 'index.js');
  const recordPath = files.path('src', 'protocol', 'recordBatch', 'record', 'v0', 'index.js');
  if (exportsOf(headerPath) === encodeHeader) return { applied: true };
  if (loaded(recordPath)) return { applied: false, reason: 'kafkajs encoded a record before the patch' };
  replaceModule(headerPath, encodeHeader);
  return { applied: true };
}

/** Whether kafkajs encodes record headers with encodeHeader in this process. */
export const headerPatch: PatchState = install();
