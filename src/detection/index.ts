// Detection: where the tokens are. Bytes in, items with exact spans out; no I/O, no decoding beyond what
// deciding "is this a token" needs.

export { decodeBase64, encodeBase64, utf8OrNull } from './bytes.ts';
export { SANITIZED_MARKER } from './compact.ts';
export { joseJsonShape } from './json-serialization.ts';
export { MAX_BASE64_DEPTH, mayHoldToken, scan, tokensOf } from './scanner.ts';
export type {
  Base64Item,
  Quoting,
  ScanItem,
  ScanOptions,
  ScanResult,
  SuspectItem,
  TokenItem,
} from './types.ts';
export { DEFAULT_SCAN_OPTIONS } from './types.ts';
