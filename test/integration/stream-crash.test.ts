// Crash safety: the processor runs as `node bin/jwt-redactor.js stream` and is killed with SIGKILL
// three times at random points while input keeps arriving, then restarted. A read_committed reader
// must see exactly one output per input offset, in order, and no raw token anywhere.
import { afterEach, describe, expect, inject, it } from 'vitest';
import * as kit from './stream-kit.ts';
import { makeTokens, mixedInputs, SMALL_BATCH_ARGS } from './stream-tokens.ts';

const RECORDS = 8_000;
const PARTITIONS = 4;
const KILLS = 3;

describe('stream processor crash safety', () => {
  const brokers = inject('kafkaBrokers');
  afterEach(kit.killChildren);

  it('SIGKILLed three times mid-run: read_committed readers see exactly one output per input', async () => {
    const seed = Number(process.env['STREAM_TEST_SEED'] ?? Date.now() % 100_000);
    let state = seed;
    const random = (): number => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const tokens = await makeTokens();
    const t = kit.topicNames('crash');
    await kit.createStreamTopics(brokers, t, PARTITIONS, 2);
    const inputs = mixedInputs(tokens, RECORDS, PARTITIONS, 'crash');
    const key = kit.keyFile();
    // Small fetches: many short transactions, so a kill lands inside one more often than not.
    const args = kit.processorArgs(brokers, t, key, SMALL_BATCH_ARGS);

    // All input up front, in tiny record batches: with small fetches the processor works through
    // thousands of short transactions, so a kill at a random moment usually lands inside one.
    await kit.produce(brokers, t.input, inputs, { perRequest: PARTITIONS });

    const stderr: string[] = [];
    const kills: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const member = kit.spawnProcessor(args);
      await Promise.race([
        member.joined,
        member.exited.then(() =>
          Promise.reject(new Error(`member exited early:\n${member.stderr.join('')}`)),
        ),
      ]);
      const before = await kit.committedCount(brokers, t);
      // Random point: once this member has committed something, after a random further delay.
      await kit
        .waitFor(
          'the member to make progress',
          async () => (await kit.committedCount(brokers, t)) > before,
          60_000,
          50,
        )
        .catch((error: Error) => {
          throw new Error(`${error.message}\n${member.stderr.join('').slice(-3000)}`);
        });
      await kit.sleep(Math.floor(random() * 2_000));
      const at = await kit.committedCount(brokers, t);
      member.child.kill('SIGKILL');
      const exit = await member.exited;
      expect(exit.signal).toBe('SIGKILL');
      kills.push(`kill ${k + 1} at ~${at} committed`);
      stderr.push(...member.stderr);
    }

    const last = kit.spawnProcessor(args);
    try {
      await kit.waitForCommitted(brokers, t.group, t.input, 180_000);
    } finally {
      last.child.kill('SIGTERM');
    }
    const exit = await last.exited;
    stderr.push(...last.stderr);
    expect(exit.code, `last member exit (stderr tail: ${last.stderr.join('').slice(-2000)})`).toBe(0);

    const [o, uncommitted] = await Promise.all([
      kit.readRunOutput(brokers, t),
      kit.readAll(brokers, t.output, { readUncommitted: true }),
    ]);
    expect(inputs).toHaveLength(RECORDS);
    const report = kit.expectExactlyOnce(inputs, o);
    expect(report.quarantined).toBe(Math.floor(RECORDS / 97));
    // The read_uncommitted view holds the committed output and that of aborted transactions.
    kit.expectNoLeaks(
      [...kit.runTexts({ ...o, out: uncommitted }), { where: 'stderr', text: stderr.join('') }],
      tokens.secrets,
    );
    console.info(
      `[stream-crash] seed ${seed}; ${RECORDS} records; ${kills.join(', ')}; ${report.redacted} redacted + ${report.quarantined} quarantined; ` +
        `a read_uncommitted reader sees ${uncommitted.length} redacted records (${uncommitted.length - o.out.length} from aborted transactions)`,
    );
  });
});
