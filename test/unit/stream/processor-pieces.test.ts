// Small pieces of the processor: input topic resolution, error classification, the status server.
import { describe, expect, it } from 'vitest';
import { errorType, isFencedError, isGroupError, isPermanentError } from '../../../src/kafka/index.ts';
import { startStatusServer } from '../../../src/stream/http.ts';
import { createStreamMetrics } from '../../../src/stream/metrics.ts';
import { resolveInputTopics } from '../../../src/stream/processor.ts';
import { ConfigError } from '../../../src/util/errors.ts';

describe('resolveInputTopics', () => {
  const existing = ['logs-a', 'logs-b', 'audit', '__consumer_offsets', 'logs-redacted'];
  it('expands patterns over existing topics, never internal or output topics', () => {
    expect(resolveInputTopics([/^(?:logs-.*)$/, 'audit'], existing, ['logs-redacted'])).toEqual([
      'audit',
      'logs-a',
      'logs-b',
    ]);
  });
  it('refuses names that do not exist and patterns that match nothing', () => {
    expect(() => resolveInputTopics(['nope'], existing, [])).toThrow(ConfigError);
    expect(() => resolveInputTopics([/^x.*$/], existing, [])).toThrow(/no existing topic/);
  });
});

describe('Kafka error classification', () => {
  const protocol = (type: string) => Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type });
  it('finds the protocol type through the cause chain', () => {
    const wrapped = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      cause: protocol('PRODUCER_FENCED'),
    });
    expect(errorType(wrapped)).toBe('PRODUCER_FENCED');
    expect(isFencedError(wrapped)).toBe(true);
    expect(isFencedError(protocol('INVALID_PRODUCER_EPOCH'))).toBe(true);
    expect(isGroupError(protocol('REBALANCE_IN_PROGRESS'))).toBe(true);
    expect(isPermanentError(protocol('TOPIC_AUTHORIZATION_FAILED'))).toBe(true);
    expect(isPermanentError(protocol('NOT_LEADER_OR_FOLLOWER'))).toBe(false);
    expect(isPermanentError(Object.assign(new Error('x'), { name: 'KafkaJSConnectionError' }))).toBe(false);
  });
});

describe('status server', () => {
  it('serves /metrics, /healthz and /readyz', async () => {
    const health = { live: true, ready: false };
    const metrics = createStreamMetrics({ defaultMetrics: false });
    metrics.aborted('PRODUCER_FENCED');
    const server = await startStatusServer('127.0.0.1', 0, health, metrics.registry);
    try {
      const get = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
        return { status: res.status, body: await res.text() };
      };
      expect((await get('/healthz')).status).toBe(200);
      expect(await get('/readyz')).toMatchObject({ status: 503 });
      health.ready = true;
      expect(await get('/readyz')).toMatchObject({ status: 200 });
      const m = await get('/metrics');
      expect(m.status).toBe(200);
      expect(m.body).toContain('jwt_redactor_transaction_aborts_total{reason="PRODUCER_FENCED"} 1');
      expect(m.body).toContain('jwt_redactor_batch_duration_seconds');
      expect((await get('/other')).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
