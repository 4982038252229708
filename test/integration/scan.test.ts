// The scan "done" test, with the real engine: a support folder holding a HAR, a .tar.gz log bundle
// and a large JSON export is scanned into --out-dir. The redacted copies parse, keep their kind and
// shape and differ from the inputs only where tokens were; findings are readable native JSON lines
// that name file, member, line and pointer; the summary lists live tokens; nothing replayable (token,
// signature) is left anywhere; and a re-scan of the output finds no exposure and changes nothing.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScan, type ScanReport } from '../../src/batch/index.ts';
import { createFindingWriter } from '../../src/findings/index.ts';
import type { AnyFinding } from '../../src/model.ts';
import { engineFromConfig } from '../../src/pipeline/index.ts';
import { makeTar, readTarBuffer } from '../unit/batch/archive-fixtures.ts';

let dir = '';
const tokens: Record<string, string> = {};

async function sign(
  claims: Record<string, unknown>,
  alg: 'HS256' | 'RS256' | 'ES256',
  exp: string | number,
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT', kid: `k-${alg}` })
    .setIssuedAt()
    .setExpirationTime(exp);
  if (alg === 'HS256') return jwt.sign(randomBytes(32));
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return jwt.sign(privateKey);
}

const signatureOf = (t: string) => t.split('.')[2]!;

interface Outcome {
  report: ScanReport;
  findings: AnyFinding[];
  findingsText: string;
  stderr: string;
}

async function scanFolder(input: string, outDir: string): Promise<Outcome> {
  const engine = await engineFromConfig({
    policies: ['default'],
    ruleFiles: [],
    key: randomBytes(32),
    keyId: 'it',
    ephemeralKey: false,
  });
  let findingsText = '';
  const writer = createFindingWriter('native', {
    write: (s: string) => {
      findingsText += s;
    },
  });
  const findings: AnyFinding[] = [];
  let stderr = '';
  const report = await runScan(
    { inputs: [input], outDir },
    {
      engine,
      findings: {
        write: (f) => {
          findings.push(f);
          writer.write(f);
        },
      },
      stderr: { write: (s: string) => (stderr += s) },
      isTTY: false,
    },
  );
  await writer.end();
  return { report, findings, findingsText, stderr };
}

/** `output` is `input` with each occurrence of a token replaced by a placeholder-alphabet string. */
function expectDiffOnlyAtTokens(input: string, output: string, secrets: string[]): void {
  const pattern = secrets
    .filter((t) => input.includes(t))
    .sort((a, b) => b.length - a.length)
    .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (pattern.length === 0) {
    expect(output).toBe(input);
    return;
  }
  const parts = input.split(new RegExp(`(${pattern.join('|')})`));
  // Walk the kept parts in order: each must follow the previous replacement directly.
  let at = 0;
  for (let i = 0; i < parts.length; i += 2) {
    const kept = parts[i]!;
    if (i === 0) {
      expect(output.slice(0, kept.length)).toBe(kept);
      at = kept.length;
      continue;
    }
    const next = kept.length > 0 ? output.indexOf(kept, at) : i === parts.length - 1 ? output.length : at;
    const replacement = output.slice(at, next);
    expect(replacement, `replacement before ${JSON.stringify(kept.slice(0, 40))}`).toMatch(
      /^[A-Za-z0-9_~.-]+$/,
    );
    at = next + kept.length;
  }
  expect(at).toBe(output.length);
  for (const t of secrets) {
    expect(output).not.toContain(t);
    expect(output).not.toContain(signatureOf(t));
  }
}

function shapeOf(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shapeOf);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shapeOf(x)]));
  return typeof v;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jr-scan-it-'));
  const hour = Math.floor(Date.now() / 1000) + 3600;
  tokens.k8s = await sign(
    {
      iss: 'https://kubernetes.default.svc.cluster.local',
      sub: 'system:serviceaccount:ci:deployer',
      aud: ['https://kubernetes.default.svc'],
      'kubernetes.io': { namespace: 'ci' },
    },
    'RS256',
    hour,
  );
  tokens.gha = await sign(
    {
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:acme/app:ref:refs/heads/main',
      repository: 'acme/app',
      aud: 'sts.amazonaws.com',
    },
    'RS256',
    hour,
  );
  tokens.user = await sign(
    { iss: 'https://login.example.com', sub: 'u-123', email: 'jane@example.com', name: 'Jane Doe' },
    'ES256',
    hour,
  );
  tokens.idToken = await sign(
    { iss: 'https://login.example.com', sub: 'u-456', aud: 'web', nonce: 'n-1', email: 'bob@example.com' },
    'RS256',
    hour,
  );
  tokens.expired = await sign(
    { iss: 'https://login.example.com', sub: 'u-789' },
    'HS256',
    Math.floor(Date.now() / 1000) - 86_400,
  );
  tokens.exportTok = await sign(
    { iss: 'https://login.example.com', sub: 'u-999', scope: 'admin' },
    'RS256',
    hour,
  );

  const support = join(dir, 'support');
  mkdirSync(support);
  const body = JSON.stringify({
    access_token: tokens.user,
    id_token: tokens.idToken,
    token_type: 'Bearer',
    expires_in: 3600,
  });
  const har = {
    log: {
      version: '1.2',
      creator: { name: 'WebInspector', version: '537.36' },
      pages: [],
      entries: [
        {
          startedDateTime: '2024-05-01T10:00:00.000Z',
          time: 12.5,
          request: {
            method: 'POST',
            url: 'https://login.example.com/oauth/token',
            httpVersion: 'HTTP/1.1',
            headers: [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }],
            queryString: [],
            cookies: [],
            postData: {
              mimeType: 'application/x-www-form-urlencoded',
              text: 'grant_type=authorization_code&code=abc',
            },
            headersSize: -1,
            bodySize: 38,
          },
          response: {
            status: 200,
            statusText: 'OK',
            httpVersion: 'HTTP/1.1',
            headers: [{ name: 'Content-Type', value: 'application/json' }],
            cookies: [],
            content: {
              size: body.length,
              mimeType: 'application/json',
              text: Buffer.from(body).toString('base64'),
              encoding: 'base64',
            },
            redirectURL: '',
            headersSize: -1,
            bodySize: body.length,
          },
          cache: {},
          timings: { send: 1, wait: 10, receive: 1.5 },
        },
        {
          startedDateTime: '2024-05-01T10:00:01.000Z',
          time: 8,
          request: {
            method: 'GET',
            url: `https://api.example.com/v1/me?access_token=${tokens.user}`,
            httpVersion: 'HTTP/1.1',
            headers: [{ name: 'Authorization', value: `Bearer ${tokens.user}` }],
            queryString: [{ name: 'access_token', value: tokens.user }],
            cookies: [{ name: 'id_token', value: tokens.idToken }],
            headersSize: -1,
            bodySize: 0,
          },
          response: {
            status: 200,
            statusText: 'OK',
            httpVersion: 'HTTP/1.1',
            headers: [],
            cookies: [],
            content: { size: 13, mimeType: 'application/json', text: '{"id":"u-123"}' },
            redirectURL: '',
            headersSize: -1,
            bodySize: 13,
          },
          cache: {},
          timings: { send: 1, wait: 6, receive: 1 },
        },
      ],
    },
  };
  writeFileSync(join(support, 'session.har'), JSON.stringify(har, null, 2));

  const appLog = [
    '2024-05-01T10:00:00Z INFO starting deployer',
    `2024-05-01T10:00:01Z DEBUG kube client token=${tokens.k8s}`,
    '2024-05-01T10:00:02Z INFO rollout complete',
    `2024-05-01T10:00:03Z WARN retrying with Authorization: Bearer ${tokens.expired}`,
  ].join('\n');
  const events = [
    JSON.stringify({ ts: 1, msg: 'oidc exchange', token: tokens.gha }),
    JSON.stringify({ ts: 2, msg: 'ok' }),
    'not json at all',
  ].join('\n');
  const bundle = gzipSync(
    await makeTar([
      { name: 'app/', type: 'directory' },
      { name: 'app/app.log', body: `${appLog}\n` },
      { name: 'app/events.jsonl', body: `${events}\n` },
      { name: 'app/rotated.log.gz', body: gzipSync(`old line ${tokens.k8s}\n`) },
      { name: 'app/clean.log', body: 'nothing to see\n' },
    ]),
  );
  writeFileSync(join(support, 'logs.tar.gz'), bundle);

  const records = Array.from({ length: 40_000 }, (_, i) => ({
    id: i,
    user: `user-${i}`,
    note: 'lorem ipsum dolor sit amet, consectetur adipiscing elit',
    ...(i % 10_000 === 1234 ? { session: { token: tokens.exportTok, issued: '2024-05-01' } } : {}),
  }));
  writeFileSync(
    join(support, 'export.json'),
    JSON.stringify({ exported: '2024-05-01', count: records.length, records }, null, 2),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scan a support folder (HAR, .tar.gz bundle, large JSON export)', () => {
  let first: Outcome;

  it('writes redacted copies that parse, keep their shape and differ only at tokens', async () => {
    first = await scanFolder(join(dir, 'support'), join(dir, 'redacted'));
    expect(first.report.failed).toBe(false);
    expect(readdirSync(join(dir, 'redacted', 'support')).sort()).toEqual([
      'export.json',
      'logs.tar.gz',
      'session.har',
    ]);
    const secrets = Object.values(tokens);

    const harIn = readFileSync(join(dir, 'support', 'session.har'), 'utf8');
    const harOut = readFileSync(join(dir, 'redacted', 'support', 'session.har'), 'utf8');
    const harInDoc = JSON.parse(harIn);
    const harOutDoc = JSON.parse(harOut);
    expect(shapeOf(harOutDoc)).toEqual(shapeOf(harInDoc));
    // The base64 body was decoded, redacted and re-encoded: compare it decoded.
    const bodyIn = Buffer.from(harInDoc.log.entries[0].response.content.text, 'base64').toString();
    const bodyOut = Buffer.from(harOutDoc.log.entries[0].response.content.text, 'base64').toString();
    expectDiffOnlyAtTokens(bodyIn, bodyOut, secrets);
    expect(JSON.parse(bodyOut).token_type).toBe('Bearer');
    const bodyAt = (s: string, doc: { log: { entries: { response: { content: { text: string } } }[] } }) =>
      s.replace(doc.log.entries[0]!.response.content.text, 'BODY');
    expectDiffOnlyAtTokens(bodyAt(harIn, harInDoc), bodyAt(harOut, harOutDoc), secrets);

    const tarIn = await readTarBuffer(gunzipSync(readFileSync(join(dir, 'support', 'logs.tar.gz'))));
    const tarOut = await readTarBuffer(
      gunzipSync(readFileSync(join(dir, 'redacted', 'support', 'logs.tar.gz'))),
    );
    expect(tarOut.map((m) => [m.name, m.type])).toEqual(tarIn.map((m) => [m.name, m.type]));
    for (const [i, m] of tarIn.entries()) {
      const unzip = (b: Buffer) => (m.name.endsWith('.gz') ? gunzipSync(b) : b).toString();
      expectDiffOnlyAtTokens(unzip(m.body), unzip(tarOut[i]!.body), secrets);
    }

    const exportIn = readFileSync(join(dir, 'support', 'export.json'), 'utf8');
    const exportOut = readFileSync(join(dir, 'redacted', 'support', 'export.json'), 'utf8');
    expect(exportIn.length).toBeGreaterThan(4 * 1024 * 1024);
    expect(shapeOf(JSON.parse(exportOut))).toEqual(shapeOf(JSON.parse(exportIn)));
    expectDiffOnlyAtTokens(exportIn, exportOut, secrets);
  });

  it('reports readable findings that say where each token was', () => {
    const lines = first.findingsText.trim().split('\n');
    expect(lines.length).toBe(first.findings.length);
    const parsed = lines.map(
      (l) =>
        JSON.parse(l) as { schema: string; source: Record<string, unknown>; token?: { encoding: string[] } },
    );
    expect(parsed.every((f) => f.schema === 'jwt-redactor/finding@1')).toBe(true);
    const at = (suffix: string) =>
      parsed.filter((f) => String(f.source.name).endsWith(suffix)).map((f) => f.source);
    expect(at('session.har').map((s) => s.pointer)).toEqual(
      expect.arrayContaining([
        '/log/entries/0/response/content/text',
        '/log/entries/1/request/url',
        '/log/entries/1/request/headers/0/value',
        '/log/entries/1/request/queryString/0/value',
        '/log/entries/1/request/cookies/0/value',
      ]),
    );
    expect(at('logs.tar.gz').map((s) => [s.member, s.line, s.pointer ?? null])).toEqual(
      expect.arrayContaining([
        ['app/app.log', 2, null],
        ['app/app.log', 4, null],
        ['app/events.jsonl', 1, '/token'],
        ['app/rotated.log.gz', 1, null],
      ]),
    );
    expect(at('export.json').map((s) => s.pointer)).toEqual(
      expect.arrayContaining(['/records/1234/session/token', '/records/11234/session/token']),
    );
    expect(parsed.some((f) => f.token?.encoding[0] === 'base64')).toBe(true);
    for (const t of Object.values(tokens)) {
      expect(first.findingsText).not.toContain(t);
      expect(first.findingsText).not.toContain(signatureOf(t));
    }
  });

  it('prints a summary with counts and live tokens first', () => {
    expect(first.stderr).toMatch(/^jwt-redactor scan: 3 inputs, 6 files scanned \(3 archive layers opened\)/);
    expect(first.stderr).toMatch(/live tokens:/);
    expect(first.stderr).toMatch(/k8s|kubernetes/);
    expect(first.stderr).toContain(`redacted copies: ${join(dir, 'redacted')}`);
    for (const t of Object.values(tokens)) expect(first.stderr).not.toContain(signatureOf(t));
    expect(first.report.findings.liveTokens).toBeGreaterThanOrEqual(5);
    expect(first.report.maxSeverity).toBeDefined();
  });

  it('finds no exposure when the output is scanned again, and changes nothing', async () => {
    const again = await scanFolder(join(dir, 'redacted', 'support'), join(dir, 'again'));
    expect(again.report.failed).toBe(false);
    expect(again.findings.filter((f) => 'token' in f)).toEqual([]);
    for (const name of ['session.har', 'logs.tar.gz', 'export.json']) {
      const a = readFileSync(join(dir, 'redacted', 'support', name));
      const b = readFileSync(join(dir, 'again', 'support', name));
      expect(b.equals(a)).toBe(true);
    }
  });
});
