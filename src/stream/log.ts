// JSON logs to stderr (pino). What is logged: topics, partitions, offsets, counts, error types and
// our own messages. Never record contents, tokens, claim values or key material: no call site passes
// them, and kafkajs log fields are filtered to identifiers in src/kafka/client.ts.
import { type Logger, pino } from 'pino';
import type { KafkaLogSink } from '../kafka/index.ts';
import type { LogLevel } from './config.ts';

export type StreamLogger = Logger;

export function createStreamLogger(
  level: LogLevel,
  destination: number | NodeJS.WritableStream = 2,
): StreamLogger {
  const stream =
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
  return pino(
    {
      level,
      base: { service: 'jwt-redactor', component: 'stream', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** kafkajs' own log lines, as pino lines with `kafka: true`. */
export function kafkaLogSink(logger: StreamLogger): KafkaLogSink {
  const child = logger.child({ kafka: true });
  return (level, message, fields) => child[level](fields, message);
}
