// A single 1 GiB line (no newline until the end) goes through the real engine's chunk redactor in
// bounded memory; the token at its very end is found (line 1) and redacted, every byte before it kept.
// The line is generated while it is read and the output is only counted, never held.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { getHeapStatistics } from 'node:v8';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { runScan } from '../../../src/batch/index.ts';
import type { AnyFinding, Finding } from '../../../src/model.ts';
import { engineFromConfig } from '../../../src/pipeline/index.ts';

const SIZE = Number(process.env.HUGE_LINE_BYTES ?? 1024 ** 3);
const CHUNK = 1 << 20;

describe('a single 1 GiB line', () => {
  it('is redacted in bounded memory, token at the end found on line 1', async () => {
    const engine = await engineFromConfig({
      policies: ['default'],
      ruleFiles: [],
      key: randomBytes(32),
      keyId: 'test',
      ephemeralKey: true,
    });
    const token = await new SignJWT({ sub: 'svc-a', iss: 'https://idp.example.com' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime('1h')
      .sign(randomBytes(32));
    const filler = Buffer.alloc(CHUNK);
    const word = Buffer.from('lorem ipsum dolor sit amet, consectetur adipiscing elit; ');
    for (let i = 0; i < CHUNK; i += word.length) word.copy(filler, i);
    const tail = Buffer.from(` Bearer ${token}\n`);
    const fillerBytes = SIZE - tail.length;

    async function* line(): AsyncGenerator<Uint8Array> {
      for (let sent = 0; sent < fillerBytes; sent += CHUNK)
        yield filler.subarray(0, Math.min(CHUNK, fillerBytes - sent));
      yield tail;
    }

    let written = 0;
    let last = Buffer.alloc(0);
    let firstMismatch = -1;
    const stdout = new Writable({
      write(chunk: Buffer, _e, cb) {
        // Every byte before the token must be the filler, unchanged.
        for (let i = 0; i < chunk.length && firstMismatch < 0 && written + i < fillerBytes; i += 4093) {
          if (chunk[i] !== filler[(written + i) % CHUNK]) firstMismatch = written + i;
        }
        written += chunk.length;
        last = Buffer.concat([last, chunk]).subarray(-4096);
        cb();
      },
    });
    let peak = 0;
    const sample = () => {
      const h = getHeapStatistics();
      peak = Math.max(peak, h.used_heap_size + h.external_memory);
    };
    const base = getHeapStatistics();
    const timer = setInterval(sample, 20);
    const findings: AnyFinding[] = [];
    try {
      const report = await runScan(
        { inputs: ['-'], out: '-' },
        {
          engine,
          findings: { write: (f) => void findings.push(f) },
          stderr: { write: () => true },
          isTTY: false,
          stdin: line(),
          stdout,
        },
      );
      expect(report.failed).toBe(false);
      expect(report.bytesScanned).toBe(SIZE);
    } finally {
      clearInterval(timer);
    }
    sample();
    expect(firstMismatch).toBe(-1);
    expect(written).toBeGreaterThan(fillerBytes);
    expect(last.toString()).not.toContain(token);
    expect(last.toString()).toMatch(/ Bearer \S+\n$/);
    const tokens = findings.filter((f): f is Finding => 'token' in f);
    expect(tokens.map((f) => [f.source.kind, f.source.line])).toEqual([['stdin', 1]]);
    // Bounded: far below the line's size (the heap of this thread, plus its buffers).
    expect(peak - (base.used_heap_size + base.external_memory)).toBeLessThan(128 * 1024 * 1024);
  }, 180_000);
});
