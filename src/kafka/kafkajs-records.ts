// kafkajs' record and record-batch encoders, replaced by ones that write the same bytes with a
// fraction of the work. Loaded by client.ts right after kafkajs-header.ts, for the same reasons and
// in the same way (see there): kafkajs loads its produce request encoder, which binds these two
// modules, on the first produce request.
//
// Why: in kafkajs 2.2.4 a produce request of ~700 1 KiB records spent most of its encoding time on
// zero-filled buffers and copies, and on its pure-JavaScript CRC32C (a byte at a time, ~4.7 ns per
// byte): each record gets a 512-byte Encoder that grows (zero-filled, copied) to fit its value; the
// batch body grows by doubling over all records (zero-filled, copied), is checksummed, copied into
// a second Encoder and that into a third. Here each record is written once into a buffer of its
// exact size, and the batch once into a buffer of its exact size, checksummed with a CRC32C that
// reads eight bytes per step.
//
// Safety: both buffers come from allocUnsafe, and are handed to kafkajs only after the write
// position has been checked to be exactly their size: every byte was written, so nothing of an
// earlier allocation can go out on the wire. Any input outside the shapes written here (a
// compressed batch, keys, values or headers that are neither strings nor Buffers, deltas beyond
// 2^30) goes to kafkajs' own encoder, unchanged. test/unit/kafka/kafkajs-records.test.ts compares
// the bytes with kafkajs' encoders.
import { headerPatch } from './kafkajs-header.ts';
import {
  exportsOf,
  kafkajsFiles,
  kafkajsRequire,
  loaded,
  type PatchState,
  replaceModule,
} from './kafkajs-patch.ts';
import { varIntSize, writeVarInt } from './varint.ts';

/** What kafkajs' encoders read of an encoded record or batch: `buf` (checked) and `buffer`, and `size()`. */
export interface EncodedBytes {
  readonly buf: Buffer;
  readonly buffer: Buffer;
  readonly offset: number;
  size(): number;
}

class Encoded implements EncodedBytes {
  readonly buf: Buffer;
  readonly offset: number;
  constructor(buf: Buffer) {
    this.buf = buf;
    this.offset = buf.length;
  }
  get buffer(): Buffer {
    return this.buf;
  }
  size(): number {
    return this.offset;
  }
}

// ---- CRC32C (Castagnoli, reflected 0x82f63b78), slicing by 8 ----
const CRC_TABLES: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC32C of `buf[start, end)` as an unsigned 32-bit number (the value kafkajs' crc32C returns). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = CRC_TABLES;
  let crc = -1;
  let i = start;
  const end8 = start + ((end - start) & ~7);
  for (; i < end8; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    const b = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + (b & 0xff)]! ^
      t[512 + ((b >>> 8) & 0xff)]! ^
      t[256 + ((b >>> 16) & 0xff)]! ^
      t[b >>> 24]!;
  }
  for (; i < end; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** Deltas in this range encode the same as a varint and as kafkajs' 64-bit varlong. */
const SMALL = 1 << 30;

function smallInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > -SMALL && n < SMALL;
}

/** Bytes of a key, value or header value as kafkajs writes it: -1 for null, else its UTF-8 or raw length; undefined when not written here. */
function bytesOf(v: unknown): number | undefined {
  if (v === null || v === undefined) return -1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (Buffer.isBuffer(v)) return v.length;
  return undefined;
}

/** Below this many bytes a copy is a loop here: cheaper than a call into Buffer#copy's native code. */
const SMALL_COPY = 32;

function copyInto(buf: Buffer, at: number, src: Buffer): number {
  const n = src.length;
  if (n < SMALL_COPY) for (let k = 0; k < n; k++) buf[at + k] = src[k]!;
  else src.copy(buf, at);
  return at + n;
}

function writeBytes(buf: Buffer, at: number, v: unknown, len: number): number {
  const i = writeVarInt(buf, at, len);
  if (len <= 0) return i;
  if (typeof v === 'string') return i + buf.write(v, i, len, 'utf8');
  return copyInto(buf, i, v as Buffer);
}

/**
 * Header names as UTF-8, kept: a producer uses a handful of names, on every record (the processor's
 * findings count). Bounded, in case names are made per record.
 */
const NAMES = new Map<string, Buffer>();
const MAX_NAMES = 1024;

function nameBytes(name: string): Buffer {
  let b = NAMES.get(name);
  if (b === undefined) {
    b = Buffer.from(name, 'utf8');
    if (NAMES.size < MAX_NAMES) NAMES.set(name, b);
  }
  return b;
}

/** Encoded size of one header, or undefined for a value not written here. */
function headerSize(nameLen: number, value: unknown): number | undefined {
  // kafkajs sizes a null header value with Buffer.byteLength(null), which throws.
  const len = value === null || value === undefined ? undefined : bytesOf(value);
  return len === undefined ? undefined : varIntSize(nameLen) + nameLen + varIntSize(len) + len;
}

function writeHeader(buf: Buffer, at: number, name: Buffer, value: unknown): number {
  const i = copyInto(buf, writeVarInt(buf, at, name.length), name);
  return writeBytes(buf, i, value, bytesOf(value)!);
}

interface RecordInput {
  offsetDelta?: unknown;
  timestampDelta?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
}

type RecordEncoder = (r: RecordInput) => EncodedBytes;

/**
 * One record as kafkajs' record/v0 encoder writes it (Length, Attributes, TimestampDelta,
 * OffsetDelta, Key, Value, Headers), or undefined for an input it handles differently.
 */
export function encodeRecord({
  offsetDelta = 0,
  timestampDelta = 0,
  key,
  value,
  headers = {},
}: RecordInput): EncodedBytes | undefined {
  if (!smallInt(offsetDelta) || !smallInt(timestampDelta)) return undefined;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return undefined;
  const keyLen = bytesOf(key);
  const valueLen = bytesOf(value);
  if (keyLen === undefined || valueLen === undefined) return undefined;
  // Headers in kafkajs' order: own keys in order, an array value as one header per element.
  const h = headers as Record<string, unknown>;
  const names = Object.keys(h);
  let count = 0;
  let headerBytes = 0;
  for (const name of names) {
    const v = h[name];
    const nameLen = nameBytes(name).length;
    if (Array.isArray(v)) {
      for (const x of v) {
        const n = headerSize(nameLen, x);
        if (n === undefined) return undefined;
        headerBytes += n;
        count++;
      }
    } else {
      const n = headerSize(nameLen, v);
      if (n === undefined) return undefined;
      headerBytes += n;
      count++;
    }
  }
  const body =
    1 +
    varIntSize(timestampDelta) +
    varIntSize(offsetDelta) +
    varIntSize(keyLen) +
    Math.max(0, keyLen) +
    varIntSize(valueLen) +
    Math.max(0, valueLen) +
    varIntSize(count) +
    headerBytes;
  const size = varIntSize(body) + body;
  const buf = Buffer.allocUnsafe(size);
  let at = writeVarInt(buf, 0, body);
  buf[at++] = 0; // attributes
  at = writeVarInt(buf, at, timestampDelta);
  at = writeVarInt(buf, at, offsetDelta);
  at = writeBytes(buf, at, key, keyLen);
  at = writeBytes(buf, at, value, valueLen);
  at = writeVarInt(buf, at, count);
  for (const name of names) {
    const v = h[name];
    const n = nameBytes(name);
    if (Array.isArray(v)) for (const x of v) at = writeHeader(buf, at, n, x);
    else at = writeHeader(buf, at, n, v);
  }
  // Every byte written, exactly: nothing else may go out (see the top of this file).
  if (at !== size) throw new Error(`record encoder wrote ${at} of ${size} bytes`);
  return new Encoded(buf);
}

interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}
interface LongStatic {
  fromValue(v: unknown): LongLike;
  fromInt(n: number): LongLike;
}

interface BatchInput {
  compression?: number;
  firstOffset?: unknown;
  firstTimestamp?: unknown;
  maxTimestamp?: unknown;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: unknown;
  producerEpoch?: number;
  firstSequence?: number;
  records?: readonly { buf: Buffer; readonly buffer: Buffer }[];
}

type BatchEncoder = (b: BatchInput) => Promise<EncodedBytes>;

/** Size of the fixed part of an encoded batch, before the records. */
const BATCH_HEADER = 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** Where the checksummed part starts (attributes). */
const CRC_FROM = 8 + 4 + 4 + 1 + 4;
const TRANSACTIONAL_MASK = 16;
const COMPRESSION_CODEC_MASK = 0x07;

function writeInt64(buf: Buffer, at: number, long: LongLike): number {
  buf.writeInt32BE(long.getHighBits(), at);
  buf.writeInt32BE(long.getLowBits(), at + 4);
  return at + 8;
}

/**
 * An uncompressed record batch as kafkajs' RecordBatch writes it, preceded by its first offset
 * and length (as kafkajs returns it): FirstOffset, Length, PartitionLeaderEpoch, Magic (2), CRC,
 * Attributes, LastOffsetDelta, FirstTimestamp, MaxTimestamp, ProducerId, ProducerEpoch,
 * FirstSequence, Records. `Long` is kafkajs' own, so 64-bit fields convert exactly as there.
 */
export function encodeBatch(Long: LongStatic, input: BatchInput): EncodedBytes {
  const {
    firstOffset = Long.fromInt(0),
    firstTimestamp = Date.now(),
    maxTimestamp = Date.now(),
    partitionLeaderEpoch = 0,
    lastOffsetDelta = 0,
    transactional = false,
    producerId = Long.fromValue(-1),
    producerEpoch = 0,
    firstSequence = 0,
    records = [],
  } = input;
  const parts: Buffer[] = new Array(records.length);
  let size = BATCH_HEADER;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r === null || typeof r !== 'object' || !Buffer.isBuffer(r.buf))
      throw new Error('all values should be an instance of Encoder[]');
    const bytes = r.buffer;
    parts[i] = bytes;
    size += bytes.length;
  }
  const buf = Buffer.allocUnsafe(size);
  let at = writeInt64(buf, 0, Long.fromValue(firstOffset));
  buf.writeInt32BE(size - 12, at);
  at += 4;
  buf.writeInt32BE(partitionLeaderEpoch, at);
  at += 4;
  buf.writeInt8(2, at); // magic
  at += 1;
  const crcAt = at;
  at += 4;
  const attributes =
    ((input.compression ?? 0) & COMPRESSION_CODEC_MASK) | (transactional ? TRANSACTIONAL_MASK : 0);
  buf.writeInt16BE(attributes, at);
  at += 2;
  buf.writeInt32BE(lastOffsetDelta, at);
  at += 4;
  at = writeInt64(buf, at, Long.fromValue(firstTimestamp));
  at = writeInt64(buf, at, Long.fromValue(maxTimestamp));
  at = writeInt64(buf, at, Long.fromValue(producerId));
  buf.writeInt16BE(producerEpoch, at);
  at += 2;
  buf.writeInt32BE(firstSequence, at);
  at += 4;
  buf.writeInt32BE(records.length, at);
  at += 4;
  for (const p of parts) at += p.copy(buf, at);
  if (at !== size) throw new Error(`record batch encoder wrote ${at} of ${size} bytes`);
  buf.writeUInt32BE(crc32c(buf, CRC_FROM, size), crcAt);
  return new Encoded(buf);
}

const PATCHED = Symbol.for('jwt-redactor.kafkajs-records');

function isPatched(x: unknown): boolean {
  return typeof x === 'function' && (x as unknown as Record<symbol, unknown>)[PATCHED] === true;
}

function install(): PatchState {
  const files = kafkajsFiles();
  if (!('path' in files)) return { applied: false, reason: files.reason };
  if (!headerPatch.applied)
    return { applied: false, reason: `header encoder not replaced (${headerPatch.reason})` };
  const recordPath = files.path('src', 'protocol', 'recordBatch', 'record', 'v0', 'index.js');
  const batchPath = files.path('src', 'protocol', 'recordBatch', 'v0', 'index.js');
  const producePath = files.path('src', 'protocol', 'requests', 'produce', 'v3', 'request.js');
  const batchExports = exportsOf(batchPath) as { RecordBatch?: unknown } | undefined;
  if (isPatched(exportsOf(recordPath)) && isPatched(batchExports?.RecordBatch)) return { applied: true };
  if (loaded(producePath))
    return { applied: false, reason: 'kafkajs encoded a produce request before the patch' };

  // kafkajs' own encoders, kept for what is not written here.
  const kafkajsRecord = kafkajsRequire(recordPath) as (r: RecordInput) => EncodedBytes;
  const kafkajsBatchModule = kafkajsRequire(batchPath) as { RecordBatch: BatchEncoder; MAGIC_BYTE: number };
  const Long = kafkajsRequire(files.path('src', 'utils', 'long.js')) as LongStatic;

  const fastRecord: RecordEncoder = (r) => encodeRecord(r) ?? kafkajsRecord(r);
  const fastBatch: BatchEncoder = async (b) =>
    (b.compression ?? 0) === 0 ? encodeBatch(Long, b) : kafkajsBatchModule.RecordBatch(b);
  Object.defineProperty(fastRecord, PATCHED, { value: true });
  Object.defineProperty(fastBatch, PATCHED, { value: true });
  replaceModule(recordPath, fastRecord);
  replaceModule(batchPath, { ...kafkajsBatchModule, RecordBatch: fastBatch });
  return { applied: true };
}

/** Whether kafkajs encodes records and record batches with encodeRecord/encodeBatch in this process. */
export const recordsPatch: PatchState = install();
