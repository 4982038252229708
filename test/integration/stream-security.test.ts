// SASL and TLS on a real broker: a private broker with a SASL_PLAINTEXT (PLAIN) listener and an SSL
// listener that requires client certificates. The processor connects through each with the options
// users set (password from the environment, PEM files, an encrypted client key), and a wrong
// password stops it at start. Certificates are made with openssl for this run only.
// SCRAM-SHA-256/512 use the same path in kafkajs; they are covered by the configuration tests only
// (creating SCRAM users needs Kafka's admin tools, which the broker helper does not ship).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startKafkaBroker } from '../../scripts/kafka/broker.ts';
import * as kit from './stream-kit.ts';

const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;
const KEY_PASSPHRASE = `kp-${Math.random().toString(36).slice(2)}`;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a broker certificate for 127.0.0.1 and a client certificate (key encrypted), all PEM. */
function makeCertificates(): { dir: string; ca: string; brokerKeystore: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-redactor-tls-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=jwt-redactor test CA',
    ],
    dir,
  );
  for (const name of ['broker', 'client']) {
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`], dir);
    openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    writeFileSync(
      join(dir, `${name}.ext`),
      name === 'broker' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' : 'extendedKeyUsage=clientAuth\n',
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    );
  }
  // Kafka's PEM keystore: the (PKCS#8) key followed by the certificate.
  const brokerKeystore = join(dir, 'broker-keystore.pem');
  writeFileSync(
    brokerKeystore,
    readFileSync(join(dir, 'broker.key'), 'utf8') + readFileSync(join(dir, 'broker.pem'), 'utf8'),
  );
  openssl(
    [
      'pkcs8',
      '-topk8',
      '-v2',
      'aes-256-cbc',
      '-in',
      'client.key',
      '-out',
      'client.enc.key',
      '-passout',
      `pass:${KEY_PASSPHRASE}`,
    ],
    dir,
  );
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    brokerKeystore,
    cert: join(dir, 'client.pem'),
    key: join(dir, 'client.enc.key'),
  };
}

describe('stream processor over SASL and TLS', () => {
  it('authenticates with SASL PLAIN and with a client certificate; refuses a wrong password', async () => {
    const tls = makeCertificates();
    const [port, controllerPort, saslPort, sslPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const broker = await startKafkaBroker({
      port,
      controllerPort,
      properties: {
        listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort},SASL_PLAINTEXT://127.0.0.1:${saslPort},SSL://127.0.0.1:${sslPort}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},SSL://127.0.0.1:${sslPort}`,
        'listener.security.protocol.map':
          'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required user_redactor="${PASSWORD}";`,
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': tls.brokerKeystore,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': tls.ca,
        'ssl.client.auth': 'required',
      },
    });
    try {
      const plain = broker.brokers;
      const key = kit.keyFile();
      const runs: [string, string, string[], NodeJS.ProcessEnv][] = [
        [
          'sasl-plain',
          `127.0.0.1:${saslPort}`,
          ['--sasl-mechanism', 'plain', '--sasl-username', 'redactor'],
          { JWT_REDACTOR_SASL_PASSWORD: PASSWORD },
        ],
        [
          'mtls',
          `127.0.0.1:${sslPort}`,
          ['--tls-ca-file', tls.ca, '--tls-cert-file', tls.cert, '--tls-key-file', tls.key],
          { JWT_REDACTOR_TLS_KEY_PASSWORD: KEY_PASSPHRASE },
        ],
      ];
      for (const [name, endpoint, extra, env] of runs) {
        const t = kit.topicNames(name);
        await kit.createStreamTopics(plain, t, 2, 1);
        const inputs: (kit.InputMessage & { key: string })[] = Array.from({ length: 200 }, (_, i) => ({
          key: `${name}-${i}`,
          value: `line ${i}`,
          partition: i % 2,
        }));
        await kit.produce(plain, t.input, inputs);
        const run = await kit.startInProcess(kit.processorArgs(endpoint, t, key, extra), env);
        try {
          await kit.waitForCommitted(plain, t.group, t.input, 60_000);
        } finally {
          await run.stop();
        }
        const report = kit.checkExactlyOnce(inputs, await kit.readAll(plain, t.output), []);
        expect(report.problems, name).toEqual([]);
        expect(report.redacted, name).toBe(inputs.length);
        // Neither the password nor the key passphrase reaches the logs.
        const logs = run.logs.join('');
        expect(logs).not.toContain(PASSWORD);
        expect(logs).not.toContain(KEY_PASSPHRASE);
      }

      const t = kit.topicNames('sasl-wrong');
      await kit.createStreamTopics(plain, t, 1, 1);
      const wrong = kit.startInProcess(
        kit.processorArgs(`127.0.0.1:${saslPort}`, t, key, [
          '--sasl-mechanism',
          'plain',
          '--sasl-username',
          'redactor',
        ]),
        {
          JWT_REDACTOR_SASL_PASSWORD: 'not-the-password',
        },
      );
      await expect(wrong).rejects.toThrow(/SASL|[Aa]uthentication/);
    } finally {
      await broker.stop();
      rmSync(tls.dir, { recursive: true, force: true });
    }
  });
});
