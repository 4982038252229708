// `jwt-redactor stream` configuration: flags, JWT_REDACTOR_* variables and the --config file, each
// error naming its field (exit 2), and no start without a fingerprint key.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import '../../../src/cli/commands.ts';
import { resolveOptions } from '../../../src/cli/options.ts';
import { STREAM_OPTIONS, streamConfig } from '../../../src/stream/config.ts';
import { ConfigError } from '../../../src/util/errors.ts';
import { tempDir } from '../../helpers/temp.ts';

const KEY = 'a'.repeat(64);
const dir = tempDir('stream-config-');

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const BASE = [
  '--brokers',
  'k1:9092,k2:9093',
  '--input-topics',
  'logs',
  '--output-topic',
  'logs-redacted',
  '--findings-topic',
  'findings',
  '--quarantine-topic',
  'quarantine',
];

function config(args: string[], env: NodeJS.ProcessEnv = { JWT_REDACTOR_KEY: KEY }) {
  return streamConfig(resolveOptions(STREAM_OPTIONS, args, env).values);
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.field;
    throw err;
  }
  return undefined;
}

describe('stream configuration', () => {
  it('takes the flags and defaults', () => {
    const c = config(BASE);
    expect(c.connection.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(c.groupId).toBe('jwt-redactor');
    expect(c.inputTopics).toEqual(['logs']);
    expect(c.delivery).toBe('exactly-once');
    expect(c.fromBeginning).toBe(true);
    expect(c.findingsFormat).toBe('native');
    expect(c.http).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(c.engine.keyId).toBe('k1');
    expect(c.engine.ephemeralKey).toBe(false);
    expect(c.connection.sasl).toBeUndefined();
    expect(c.connection.tls).toBeUndefined();
  });

  it('reads JWT_REDACTOR_* variables and a config file; flags win over both', () => {
    const yaml = file(
      'stream.yaml',
      [
        'brokers: [a:1, b:2]',
        'group: from-file',
        'input_topics: ["/logs-.*/", audit]',
        'output-topic: out',
        'findings-topic: f',
        'quarantine-topic: q',
        'delivery: at-least-once',
        'http-port: 8080',
      ].join('\n'),
    );
    const c = config(['--config', yaml, '--group', 'from-flag'], {
      JWT_REDACTOR_KEY: KEY,
      JWT_REDACTOR_HTTP_PORT: '9000',
      JWT_REDACTOR_FINDINGS_FORMAT: 'ocsf',
    });
    expect(c.connection.brokers).toEqual(['a:1', 'b:2']);
    expect(c.groupId).toBe('from-flag');
    expect(c.delivery).toBe('at-least-once');
    expect(c.http.port).toBe(9000);
    expect(c.findingsFormat).toBe('ocsf');
    expect(c.inputTopics[1]).toBe('audit');
    const pattern = c.inputTopics[0] as RegExp;
    expect(pattern.test('logs-app')).toBe(true);
    expect(pattern.test('xlogs-app')).toBe(false);
  });

  it('names the field of each mistake', () => {
    const without = (flag: string) => {
      const i = BASE.indexOf(flag);
      return [...BASE.slice(0, i), ...BASE.slice(i + 2)];
    };
    expect(fieldOf(() => config(without('--brokers')))).toBe('brokers');
    expect(fieldOf(() => config(without('--input-topics')))).toBe('input-topics');
    expect(fieldOf(() => config(without('--output-topic')))).toBe('output-topic');
    expect(fieldOf(() => config(without('--findings-topic')))).toBe('findings-topic');
    expect(fieldOf(() => config(without('--quarantine-topic')))).toBe('quarantine-topic');
    expect(fieldOf(() => config([...BASE, '--brokers', 'nohost']))).toBe('brokers');
    expect(fieldOf(() => config([...BASE, '--brokers', 'h:99999']))).toBe('brokers');
    expect(fieldOf(() => config([...BASE, '--output-topic', 'logs']))).toBe('output-topic');
    expect(fieldOf(() => config([...BASE, '--input-topics', '/logs.*/', '--output-topic', 'logs-out']))).toBe(
      'output-topic',
    );
    expect(fieldOf(() => config([...BASE, '--quarantine-topic', 'findings']))).toBe('quarantine-topic');
    expect(fieldOf(() => config([...BASE, '--input-topics', 'bad topic']))).toBe('input-topics');
    expect(fieldOf(() => config([...BASE, '--input-topics', '/([/']))).toBe('input-topics');
    expect(fieldOf(() => config([...BASE, '--heartbeat-interval-ms', '30000']))).toBe(
      'heartbeat-interval-ms',
    );
    expect(fieldOf(() => config([...BASE, '--http-port', '70000']))).toBe('http-port');
    expect(fieldOf(() => config([...BASE, '--max-bytes', '2048', '--max-bytes-per-partition', '4096']))).toBe(
      'max-bytes',
    );
    expect(fieldOf(() => config([...BASE, '--delivery', 'maybe']))).toBe('delivery');
    expect(fieldOf(() => config([...BASE, '--group', 'no/slash']))).toBe('group');
  });

  it('refuses to start without a fingerprint key', () => {
    expect(fieldOf(() => config(BASE, {}))).toBe('key-file');
    expect(config([...BASE, '--key-file', file('key', KEY)], {}).engine.key).toHaveLength(32);
  });

  it('SASL: mechanism, user and a password from the environment or a file, never a flag', () => {
    const env = { JWT_REDACTOR_KEY: KEY, JWT_REDACTOR_SASL_PASSWORD: 'pw-from-env' };
    const c = config([...BASE, '--sasl-mechanism', 'scram-sha-512', '--sasl-username', 'svc'], env);
    expect(c.connection.sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'svc',
      password: 'pw-from-env',
    });
    const f = config([
      ...BASE,
      '--sasl-mechanism',
      'plain',
      '--sasl-username',
      'svc',
      '--sasl-password-file',
      file('pw', 'pw-from-file\n'),
    ]);
    expect(f.connection.sasl?.password).toBe('pw-from-file');
    expect(() => resolveOptions(STREAM_OPTIONS, [...BASE, '--sasl-password', 'x'], {})).toThrow(ConfigError);
    expect(fieldOf(() => config([...BASE, '--sasl-mechanism', 'plain', '--sasl-username', 'svc']))).toBe(
      'sasl-password',
    );
    expect(fieldOf(() => config([...BASE, '--sasl-mechanism', 'plain'], env))).toBe('sasl-username');
    expect(fieldOf(() => config([...BASE, '--sasl-username', 'svc']))).toBe('sasl-mechanism');
    expect(fieldOf(() => config([...BASE, '--sasl-mechanism', 'gssapi']))).toBe('sasl-mechanism');
  });

  it('TLS: CA and client certificate files (PEM), checked at start', () => {
    const pem = (what: string) =>
      file(`${what}.pem`, `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`);
    const c = config([
      ...BASE,
      '--tls-ca-file',
      pem('CERTIFICATE'),
      '--tls-cert-file',
      pem('CERTIFICATE'),
      '--tls-key-file',
      pem('PRIVATE KEY'),
    ]);
    expect(c.connection.tls).toMatchObject({
      ca: expect.stringContaining('BEGIN'),
      cert: expect.any(String),
      key: expect.any(String),
    });
    expect(config([...BASE, '--tls']).connection.tls).toBe(true);
    expect(fieldOf(() => config([...BASE, '--tls-cert-file', pem('CERTIFICATE')]))).toBe('tls-key-file');
    expect(fieldOf(() => config([...BASE, '--tls-ca-file', join(dir, 'missing.pem')]))).toBe('tls-ca-file');
    expect(fieldOf(() => config([...BASE, '--tls-ca-file', file('not-pem', 'hello')]))).toBe('tls-ca-file');
  });

  it('exits 2 with a one-line reason naming the field, before touching Kafka', async () => {
    const run = async (args: string[], env: NodeJS.ProcessEnv) => {
      const stderr = new PassThrough();
      const chunks: Buffer[] = [];
      stderr.on('data', (c: Buffer) => chunks.push(c));
      const code = await main(['stream', ...args], {
        stdin: new PassThrough(),
        stdout: new PassThrough(),
        stderr,
        env,
        isTTY: false,
      });
      return { code, stderr: Buffer.concat(chunks).toString() };
    };
    const noKey = await run(BASE, {});
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^jwt-redactor stream: field key-file: no fingerprint key/);
    expect(noKey.stderr.trim().split('\n')).toHaveLength(1);
    const badFile = await run(['--config', file('bad.yaml', 'brokers: [a:1]\nbogus: 1\n')], {
      JWT_REDACTOR_KEY: KEY,
    });
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toContain('bad.yaml:2');
    expect(badFile.stderr).toContain('bogus');
  });
});
