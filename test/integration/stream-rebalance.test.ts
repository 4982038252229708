// Scaling out and in: a second member joins the group mid-run and takes over partitions, then the
// first member leaves (SIGTERM: finishes its batch, leaves the group, exits 0). A read_committed
// reader sees exactly one output per input, in order, and no raw token.
import { afterEach, describe, expect, inject, it } from 'vitest';
import * as kit from './stream-kit.ts';
import { makeTokens, mixedInputs, SMALL_BATCH_ARGS } from './stream-tokens.ts';

const RECORDS = 8_000;
const PARTITIONS = 6;

function httpPort(stderr: readonly string[]): number {
  const line = stderr
    .join('')
    .split('\n')
    .find((l) => l.includes('"msg":"http endpoints listening'));
  return (JSON.parse(line!) as { port: number }).port;
}

function assignments(stderr: readonly string[]): string[] {
  return stderr
    .join('')
    .split('\n')
    .filter((l) => l.includes('"msg":"joined the group"'))
    .map((l) => (JSON.parse(l) as { assignment: string }).assignment);
}

describe('stream processor rebalance', () => {
  const brokers = inject('kafkaBrokers');
  afterEach(kit.killChildren);

  it('a member joins and another leaves mid-run: exactly one output per input', async () => {
    const tokens = await makeTokens();
    const t = kit.topicNames('rebalance');
    await kit.createStreamTopics(brokers, t, PARTITIONS, 3);
    const inputs = mixedInputs(tokens, RECORDS, PARTITIONS, 'rebalance');
    await kit.produce(brokers, t.input, inputs, { perRequest: PARTITIONS });
    const args = kit.processorArgs(brokers, t, kit.keyFile(), SMALL_BATCH_ARGS);
    const progress = (): Promise<bigint> => kit.committedCount(brokers, t);

    const a = kit.spawnProcessor(args);
    let b: ReturnType<typeof kit.spawnProcessor> | undefined;
    try {
      await a.joined;
      await kit.waitFor(
        'member A to process 15%',
        async () => (await progress()) >= BigInt(RECORDS * 0.15),
        60_000,
        50,
      );
      b = kit.spawnProcessor(args);
      await b.joined;
      const member = b;
      // Both members own partitions now.
      await kit.waitFor(
        'A and B to share the partitions',
        () => assignments(member.stderr).some((x) => x.includes(':')) && assignments(a.stderr).length >= 2,
        60_000,
        50,
      );
      const atJoin = await progress();
      await kit.waitFor('B to make progress too', async () => (await progress()) > atJoin + 200n, 60_000, 50);
      // B's status endpoints: ready, owning some partitions, counting what it did.
      const base = `http://127.0.0.1:${httpPort(member.stderr)}`;
      await kit.waitFor('B ready', async () => (await fetch(`${base}/readyz`)).status === 200, 30_000, 100);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^jwt_redactor_assigned_partitions [1-5]$/m);
      expect(metrics).toMatch(
        new RegExp(`^jwt_redactor_records_in_total\\{topic="${t.input}"\\} [1-9]`, 'm'),
      );
      expect(metrics).toContain('jwt_redactor_consumer_lag{');

      // A leaves mid-run.
      const atLeave = await progress();
      expect(atLeave).toBeLessThan(BigInt(RECORDS));
      a.child.kill('SIGTERM');
      const exitA = await a.exited;
      expect(exitA.code, `A's exit code (stderr tail: ${a.stderr.join('').slice(-1500)})`).toBe(0);

      await kit.waitForCommitted(brokers, t.group, t.input, 120_000);
      // B took every partition after A left.
      expect(assignments(member.stderr).at(-1)?.split(':')[1]?.split(',')).toHaveLength(PARTITIONS);
    } finally {
      b?.child.kill('SIGTERM');
      a.child.kill('SIGTERM');
    }
    const exitB = await b.exited;
    expect(exitB.code).toBe(0);

    expect(inputs).toHaveLength(RECORDS);
    const o = await kit.readRunOutput(brokers, t);
    kit.expectExactlyOnce(inputs, o);
    kit.expectNoLeaks(
      [
        ...kit.runTexts(o),
        { where: 'stderr A', text: a.stderr.join('') },
        { where: 'stderr B', text: b.stderr.join('') },
      ],
      tokens.secrets,
    );
    console.info(
      `[stream-rebalance] A: ${assignments(a.stderr).join(' | ')}; B: ${assignments(b.stderr).join(' | ')}`,
    );
  });

  it('a zombie member (paused past its session timeout, then resumed) is fenced: no duplicates', async () => {
    const tokens = await makeTokens();
    const t = kit.topicNames('zombie');
    await kit.createStreamTopics(brokers, t, 4, 2);
    const inputs = mixedInputs(tokens, RECORDS, 4, 'zombie');
    await kit.produce(brokers, t.input, inputs, { perRequest: 4 });
    const args = kit.processorArgs(brokers, t, kit.keyFile(), SMALL_BATCH_ARGS);
    const progress = (): Promise<bigint> => kit.committedCount(brokers, t);

    const a = kit.spawnProcessor(args);
    await a.joined;
    await kit.waitFor(
      'A to process 10%',
      async () => (await progress()) >= BigInt(RECORDS * 0.1),
      60_000,
      50,
    );
    // A freezes mid-stream (likely inside a transaction): the group drops it after the session
    // timeout and B takes every partition, its InitProducerId fencing A's producers.
    a.child.kill('SIGSTOP');
    const b = kit.spawnProcessor(args);
    try {
      await b.joined;
      const atTakeover = await progress();
      await kit.waitFor('B to take over', async () => (await progress()) > atTakeover + 300n, 60_000, 50);
      // A wakes up believing it still owns its partitions: its commits must fail (fenced), it rejoins.
      a.child.kill('SIGCONT');
      await kit.waitForCommitted(brokers, t.group, t.input, 120_000);
    } finally {
      a.child.kill('SIGCONT');
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
    }
    expect((await a.exited).code).toBe(0);
    expect((await b.exited).code).toBe(0);

    expect(inputs).toHaveLength(RECORDS);
    kit.expectExactlyOnce(inputs, await kit.readRunOutput(brokers, t));
    const fenced = a.stderr
      .join('')
      .split('\n')
      .filter((l) => l.includes('fenced')).length;
    console.info(
      `[stream-zombie] A logged ${fenced} fencing events; A: ${assignments(a.stderr).join(' | ')}; B: ${assignments(b.stderr).join(' | ')}`,
    );
  });
});
