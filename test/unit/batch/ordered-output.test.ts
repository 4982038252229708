// The ordered output writes results in submission order and bounds what is in flight: entries, and
// the input bytes of the jobs (what keeps 1 MiB line jobs from piling up in memory).
import { describe, expect, it } from 'vitest';
import type { JobResult } from '../../../src/batch/jobs.ts';
import { OrderedOutput } from '../../../src/batch/ordered-output.ts';
import { memorySink } from '../../../src/sinks/byte-sink.ts';

function deferred(text: string): { promise: Promise<JobResult>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<JobResult>((r) => {
    resolve = () => r({ output: Buffer.from(text), findings: [], notes: [] });
  });
  return { promise, resolve };
}

/** Whether `p` has settled once pending callbacks have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('ordered output', () => {
  it('waits once the entries in flight pass the entry bound, and writes in submission order', async () => {
    const sink = memorySink();
    const out = new OrderedOutput(sink, () => undefined, { entries: 2, bytes: Number.POSITIVE_INFINITY });
    const [a, b, c] = [deferred('a'), deferred('b'), deferred('c')];
    await out.job(a.promise, 10);
    await out.job(b.promise, 10);
    const third = out.job(c.promise, 10);
    expect(await settled(third)).toBe(false);
    b.resolve();
    expect(await settled(third)).toBe(false);
    a.resolve();
    expect(await settled(third)).toBe(true);
    c.resolve();
    await out.finish();
    expect(sink.bytes().toString()).toBe('abc');
  });

  it('waits once the input bytes in flight pass the byte bound, however few the entries', async () => {
    const sink = memorySink();
    const out = new OrderedOutput(sink, () => undefined, { entries: 10, bytes: 100 });
    const [a, b, c] = [deferred('a'), deferred('b'), deferred('c')];
    // One job bigger than the bound alone does not wait for itself.
    await out.job(a.promise, 150);
    const second = out.job(b.promise, 60);
    expect(await settled(second)).toBe(false);
    a.resolve();
    expect(await settled(second)).toBe(true);
    // 60 + 40 is within the bound: no wait.
    expect(await settled(out.job(c.promise, 40))).toBe(true);
    // A verbatim piece counts too: 101 bytes, so it waits for the oldest entry.
    const piece = out.verbatim(Buffer.from('-'));
    expect(await settled(piece)).toBe(false);
    b.resolve();
    expect(await settled(piece)).toBe(true);
    c.resolve();
    await out.finish();
    expect(sink.bytes().toString()).toBe('abc-');
  });

  it('gathers small pieces into few writes, passes large ones as they are, in order', async () => {
    // Counted in bytes only, a file stream queued millions of two-byte writes, each with objects of
    // its own: a JSON text sequence of 33 million `{}` grew a scan to 2.6 GB.
    const writes: { bytes: Buffer; released: () => boolean }[] = [];
    const sink = {
      discard: false,
      write(chunk: Uint8Array, release?: () => void) {
        let done = false;
        writes.push({ bytes: Buffer.from(chunk), released: () => done });
        if (release) {
          release();
          done = true;
        }
        return Promise.resolve();
      },
      end: () => Promise.resolve(),
    };
    const out = new OrderedOutput(sink, () => undefined, { entries: 4, bytes: Number.POSITIVE_INFINITY });
    let expected = '';
    for (let i = 0; i < 100_000; i++) {
      const piece = i % 2 === 0 ? '{}' : ' ';
      expected += piece;
      await out.verbatim(Buffer.from(piece));
    }
    const large = Buffer.alloc(8192, 'L');
    let released = 0;
    await out.job(
      Promise.resolve({ output: large, findings: [], notes: [], release: () => void released++ }),
    );
    expected += large.toString();
    for (const piece of ['a', 'b']) {
      await out.job(Promise.resolve({ output: Buffer.from(piece), findings: [], notes: [] }));
      expected += piece;
    }
    await out.finish();
    expect(Buffer.concat(writes.map((w) => w.bytes)).toString()).toBe(expected);
    expect(out.written).toBe(expected.length);
    // 150,000 bytes of small pieces in three writes of up to 64 KiB (full but for a last piece that
    // did not fit), then the large output alone, then the tail.
    const sizes = writes.map((w) => w.bytes.length);
    expect(sizes.slice(3)).toEqual([8192, 2]);
    expect(sizes.slice(0, 3).reduce((a, b) => a + b, 0)).toBe(150_000);
    for (const n of sizes.slice(0, 2)) expect(n).toBeGreaterThan(65536 - 2);
    expect(writes[3]!.bytes.equals(large)).toBe(true);
    expect(released).toBe(1);
  });
});
