// Formats end to end through runScan, with the engine double: text, JSONL, JSON documents, HAR,
// invalid JSON, invalid UTF-8, long lines, stdin. Every output must equal the input with exactly the
// token spans replaced.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/model.ts';
import { createEngineDouble, fakeToken, placeholderFor } from './engine-double.ts';
import { scan, tempDir } from './helpers.ts';

const T1 = fakeToken({ sub: 'alice' });
const T2 = fakeToken({ sub: 'bob', scope: 'admin' });
const T3 = fakeToken({ sub: 'carol' });
const T4 = fakeToken({ sub: 'dave' });
const T5 = fakeToken({ sub: 'erin' });
const T6 = fakeToken({ sub: 'frank' });

function redacted(text: string): string {
  let out = text;
  for (const t of [T1, T2, T3, T4, T5, T6]) out = out.split(t).join(placeholderFor(t));
  return out;
}

function where(f: Finding): string {
  return [f.source.name?.split('/').pop(), f.source.member, f.source.line, f.source.pointer]
    .filter((x) => x !== undefined)
    .join(' ');
}

describe('scan: text', () => {
  it('redacts tokens in place, keeps every other byte, reports lines', async () => {
    const dir = tempDir();
    const text = `start\r\nAuthorization: Bearer ${T1}\n\n\tcookie: sid=${T2}; x=1\nend without newline ${T3}`;
    writeFileSync(join(dir, 'app.log'), text);
    const r = await scan({ inputs: [join(dir, 'app.log')], outDir: join(dir, 'out') });
    expect(readFileSync(join(dir, 'out', 'app.log'), 'utf8')).toBe(redacted(text));
    expect(r.tokens.map(where)).toEqual(['app.log 2', 'app.log 4', 'app.log 5']);
    expect(r.report.failed).toBe(false);
    expect(r.report.files).toBe(1);
  });

  it('streams a line longer than a job through the chunk redactor, token at its very end', async () => {
    const dir = tempDir();
    const long = `${'word '.repeat(4000)}${T2}`;
    const text = `first ${T1}\n${long}\nthird ${T3}\n`;
    writeFileSync(join(dir, 'long.txt'), text);
    const calls: string[] = [];
    const r = await scan(
      { inputs: [join(dir, 'long.txt')], outDir: join(dir, 'out'), recordBytes: 4096 },
      { engine: createEngineDouble({ calls }) },
    );
    expect(readFileSync(join(dir, 'out', 'long.txt'), 'utf8')).toBe(redacted(text));
    expect(calls).toContain('chunk');
    expect(r.tokens.map(where)).toEqual(['long.txt 1', 'long.txt 2', 'long.txt 3']);
  });

  it('keeps invalid UTF-8 bytes exactly', async () => {
    const dir = tempDir();
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xfe, 0x80, 0x0a]),
      Buffer.from(`x ${T1} \xc3\n`, 'latin1'),
      Buffer.from([0xc3, 0x28]),
    ]);
    writeFileSync(join(dir, 'bin.log'), bytes);
    await scan({ inputs: [join(dir, 'bin.log')], outDir: join(dir, 'out') });
    const expected = Buffer.from(bytes.toString('latin1').replace(T1, placeholderFor(T1)), 'latin1');
    expect(readFileSync(join(dir, 'out', 'bin.log'))).toEqual(expected);
  });
});

describe('scan: JSONL', () => {
  it('gives each line its number and JSON lines their pointer; other lines are text', async () => {
    const dir = tempDir();
    const lines = [
      JSON.stringify({ level: 'info', msg: 'ok' }),
      JSON.stringify({ req: { headers: { authorization: `Bearer ${T1}` } } }),
      `plain text with ${T2}`,
      '',
      JSON.stringify({ tokens: ['x', T3] }),
    ];
    const text = `${lines.join('\n')}\n`;
    writeFileSync(join(dir, 'events.jsonl'), text);
    const r = await scan({ inputs: [join(dir, 'events.jsonl')], outDir: join(dir, 'out') });
    expect(readFileSync(join(dir, 'out', 'events.jsonl'), 'utf8')).toBe(redacted(text));
    expect(r.tokens.map(where)).toEqual([
      'events.jsonl 2 /req/headers/authorization',
      'events.jsonl 3',
      'events.jsonl 5 /tokens/1',
    ]);
  });

  it('streams a JSONL line bigger than a record through the JSON splitter, pointers and line kept', async () => {
    const dir = tempDir();
    const big = {
      id: 7,
      items: Array.from({ length: 300 }, (_, i) => ({
        i,
        pad: 'p'.repeat(40),
        ...(i === 250 ? { t: T1 } : {}),
      })),
    };
    const text = `${JSON.stringify({ a: 1 })}\n${JSON.stringify(big)}\n${JSON.stringify({ t: T2 })}\n`;
    writeFileSync(join(dir, 'big.jsonl'), text);
    const r = await scan({ inputs: [join(dir, 'big.jsonl')], outDir: join(dir, 'out'), recordBytes: 2048 });
    expect(readFileSync(join(dir, 'out', 'big.jsonl'), 'utf8')).toBe(redacted(text));
    expect(r.tokens.map(where)).toEqual(['big.jsonl 2 /items/250/t', 'big.jsonl 3 /t']);
  });

  it('scans a JSON text sequence of many small values in batches: lines, pointers, bytes kept', async () => {
    const dir = tempDir();
    // 2,000 values, one in 300 with a token, a few over two lines; a record of 4 KiB makes batches
    // of about 4 KiB (one job each, not one job a value).
    const values = Array.from({ length: 2000 }, (_, i) =>
      i % 300 === 7
        ? JSON.stringify({ i, t: [T1, T2][i % 2] })
        : i % 97 === 0
          ? `{\n"i": ${i}}`
          : `{"i":${i}}`,
    );
    const text = `${values.join('\n')}\n`;
    writeFileSync(join(dir, 'seq.json'), text);
    const r = await scan({ inputs: [join(dir, 'seq.json')], outDir: join(dir, 'out'), recordBytes: 4096 });
    expect(readFileSync(join(dir, 'out', 'seq.json'), 'utf8')).toBe(redacted(text));
    const lineOf = (k: number) => 1 + k + values.slice(0, k).filter((v) => v.includes('\n')).length;
    const expected = values.flatMap((v, k) => (v.includes('"t"') ? [`seq.json ${lineOf(k)} /t`] : []));
    expect(expected).toHaveLength(7);
    expect(r.tokens.map(where)).toEqual(expected);
    expect(r.report.notes).toEqual([]);
  });

  it('detects JSON lines in a .log file', async () => {
    const dir = tempDir();
    const text = `${JSON.stringify({ a: T1 })}\n${JSON.stringify({ b: 2 })}\n`;
    writeFileSync(join(dir, 'k8s.log'), text);
    const r = await scan({ inputs: [join(dir, 'k8s.log')] });
    expect(r.tokens.map(where)).toEqual(['k8s.log 1 /a']);
  });
});

describe('scan: JSON documents', () => {
  it('edits a large pretty-printed export in place: formatting, key order and escapes survive', async () => {
    const dir = tempDir();
    const records = Array.from({ length: 400 }, (_, i) => ({
      z: i,
      a: `v\u00e9\\/${i}`,
      ...(i % 97 === 3 ? { session: { jwt: i % 2 ? T1 : T2 } } : {}),
      n: 1.5e3,
    }));
    const text = JSON.stringify({ exportedAt: '2024-01-01', records, tail: T3 }, null, 4).replace(
      /1500/g,
      '1.5e3',
    );
    writeFileSync(join(dir, 'export.json'), text);
    const r = await scan({ inputs: [join(dir, 'export.json')], outDir: join(dir, 'out'), recordBytes: 4096 });
    const out = readFileSync(join(dir, 'out', 'export.json'), 'utf8');
    expect(out).toBe(redacted(text));
    expect(JSON.parse(out)).toBeTypeOf('object');
    expect(r.tokens.map((f) => f.source.pointer)).toEqual([
      ...records.flatMap((rec, i) => ('session' in rec ? [`/records/${i}/session/jwt`] : [])),
      '/tail',
    ]);
    expect(r.tokens.every((f) => f.source.line === undefined)).toBe(true);
  });

  it('scans the rest as text after JSON breaks half-way, keeping every byte', async () => {
    const dir = tempDir();
    const rows = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({ i, pad: 'x'.repeat(60), ...(i === 5 ? { t: T1 } : {}) }),
    );
    rows[40] = '{"broken": tru e}';
    rows[50] = JSON.stringify({ after: T2 });
    const text = `[\n${rows.join(',\n')}\n]\nmore text ${T3}\n`;
    writeFileSync(join(dir, 'broken.json'), text);
    const r = await scan({ inputs: [join(dir, 'broken.json')], outDir: join(dir, 'out'), recordBytes: 2048 });
    expect(readFileSync(join(dir, 'out', 'broken.json'), 'utf8')).toBe(redacted(text));
    // Before the break: JSON pointers. After it: text, with line numbers.
    expect(r.tokens.map(where)).toEqual(['broken.json /5/t', 'broken.json 52', 'broken.json 63']);
    expect(r.report.failed).toBe(false);
    expect(r.report.notes.map((n) => n.message)).toEqual([
      'not valid JSON at line 42, column 12 (invalid literal): the rest is scanned as text',
    ]);
  });

  it('scans a value that is not UTF-8 as text and says so', async () => {
    const dir = tempDir();
    const text = Buffer.concat([
      Buffer.from(`[{"t":"${T1}","x":"`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]'),
    ]);
    writeFileSync(join(dir, 'latin.json'), text);
    const r = await scan({ inputs: [join(dir, 'latin.json')], outDir: join(dir, 'out') });
    const expected = Buffer.from(text.toString('latin1').replace(T1, placeholderFor(T1)), 'latin1');
    expect(readFileSync(join(dir, 'out', 'latin.json'))).toEqual(expected);
    expect(r.report.notes.map((n) => n.message)).toEqual(['JSON at / is not valid UTF-8; scanned as text']);
    expect(r.tokens).toHaveLength(1);
  });

  it('honours --input-format', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'doc.json'), JSON.stringify({ t: T1 }));
    const r = await scan({ inputs: [join(dir, 'doc.json')], inputFormat: 'text' });
    expect(r.tokens.map(where)).toEqual(['doc.json 1']);
  });
});

describe('scan: HAR', () => {
  const body = JSON.stringify({ access_token: T2, token_type: 'Bearer' });
  const har = {
    log: {
      version: '1.2',
      creator: { name: 'test', version: '1' },
      entries: [
        {
          request: {
            method: 'GET',
            url: `https://api.example.com/me?access_token=${T1}`,
            headers: [{ name: 'Authorization', value: `Bearer ${T4}` }],
            cookies: [{ name: 'session', value: T3 }],
            queryString: [{ name: 'access_token', value: T6 }],
          },
          response: { status: 200, content: { size: 2, mimeType: 'text/plain', text: 'ok' } },
        },
        {
          request: {
            method: 'POST',
            url: 'https://idp.example.com/token',
            postData: { mimeType: 'x', text: `assertion=${T5}` },
          },
          response: {
            status: 200,
            content: {
              size: body.length,
              mimeType: 'application/json',
              text: Buffer.from(body).toString('base64'),
              encoding: 'base64',
            },
          },
        },
      ],
    },
  };

  it('scans every field, decodes base64 bodies, and keeps a valid HAR of the same shape', async () => {
    const dir = tempDir();
    const text = JSON.stringify(har, null, 2);
    writeFileSync(join(dir, 'session.har'), text);
    const r = await scan({ inputs: [join(dir, 'session.har')], outDir: join(dir, 'out') });
    const out = JSON.parse(readFileSync(join(dir, 'out', 'session.har'), 'utf8'));
    const expected = structuredClone(har);
    const e = expected.log.entries;
    e[0]!.request.url = redacted(e[0]!.request.url);
    e[0]!.request.headers![0]!.value = redacted(e[0]!.request.headers![0]!.value);
    e[0]!.request.cookies![0]!.value = placeholderFor(T3);
    e[0]!.request.queryString![0]!.value = placeholderFor(T6);
    e[1]!.request.postData!.text = redacted(e[1]!.request.postData!.text);
    e[1]!.response.content.text = Buffer.from(redacted(body)).toString('base64');
    expect(out).toEqual(expected);
    expect(r.tokens.map((f) => [f.source.pointer, f.token.encoding])).toEqual([
      ['/log/entries/0/request/url', []],
      ['/log/entries/0/request/headers/0/value', []],
      ['/log/entries/0/request/cookies/0/value', []],
      ['/log/entries/0/request/queryString/0/value', []],
      ['/log/entries/1/request/postData/text', []],
      ['/log/entries/1/response/content/text', ['base64']],
    ]);
  });

  it('keeps an unchanged base64 body byte for byte, and a HAR without findings identical', async () => {
    const dir = tempDir();
    const clean = structuredClone(har);
    clean.log.entries = [clean.log.entries[1]!];
    clean.log.entries[0]!.request.postData!.text = 'x=1';
    clean.log.entries[0]!.response.content.text = Buffer.from('{"ok":true}').toString('base64');
    const text = JSON.stringify(clean);
    writeFileSync(join(dir, 'clean.har'), text);
    const r = await scan({ inputs: [join(dir, 'clean.har')], outDir: join(dir, 'out') });
    expect(readFileSync(join(dir, 'out', 'clean.har'), 'utf8')).toBe(text);
    expect(r.findings).toHaveLength(0);
  });
});

describe('scan: HAR base64 bodies, redacted and not, in one batch', () => {
  it('re-encodes only the bodies that changed and keeps every other byte, escapes included', async () => {
    const dir = tempDir();
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    // Bodies whose base64 holds '/', written as the JSON escape \/ in the HAR.
    const clean = '{"note":"???~~~???"}';
    const secret = JSON.stringify({ access_token: T2, note: '???~~~' });
    expect(b64(clean)).toContain('/');
    expect(b64(secret)).toContain('/');
    const escaped = (t: string) => b64(t).replace(/\//g, '\\/');
    const content = (text: string) =>
      `{"size":1,"mimeType":"application/json","text":"${text}","encoding":"base64"}`;
    const entry = (url: string, text: string) =>
      `{"request":{"method":"GET","url":"${url}"},"response":{"status":200,"content":${content(text)}}}`;
    const entries = [
      entry(`https://a.example/?t=${T1}`, b64(secret)),
      entry('https://a.example/clean', escaped(clean)),
      entry('https://a.example/b', escaped(secret)),
      entry('https://a.example/c', b64(clean)),
    ];
    const text = `{"log":{"version":"1.2","entries":[\n${entries.join(',\n')}\n]}}\n`;
    writeFileSync(join(dir, 'mixed.har'), text);
    const r = await scan({ inputs: [join(dir, 'mixed.har')], outDir: join(dir, 'out') });
    const expected = `{"log":{"version":"1.2","entries":[\n${[
      entry(`https://a.example/?t=${placeholderFor(T1)}`, b64(redacted(secret))),
      entry('https://a.example/clean', escaped(clean)),
      entry('https://a.example/b', b64(redacted(secret))),
      entry('https://a.example/c', b64(clean)),
    ].join(',\n')}\n]}}\n`;
    expect(readFileSync(join(dir, 'out', 'mixed.har'), 'utf8')).toBe(expected);
    expect(r.tokens.map((f) => [f.source.pointer, f.token.encoding])).toEqual([
      ['/log/entries/0/request/url', []],
      ['/log/entries/0/response/content/text', ['base64']],
      ['/log/entries/2/response/content/text', ['base64']],
    ]);
  });
});

describe('scan: stdin and --out', () => {
  it('reads stdin and writes --out -', async () => {
    const text = `a ${T1}\nb\n`;
    const chunks: Buffer[] = [];
    const stdout = new Writable({
      write(c, _e, cb) {
        chunks.push(c);
        cb();
      },
    });
    const findings: Finding[] = [];
    const { runScan } = await import('../../../src/batch/index.ts');
    const report = await runScan(
      { inputs: ['-'], out: '-' },
      {
        engine: createEngineDouble(),
        findings: { write: (f) => void findings.push(f as Finding) },
        stderr: { write: () => true },
        isTTY: false,
        stdin: Readable.from([Buffer.from(text)]),
        stdout,
      },
    );
    expect(Buffer.concat(chunks).toString()).toBe(redacted(text));
    expect(findings.map((f) => [f.source.kind, f.source.name, f.source.line])).toEqual([['stdin', '-', 1]]);
    expect(report.inputs).toBe(1);
  });

  it('writes one input to --out', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'in.txt'), `x ${T1}\n`);
    await scan({ inputs: [join(dir, 'in.txt')], out: join(dir, 'redacted.txt') });
    expect(readFileSync(join(dir, 'redacted.txt'), 'utf8')).toBe(`x ${placeholderFor(T1)}\n`);
  });
});
