// Kafka's zig-zag LEB128 varints of 32-bit ints (record lengths, deltas, key/value/header lengths),
// for the encoders that replace kafkajs' own (kafkajs-header.ts, kafkajs-records.ts).

/** Size in bytes of the varint of `n`. */
export function varIntSize(n: number): number {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  let bytes = 1;
  while (z > 0x7f) {
    bytes++;
    z >>>= 7;
  }
  return bytes;
}

/** Writes the varint of `n` at `at`; returns the offset after it. */
export function writeVarInt(buf: Buffer, at: number, n: number): number {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  let i = at;
  while (z > 0x7f) {
    buf[i++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[i++] = z;
  return i;
}
