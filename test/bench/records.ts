// The 1 KiB JSON log record of the Kafka benchmark and the engine profile: one shape, one place.
import { randomBytes } from 'node:crypto';

/** Record `i` as JSON bytes, padded to `bytes`, with `Bearer <token>` in `authorization` when a token is given. */
export function logRecord(i: number, token: string | undefined, bytes = 1024): Buffer {
  const base: Record<string, unknown> = {
    ts: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
    level: i % 50 === 0 ? 'warn' : 'info',
    service: 'checkout',
    host: `pod-${i % 17}.payments.svc.cluster.local`,
    trace_id: randomBytes(16).toString('hex'),
    msg: `request ${i} completed in ${(i * 7) % 500}ms`,
    http: { method: 'POST', path: `/api/v1/orders/${i}`, status: 200 },
  };
  if (token !== undefined) base['authorization'] = `Bearer ${token}`;
  const bare = JSON.stringify({ ...base, pad: '' });
  const pad = Math.max(0, bytes - Buffer.byteLength(bare));
  return Buffer.from(JSON.stringify({ ...base, pad: 'x'.repeat(pad) }));
}
