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
});
