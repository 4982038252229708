// Looks at the first bytes of a stream without consuming them: container and format detection
// need the head, the processor needs the whole stream.

export interface Peeked {
  /** At least `bytes` bytes, or everything when the stream is shorter. */
  head: Uint8Array;
  /** The whole stream again, head included. Iterate it once; `return()` closes the source. */
  stream: AsyncIterable<Uint8Array>;
}

export async function peek(source: AsyncIterable<Uint8Array>, bytes: number): Promise<Peeked> {
  const iterator = source[Symbol.asyncIterator]();
  const held: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < bytes) {
    const r = await iterator.next();
    if (r.done) {
      done = true;
      break;
    }
    if (r.value.length === 0) continue;
    held.push(r.value);
    size += r.value.length;
  }
  const head = held.length === 1 ? held[0]! : Buffer.concat(held, size);
  // A hand-written iterator rather than a generator: a generator never started ignores return(),
  // and the source (an open file) must be closed even when nobody reads past the head.
  const replay: AsyncIterator<Uint8Array> = {
    async next() {
      const value = held.shift();
      if (value !== undefined) return { done: false, value };
      if (done) return { done: true, value: undefined };
      const r = await iterator.next();
      if (r.done) done = true;
      return r;
    },
    async return() {
      held.length = 0;
      if (!done) {
        done = true;
        await iterator.return?.();
      }
      return { done: true, value: undefined };
    },
  };
  return { head, stream: { [Symbol.asyncIterator]: () => replay } };
}
