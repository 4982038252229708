// The Kafka stream processor (`jwt-redactor stream`): config, the processor, its transform,
// metrics and status endpoints. The command itself registers in ./command.ts.
export { DELIVERIES, type Delivery, STREAM_OPTIONS, type StreamConfig, streamConfig } from './config.ts';
export { type StatusServer, startStatusServer } from './http.ts';
export { createStreamLogger, kafkaLogSink, type StreamLogger } from './log.ts';
export { createStreamMetrics, type StreamMetrics } from './metrics.ts';
export { type OwnedPartition, PartitionOwnership, transactionalId } from './ownership.ts';
export {
  type ProcessorState,
  resolveInputTopics,
  StreamProcessor,
  type StreamProcessorOptions,
} from './processor.ts';
export {
  type BatchStats,
  BatchTransform,
  ERROR_HEADER,
  ERROR_REASON_HEADER,
  FINDINGS_HEADER,
  QUARANTINE_CONTENT_HEADER,
  RULE_HEADER,
  SEVERITY_HEADER,
  SOURCE_OFFSET_HEADER,
  SOURCE_PARTITION_HEADER,
  SOURCE_TOPIC_HEADER,
  type TransformOptions,
} from './transform.ts';
