// What a Kafka error means for the caller, without the caller knowing the client library.

/** Protocol error types after which a transactional producer can never be used again. */
const FATAL_PRODUCER_TYPES = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_TXN_STATE',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_ID_MAPPING',
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'TRANSACTION_COORDINATOR_FENCED',
]);

/** Errors of the group protocol: the member must rejoin (the consumer does that by itself). */
const GROUP_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_COORDINATOR',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);

interface ErrorShape {
  name?: unknown;
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
  message?: unknown;
}

function chain(error: unknown): ErrorShape[] {
  const out: ErrorShape[] = [];
  let e: unknown = error;
  for (let i = 0; i < 8 && typeof e === 'object' && e !== null; i++) {
    out.push(e as ErrorShape);
    e = (e as ErrorShape).cause;
  }
  return out;
}

/** The protocol error type (e.g. `PRODUCER_FENCED`) anywhere in the cause chain, else the error name. */
export function errorType(error: unknown): string {
  const links = chain(error);
  for (const l of links) if (typeof l.type === 'string' && l.type.length > 0) return l.type;
  for (const l of links) if (typeof l.name === 'string' && l.name.length > 0) return l.name;
  return 'Error';
}

/** The producer was fenced by a newer one with the same transactional id, or its state is lost. */
export function isFencedError(error: unknown): boolean {
  return chain(error).some((l) => typeof l.type === 'string' && FATAL_PRODUCER_TYPES.has(l.type));
}

/** A group-membership error: the consumer must rejoin; the batch in hand is no longer ours to commit. */
export function isGroupError(error: unknown): boolean {
  return chain(error).some((l) => typeof l.type === 'string' && GROUP_TYPES.has(l.type));
}

/**
 * Errors that retrying does not cure: permissions, records the broker refuses, topics that are
 * gone, versions it does not speak. Everything else (broker restarts, coordinator moves, timeouts)
 * passes with time.
 */
const PERMANENT_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_REQUIRED_ACKS',
  'INVALID_TRANSACTION_TIMEOUT',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'POLICY_VIOLATION',
  'INVALID_TOPIC_EXCEPTION',
]);
const PERMANENT_NAMES = new Set([
  'KafkaJSSASLAuthenticationError',
  'KafkaJSServerDoesNotSupportApiKey',
  'KafkaJSNotImplemented',
]);

/** Retrying will not help: the operator has to act (permissions, topic settings, a broker upgrade). */
export function isPermanentError(error: unknown): boolean {
  return chain(error).some(
    (l) =>
      (typeof l.type === 'string' && PERMANENT_TYPES.has(l.type)) ||
      (typeof l.name === 'string' && PERMANENT_NAMES.has(l.name)),
  );
}

/** A one-line description for logs: type and message of the outermost error (messages are the client's, never record data). */
export function describeError(error: unknown): string {
  const first = chain(error)[0];
  if (first === undefined) return String(error);
  const message = typeof first.message === 'string' ? first.message : '';
  const type = errorType(error);
  return message.length > 0 ? `${type}: ${message}` : type;
}
