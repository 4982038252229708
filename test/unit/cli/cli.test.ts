import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp.ts';
import { humanClaims, jweRsaOaep, jwsRS256, k8sClaims, unsecured } from '../../helpers/tokens.ts';

const BIN = fileURLToPath(new URL('../../../bin/jwt-redactor.js', import.meta.url));
const KEY_HEX = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

function cli(args: string[], input = '', env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', JWT_REDACTOR_KEY: KEY_HEX, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let k8s: string;
let human: string;
let dir: string;

beforeAll(async () => {
  k8s = await jwsRS256(k8sClaims());
  human = await jwsRS256(humanClaims());
  dir = tempDir('jwtr-cli-');
});

describe('the executable', () => {
  it('starts node with a bounded young generation and malloc giving large buffers back, and runs as it is, through its first line', () => {
    // Scan memory: without the flag, a 2-thread scan of a 3 GiB JSONL file peaked at 337-361 MB;
    // without the setting, one of six 315 MB HAR files at 261-265 MB (bin/jwt-redactor.js says why).
    // Run directly, not through `node`, so that the line is read.
    expect(readFileSync(BIN, 'utf8').split('\n', 1)[0]).toBe(
      '#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 node --max-semi-space-size=16',
    );
    const r = spawnSync(BIN, ['--version'], {
      encoding: 'utf8',
      env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^jwt-redactor \d+\.\d+\.\d+/);
  });
});

describe('filter', () => {
  it('redacts stdin line by line, findings to a file, exit 0', () => {
    const findings = join(dir, 'f.jsonl');
    const input = `line one\nAuthorization: Bearer ${k8s}\nno token\n{"u":"${human}"}\n`;
    const r = cli(['filter', '--findings', findings], input);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('line one');
    expect(lines[2]).toBe('no token');
    expect(r.stdout).not.toContain(k8s);
    expect(r.stdout).not.toContain(k8s.split('.')[2]!);
    const fs = readFileSync(findings, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(fs.map((f) => [f.source.line, f.classification.identity])).toEqual([
      [2, 'k8s-service-account'],
      [4, 'human'],
    ]);
    expect(readFileSync(findings, 'utf8')).not.toContain('alice.liddell@example.com');
  });

  it('--fail-on gates with exit 1; findings in sarif to stdout are one document', () => {
    const r = cli(
      ['filter', '--fail-on', 'critical', '--findings', join(dir, 's.sarif'), '--format', 'sarif'],
      `${unsecured({ sub: 'x' })}\n`,
    );
    expect(r.code).toBe(1);
    const sarif = JSON.parse(readFileSync(join(dir, 's.sarif'), 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results).toHaveLength(1);
  });

  it('warns and uses a random key when none is configured', () => {
    const r = cli(['filter'], `${k8s}\n`, { JWT_REDACTOR_KEY: '' });
    expect(r.code).toBe(2);
    const r2 = spawnSync(process.execPath, [BIN, 'filter'], {
      input: `${k8s}\n`,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(r2.status).toBe(0);
    expect(r2.stderr).toContain('random key');
    expect(r2.stdout).toContain('JWTR~sanitized~run~');
  });
});

describe('inspect', () => {
  it('shows identity, status and hashed sensitive claims, never the signature', () => {
    const r = cli(['inspect', k8s]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('k8s-service-account');
    expect(r.stdout).toContain('LIVE until');
    expect(r.stdout).not.toContain(k8s.split('.')[2]!);
    expect(r.stdout).not.toContain('system:serviceaccount:payments:api-worker');
  });

  it('reads stdin with -, JSON output, JWE classified from its header', async () => {
    const jwe = await jweRsaOaep('{"sub":"x"}');
    const r = cli(['inspect', '-', '--json'], jwe);
    expect(r.code).toBe(0);
    const f = JSON.parse(r.stdout.trim());
    expect([f.token.kind, f.header.alg, f.header.enc]).toEqual(['jwe', 'RSA-OAEP-256', 'A256GCM']);
    expect(r.stdout).not.toContain(jwe.split('.')[3]!);
  });

  it('exit 1 when no token is in the input', () => {
    expect(cli(['inspect', 'hello']).code).toBe(1);
  });
});

describe('usage and configuration errors exit 2 with one line naming the field', () => {
  it('unknown command, unknown flag, bad choice', () => {
    expect(cli(['nope']).code).toBe(2);
    const r = cli(['filter', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const f = cli(['filter', '--format', 'xml']);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('format');
  });

  it('a bad policy file names file, line and field', () => {
    const p = join(dir, 'bad.yaml');
    writeFileSync(p, 'version: 1\nextends: default\nrules:\n  - id: x\n    action: explode\n');
    const r = cli(['filter', '--policy', p], '');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${p.replaceAll('/', '\\/')}:5`));
    expect(r.stderr).toContain('action');
  });

  it('options come from the config file and JWT_REDACTOR_* variables; flags win', () => {
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, 'policy: [strict]\nformat: ecs\n');
    const findings = join(dir, 'ecs.jsonl');
    const r = cli(['filter', '--config', cfg, '--findings', findings], `${human}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^JWTR~jws~mask~k1~/);
    expect(JSON.parse(readFileSync(findings, 'utf8').split('\n')[0]!)['event']['kind']).toBe('alert');
    const env = cli(['filter', '--config', cfg], `${human}\n`, { JWT_REDACTOR_POLICY: 'default' });
    expect(env.stdout).toContain('JWTR~sanitized~k1~');
    const bad = join(dir, 'cfg2.yaml');
    writeFileSync(bad, 'policy: [strict]\nformatt: ecs\n');
    const e = cli(['filter', '--config', bad], '');
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(`${bad}:2`);
  });

  it('the key is never taken from a flag', () => {
    expect(cli(['filter', '--key', KEY_HEX]).code).toBe(2);
  });
});

describe('scan (the "done when" of the batch issue, through the command line)', () => {
  it('a folder with a HAR, a .tar.gz bundle and a JSON export: copies parse, differ only at tokens, re-scan finds nothing', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdirSync, readdirSync } = await import('node:fs');
    const root = tempDir('jwtr-scan-');
    const bundle = join(root, 'bundle');
    mkdirSync(join(bundle, 'logs'), { recursive: true });
    const har = {
      log: {
        version: '1.2',
        creator: { name: 't', version: '1' },
        entries: [
          {
            request: {
              method: 'GET',
              url: `https://app/cb?id_token=${human}`,
              headers: [{ name: 'Authorization', value: `Bearer ${k8s}` }],
            },
            response: {
              status: 200,
              content: {
                mimeType: 'application/json',
                encoding: 'base64',
                text: Buffer.from(JSON.stringify({ access_token: human })).toString('base64'),
              },
            },
          },
        ],
      },
    };
    writeFileSync(join(bundle, 'session.har'), JSON.stringify(har, null, 2));
    writeFileSync(join(bundle, 'logs', 'app.log'), `start\nAuthorization: Bearer ${k8s}\nend\n`);
    execFileSync('tar', ['czf', join(bundle, 'logs.tar.gz'), '-C', bundle, 'logs']);
    execFileSync('rm', ['-r', join(bundle, 'logs')]);
    writeFileSync(
      join(bundle, 'export.json'),
      JSON.stringify(
        { users: Array.from({ length: 200 }, (_, i) => ({ i, token: i % 50 === 0 ? human : 'none' })) },
        null,
        1,
      ),
    );
    const out = join(root, 'out');
    const findings = join(root, 'findings.jsonl');
    const r = cli([
      'scan',
      bundle,
      '--out-dir',
      out,
      '--findings',
      findings,
      '--no-progress',
      '--fail-on',
      'high',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('live tokens');
    const copy = join(out, 'bundle');
    expect(readdirSync(copy).sort()).toEqual(['export.json', 'logs.tar.gz', 'session.har']);
    const harOut = JSON.parse(readFileSync(join(copy, 'session.har'), 'utf8'));
    expect(harOut.log.entries[0].request.headers[0].name).toBe('Authorization');
    const body = Buffer.from(harOut.log.entries[0].response.content.text, 'base64').toString('utf8');
    expect(JSON.parse(body).access_token).toMatch(/^eyJ.*\.JWTR~sanitized~k1~/);
    const exp = JSON.parse(readFileSync(join(copy, 'export.json'), 'utf8'));
    expect(exp.users).toHaveLength(200);
    expect(exp.users[1]).toEqual({ i: 1, token: 'none' });
    const all =
      ['session.har', 'export.json'].map((f) => readFileSync(join(copy, f), 'utf8')).join('') +
      readFileSync(findings, 'utf8');
    for (const t of [k8s, human]) expect(all).not.toContain(t.split('.')[2]!);
    const fs = readFileSync(findings, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(fs.some((f) => f.source.member?.includes('app.log') && f.source.line === 2)).toBe(true);
    expect(fs.some((f) => f.source.pointer === '/log/entries/0/request/headers/0/value')).toBe(true);
    const again = cli([
      'scan',
      copy,
      '--findings',
      join(root, 'again.jsonl'),
      '--no-progress',
      '--fail-on',
      'info',
    ]);
    expect(again.code).toBe(0);
    expect(readFileSync(join(root, 'again.jsonl'), 'utf8')).toBe('');
  });
});
