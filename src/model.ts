// The vocabulary every stage shares. Types only: no behaviour lives here, so any stage
// can import it without pulling in another stage's code.

export type TokenKind = 'jws' | 'jwe' | 'unsecured';
export const TOKEN_KINDS: readonly TokenKind[] = ['jws', 'jwe', 'unsecured'];
export type Serialization = 'compact' | 'json' | 'json_flat';
export const SERIALIZATIONS: readonly Serialization[] = ['compact', 'json', 'json_flat'];
/** One wrapping layer around a token, outermost first in `Detection.encoding`. */
export type Encoding = 'base64' | 'base64url' | 'percent' | 'json-escape' | 'html-entity';
/** Where in an HTTP-ish text the token sat, when the scanner can tell. */
export type TokenContext = 'bearer' | 'dpop' | 'cookie' | 'query' | 'form' | 'header' | 'json' | 'text';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export type Action = 'mask' | 'sanitize' | 'hash' | 'report';
export const ACTIONS: readonly Action[] = ['mask', 'sanitize', 'hash', 'report'];

export type TokenType =
  | 'access'
  | 'id'
  | 'refresh'
  | 'dpop-proof'
  | 'security-event'
  | 'logout'
  | 'api-key'
  | 'client-assertion'
  | 'unknown';
export const TOKEN_TYPES: readonly TokenType[] = [
  'access',
  'id',
  'refresh',
  'dpop-proof',
  'security-event',
  'logout',
  'api-key',
  'client-assertion',
  'unknown',
];

/** A JOSE header as decoded: the registered members typed, the rest kept. */
export interface JoseHeader {
  alg?: string;
  enc?: string;
  typ?: string;
  cty?: string;
  kid?: string;
  zip?: string;
  jku?: string;
  x5u?: string;
  jwk?: Record<string, unknown>;
  x5c?: unknown;
  crit?: unknown;
  b64?: boolean;
  [name: string]: unknown;
}

export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** What the scanner found: a span of the scanned bytes and the token text inside it. */
export interface Detection {
  /** Byte offsets of the whole span to replace in the scanned (outermost) buffer. */
  start: number;
  end: number;
  kind: TokenKind;
  serialization: Serialization;
  /** Wrapping layers, outermost first; empty for a token standing in clear. */
  encoding: Encoding[];
  /** The token with every wrapping layer removed (compact string or JSON text). Secret. */
  token: string;
  context: TokenContext;
}

/** The readable content of a token, as far as it can be read. */
export type Payload =
  | { type: 'claims'; claims: JsonObject }
  | { type: 'opaque'; length: number }
  | { type: 'detached' }
  | { type: 'encrypted' }
  /** A JWS whose payload, or a decrypted JWE whose plaintext, is itself a token. */
  | { type: 'token'; inner: string };

export interface DecodedToken {
  kind: TokenKind;
  serialization: Serialization;
  /** The header that governs the token: protected + unprotected members of the first signature or recipient. */
  header: JoseHeader;
  /** One header per signature (JWS) or recipient (JWE); length 1 for compact and flattened forms. */
  headers: JoseHeader[];
  payload: Payload;
  nested: boolean;
  /** Decrypted with a user-supplied key (JWE only). */
  decrypted: boolean;
  /** For HMAC checks on compact or flattened JWS: the exact signing input and the signature bytes. */
  signing?: { input: Uint8Array; signature: Uint8Array };
  /** Token length in characters (the unwrapped token). */
  length: number;
}

export type ClaimCategory = string; // e.g. 'pii.email', 'identifier.subject', 'public'

export interface Classification {
  /** The workload or principal kind, e.g. 'k8s-service-account', 'github-actions', 'human', 'unknown'. */
  identity: string;
  /** The profile from patterns/identities.yaml that matched, when one did. */
  profile?: string;
  token_type: TokenType;
  /** A non-human (workload) identity: Kubernetes, CI jobs, SPIFFE, cloud service principals... */
  workload?: boolean;
  /** Claim name (top-level) or RFC 6901 pointer (nested) -> category. */
  claims: Record<string, ClaimCategory>;
}

export interface TimeStatus {
  issued_at?: string;
  expires_at?: string;
  expired?: boolean;
  not_before?: string;
  not_yet_valid?: boolean;
  lifetime_seconds?: number;
  /** Seconds until expiry (negative when expired). */
  remaining_seconds?: number;
}

export interface Risk {
  id: string;
  severity: Severity;
  reason: string;
  /** Framework references, e.g. 'OWASP-NHI-2025:NHI2', 'NIST-CSF-2.0:PR.AA-01'. */
  frameworks: string[];
}

export interface SourceRef {
  kind: 'file' | 'stdin' | 'kafka';
  name?: string;
  line?: number;
  pointer?: string;
  topic?: string;
  partition?: number;
  offset?: string;
  member?: string;
}

/** Native finding, schema `jwt-redactor/finding@1` (SPEC section 5). Never holds a token or a sensitive value. */
export interface Finding {
  schema: 'jwt-redactor/finding@1';
  id: string;
  time: string;
  rule: string;
  severity: Severity;
  source: SourceRef;
  token: {
    kind: TokenKind;
    serialization: Serialization;
    encoding: Encoding[];
    context: TokenContext;
    nested: boolean;
    fingerprint: string;
    length: number;
  };
  header: Record<string, JsonValue>;
  claims: Record<string, JsonValue>;
  classification: Classification;
  status: TimeStatus;
  risks: Risk[];
  frameworks: string[];
  action: Action;
  /** Findings of the readable inner token (nested JWS in a decrypted JWE or a JWS payload). */
  inner?: Omit<Finding, 'schema' | 'id' | 'time' | 'source' | 'inner'>;
}

/** A processing failure reported as a finding (R6). */
export interface ErrorFinding {
  schema: 'jwt-redactor/finding@1';
  id: string;
  time: string;
  rule: 'processing-error';
  severity: Severity;
  source: SourceRef;
  error: { code: string; reason: string };
  /** quarantine: the record went to quarantine (R6); mask: the span was masked in place; skip: the input was skipped. */
  action: 'quarantine' | 'mask' | 'skip';
}

export type AnyFinding = Finding | ErrorFinding;
