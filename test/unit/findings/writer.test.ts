import { readFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createFindingWriter,
  FINDING_FORMATS,
  formatFinding,
  formatObject,
  toEcs,
  toNative,
  toOcsf,
  toSarifLog,
} from '../../../src/findings/index.ts';
import { serialize } from '../../../src/findings/json.ts';
import type { Finding } from '../../../src/model.ts';
import { anyFinding } from './arbitraries.ts';
import { ERROR_FINDING, FINDING, NESTED_FINDING, OPTS } from './fixtures.ts';
import { sarifProblems } from './schema-checks.ts';

function collector() {
  const chunks: string[] = [];
  return { chunks, write: (s: string) => void chunks.push(s), text: () => chunks.join('') };
}

function readAll(stream: PassThrough): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => {
      text += c;
    });
    stream.on('end', () => resolve(text));
  });
}

const ALL = [FINDING, ERROR_FINDING, NESTED_FINDING];

describe('createFindingWriter', () => {
  it('writes native, OCSF and ECS as JSON Lines, one finding per line as it comes', async () => {
    const cases = [
      ['native', toNative],
      ['ocsf', (f) => toOcsf(f, OPTS)],
      ['ecs', (f) => toEcs(f, OPTS)],
    ] as const satisfies readonly [string, (f: (typeof ALL)[number]) => unknown][];
    for (const [format, expected] of cases) {
      const sink = collector();
      const w = createFindingWriter(format, sink, OPTS);
      w.write(FINDING);
      expect(sink.chunks).toHaveLength(1);
      w.write(ERROR_FINDING);
      w.write(NESTED_FINDING);
      await w.end();
      const lines = sink.text().split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => JSON.parse(l))).toEqual(ALL.map(expected));
    }
  });

  it('writes each JSON Lines record byte for byte as formatFinding, a repeated token included', async () => {
    for (const format of ['native', 'ocsf', 'ecs'] as const) {
      const sink = collector();
      const w = createFindingWriter(format, sink, OPTS);
      const again: Finding = {
        ...FINDING,
        id: 'another-id',
        source: { kind: 'file', name: 'b.log', line: 9 },
      };
      for (const f of [FINDING, NESTED_FINDING, again, ERROR_FINDING, FINDING]) w.write(f);
      await w.end();
      expect(sink.chunks).toEqual(
        [FINDING, NESTED_FINDING, again, ERROR_FINDING, FINDING].map(
          (f) => `${formatFinding(format, f, OPTS)}\n`,
        ),
      );
    }
  });

  it('writes SARIF as one document: each result as it comes, the tool and rules at the end', async () => {
    const sink = collector();
    const w = createFindingWriter('sarif', sink, OPTS);
    for (const f of ALL) w.write(f);
    expect(sink.chunks).toHaveLength(ALL.length);
    expect(sink.text()).toContain(JSON.stringify(FINDING.token.fingerprint));
    await w.end();
    expect(sink.chunks).toHaveLength(ALL.length + 1);
    expect(sink.text()).toBe(`${serialize(toSarifLog(ALL, OPTS), 2)}\n`);
    expect(sarifProblems(JSON.parse(sink.text()))).toEqual([]);
  });

  it('writes exactly the log toSarifLog builds, for any findings (none included)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyFinding, { maxLength: 6 }), async (fs) => {
        const sink = collector();
        const w = createFindingWriter('sarif', sink, OPTS);
        for (const f of [...fs, ...fs]) w.write(f);
        await w.end();
        expect(sink.text()).toBe(`${serialize(toSarifLog([...fs, ...fs], OPTS), 2)}\n`);
      }),
      { numRuns: 200 },
    );
  });

  it('asks its caller to wait once 4 MiB are queued on a slow stream, and lets go once drained', async () => {
    const held: (() => void)[] = [];
    // A stream that takes each chunk only when the test says so.
    const slow = new Writable({
      write(_chunk, _enc, done) {
        held.push(done);
      },
    });
    const w = createFindingWriter('native', slow);
    let full: Promise<void> | undefined;
    let written = 0;
    while (full === undefined && written < 10_000) {
      full = w.write(FINDING);
      written++;
    }
    expect(full).toBeInstanceOf(Promise);
    const queued = slow.writableLength;
    expect(queued).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(queued).toBeLessThan(4 * 1024 * 1024 + 4096);
    let resumed = false;
    void full!.then(() => {
      resumed = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(resumed).toBe(false);
    while (slow.writableLength > 0) {
      held.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await full;
    expect(resumed).toBe(true);
    expect(w.write(FINDING)).toBeUndefined();
  });

  it('never asks to wait on a destroyed stream (it would never drain)', async () => {
    // Chunks are held, never taken: 4 MiB queue up, then the stream is destroyed (a closed pipe).
    const gone = new Writable({ write() {} });
    gone.on('error', () => undefined);
    const w = createFindingWriter('native', gone);
    let full: Promise<void> | undefined;
    for (let i = 0; i < 10_000 && full === undefined; i++) full = w.write(FINDING);
    expect(full).toBeInstanceOf(Promise);
    gone.destroy();
    await full; // the close lets the waiting writer go
    expect(gone.writableLength).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(w.write(FINDING)).toBeUndefined();
    await expect(w.end()).rejects.toThrow();
  });

  it('writes a valid SARIF log with no results when nothing was found', async () => {
    const sink = collector();
    await createFindingWriter('sarif', sink, OPTS).end();
    const doc = JSON.parse(sink.text());
    expect(sarifProblems(doc)).toEqual([]);
    expect(doc.runs[0].results).toEqual([]);
    expect(doc.runs[0].tool.driver.rules).toEqual([]);
  });

  it('writes to a Node stream and leaves it open unless asked to close it', async () => {
    const open = new PassThrough();
    const w = createFindingWriter('native', open);
    w.write(FINDING);
    await w.end();
    expect(open.writableEnded).toBe(false);
    open.end();
    expect(JSON.parse((await readAll(open)).trim())).toEqual(toNative(FINDING));

    const closed = new PassThrough();
    const text = readAll(closed);
    const w2 = createFindingWriter('sarif', closed, { ...OPTS, close: true });
    w2.write(FINDING);
    await w2.end();
    expect(closed.writableFinished).toBe(true);
    expect(sarifProblems(JSON.parse(await text))).toEqual([]);
  });

  it('resolves end() only once the stream has taken every byte', async () => {
    const taken: string[] = [];
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, done) {
        setTimeout(() => {
          taken.push(chunk.toString());
          done();
        }, 5);
      },
    });
    const w = createFindingWriter('ecs', slow, OPTS);
    for (const f of ALL) w.write(f);
    await w.end();
    expect(taken.join('').split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('rejects end() and refuses writes after the stream failed', async () => {
    const broken = new Writable({
      write(_chunk, _enc, done) {
        done(new Error('EPIPE'));
      },
    });
    const w = createFindingWriter('native', broken);
    w.write(FINDING);
    await new Promise((r) => setImmediate(r));
    expect(() => w.write(FINDING)).toThrow('EPIPE');
    await expect(w.end()).rejects.toThrow('EPIPE');
  });

  it('refuses writes after end() and returns the same promise from a second end()', async () => {
    const w = createFindingWriter('native', collector());
    const first = w.end();
    expect(w.end()).toBe(first);
    await first;
    expect(() => w.write(FINDING)).toThrow('after end()');
  });

  it('keeps a finding on one line, whatever line separators its strings hold', async () => {
    const sink = collector();
    const f: Finding = { ...FINDING, claims: { note: 'a\nb\r\u2028c\u2029d' } };
    const w = createFindingWriter('native', sink);
    w.write(f);
    await w.end();
    const text = sink.text();
    expect(text.slice(0, -1)).not.toMatch(/[\n\r\u2028\u2029]/);
    expect(JSON.parse(text).claims.note).toBe('a\nb\r\u2028c\u2029d');
  });
});

describe('formatFinding', () => {
  it('gives one line of JSON per finding in every format', () => {
    for (const format of FINDING_FORMATS) {
      for (const f of ALL) {
        const text = formatFinding(format, f, OPTS);
        expect(text).not.toContain('\n');
        expect(JSON.parse(text)).toEqual(formatObject(format, f, OPTS));
      }
    }
  });

  it('makes SARIF a complete one-result log, so each Kafka message is a SARIF document', () => {
    const doc = JSON.parse(formatFinding('sarif', FINDING, OPTS));
    expect(sarifProblems(doc)).toEqual([]);
    expect(doc.runs[0].results).toHaveLength(1);
    expect(doc).toEqual(toSarifLog([FINDING], OPTS));
  });

  it('stamps the package version when no version is given', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    const o = JSON.parse(formatFinding('ocsf', FINDING));
    expect(o.metadata.product.version).toBe(pkg.version);
    expect(JSON.parse(formatFinding('ecs', FINDING)).observer.version).toBe(pkg.version);
  });
});
