import type { Encoding, JoseHeader, Serialization, TokenContext, TokenKind } from '../model.ts';

/** How a JSON-serialized token's text is quoted where it sits, so a replacement can be quoted alike. */
export type Quoting =
  | { kind: 'plain' }
  | { kind: 'json-escape'; level: number }
  | { kind: 'html' }
  | { kind: 'percent'; level: number };

/** A token found in the scanned bytes. */
export interface TokenItem {
  type: 'token';
  start: number;
  end: number;
  kind: TokenKind;
  serialization: Serialization;
  /** Layers around the token text in this buffer (context encodings; base64 layers are added by the parent). */
  encoding: Encoding[];
  context: TokenContext;
  /** The token text with every wrapping removed: compact string, or canonical JSON for JSON forms. Secret. */
  token: string;
  /** The parsed JSON object of a JSON-serialized token. */
  json?: Record<string, unknown>;
  /** First protected header, as parsed during detection (compact forms). */
  header?: JoseHeader;
  quoting: Quoting;
}

/** A base64 run whose decoded bytes hold tokens; redacted by re-encoding the redacted decoded bytes. */
export interface Base64Item {
  type: 'base64';
  start: number;
  end: number;
  alphabet: 'std' | 'url';
  /** Padding with '=' present at the end of the encoded span. */
  padded: boolean;
  /** The span reaches the end of the base64 run (else the run goes on after it). */
  closed: boolean;
  decoded: Uint8Array;
  inner: ScanItem[];
}

/** Token-shaped text the scanner could not resolve within its budget: masked, never passed (fail closed). */
export interface SuspectItem {
  type: 'suspect';
  start: number;
  end: number;
  reason: string;
}

/** Our own sanitized token (R5): not a finding, not touched again. */
export interface SanitizedItem {
  type: 'sanitized';
  start: number;
  end: number;
}

export type ScanItem = TokenItem | Base64Item | SuspectItem | SanitizedItem;

export interface ScanOptions {
  /** Longest token considered, in characters (default 16384). */
  maxTokenLength: number;
  /**
   * Base64 layers looked into (default 2: base64 of text holding a token, and base64 of that).
   * The prefilter has needles for two layers (MAX_BASE64_DEPTH in scanner.ts): more finds nothing deeper.
   */
  maxBase64Depth: number;
  /** Work allowed per input byte before the scan gives up and the record fails closed (default 64). */
  workPerByte: number;
}

export interface ScanResult {
  /** Items sorted by start, non-overlapping. */
  items: ScanItem[];
  /** The work budget ran out: what was scanned is reported, but the record must fail closed (R6). */
  budgetExceeded: boolean;
  /** Work units spent decoding and parsing around hits (bytes looked at); linear in the input. */
  work: number;
}

export const DEFAULT_SCAN_OPTIONS: ScanOptions = {
  maxTokenLength: 16384,
  maxBase64Depth: 2,
  workPerByte: 64,
};
