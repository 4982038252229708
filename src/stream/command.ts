// `jwt-redactor stream`: the Kafka consumer-group processor as a command. Exit codes: 0 after
// SIGTERM/SIGINT (batch in flight finished or aborted, group left), 2 bad configuration (the message
// names the field), 3 runtime failure.

import type { Io } from '../cli/io.ts';
import { registerCommand } from '../cli/main.ts';
import { resolveOptions } from '../cli/options.ts';
import { createKafkaClient, describeError, type KafkaLogLevel } from '../kafka/index.ts';
import { engineFromConfig } from '../pipeline/index.ts';
import { ConfigError } from '../util/errors.ts';
import { type LogLevel, STREAM_OPTIONS, streamConfig } from './config.ts';
import { type StatusServer, startStatusServer } from './http.ts';
import { createStreamLogger, kafkaLogSink } from './log.ts';
import { createStreamMetrics } from './metrics.ts';
import { StreamProcessor } from './processor.ts';

/** kafkajs is chatty at info: its lines show from one level below ours. */
function kafkaLevel(level: LogLevel): KafkaLogLevel {
  if (level === 'trace') return 'debug';
  if (level === 'debug') return 'info';
  if (level === 'fatal' || level === 'error') return 'error';
  return 'warn';
}

export async function runStream(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = resolveOptions(STREAM_OPTIONS, argv, io.env);
  if (positionals.length > 0)
    throw new ConfigError(`unexpected argument "${positionals[0]}" (topics go in --input-topics)`);
  const config = streamConfig(values);
  const logger = createStreamLogger(config.logLevel);
  const engine = await engineFromConfig(config.engine);
  const metrics = createStreamMetrics();
  const client = createKafkaClient({
    ...config.connection,
    log: kafkaLogSink(logger),
    logLevel: kafkaLevel(config.logLevel),
  });
  const processor = new StreamProcessor({ config, engine, client, logger, metrics });

  let http: StatusServer;
  try {
    http = await startStatusServer(config.http.host, config.http.port, processor, metrics.registry);
  } catch (error) {
    throw new ConfigError(
      `cannot listen on ${config.http.host}:${config.http.port}: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`,
      {
        field: 'http-port',
      },
    );
  }
  logger.info(
    { host: config.http.host, port: http.port },
    'http endpoints listening (/metrics, /healthz, /readyz)',
  );

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      logger.info({ signal }, 'signal received: stopping');
      void processor.stop();
    } else {
      // A second signal: the operator does not want to wait. Open transactions abort on their own.
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(0);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let code = 0;
  try {
    await processor.start();
    await processor.done;
  } catch (error) {
    if (error instanceof ConfigError) {
      await http.close();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      throw error;
    }
    logger.error({ error: describeError(error) }, 'stream processor failed');
    io.stderr.write(`jwt-redactor stream: runtime failure: ${describeError(error)}\n`);
    code = 3;
  }
  await http.close();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  // Everything is closed; a client library timer left behind must not keep the process alive.
  setTimeout(() => process.exit(code), 2_000).unref();
  return code;
}

registerCommand('stream', {
  usage:
    '--brokers HOST:PORT --input-topics T[,T...] --output-topic T --findings-topic T --quarantine-topic T [options]',
  summary: 'redact Kafka topics: a consumer-group member, exactly-once by default',
  options: STREAM_OPTIONS,
  run: runStream,
});
