// Writers: JSON Lines for native, OCSF and ECS (one finding per line, written as it comes);
// one SARIF document for the whole run, its results written as they come and closed by `end()`.
import type { AnyFinding, JsonObject } from '../model.ts';
import { createEcsText, toEcs } from './ecs.ts';
import { serialize } from './json.ts';
import { createNativeText, toNative } from './native.ts';
import { createOcsfText, toOcsf } from './ocsf.ts';
import type { FormatOptions } from './product.ts';
import { createSarifLogWriter, toSarifLog } from './sarif.ts';

export type FindingFormat = 'native' | 'ocsf' | 'sarif' | 'ecs';
export const FINDING_FORMATS: readonly FindingFormat[] = ['native', 'ocsf', 'sarif', 'ecs'];

/** Anything with a synchronous string `write`: an array collector, a log function, a test double. */
export interface TextSink {
  write(s: string): void;
}

export interface WriterOptions extends FormatOptions {
  /** End the stream when the writer ends (for files). Default false: stdout and shared streams stay open. */
  close?: boolean;
}

export interface FindingWriter {
  /**
   * Formats and writes one finding. Throws after `end()` or a stream error. Returns a promise once
   * 4 MiB are queued on the stream: wait for it before writing more, or a slow
   * reader (a pipe, a slow disk) makes memory grow with the findings (which can be a fifth of the
   * input's size in native, two fifths in SARIF). Undefined otherwise: no promise per finding.
   */
  write(f: AnyFinding): Promise<void> | undefined;
  /** Writes what is pending (the end of the SARIF document) and resolves once the sink has taken every byte. */
  end(): Promise<void>;
}

/** The record object for one finding in a JSON Lines format, or a one-result SARIF log. */
export function formatObject(format: FindingFormat, f: AnyFinding, opts?: FormatOptions): JsonObject {
  switch (format) {
    case 'native':
      return toNative(f);
    case 'ocsf':
      return toOcsf(f, opts);
    case 'ecs':
      return toEcs(f, opts);
    case 'sarif':
      return toSarifLog([f], opts);
  }
}

/**
 * One finding as one self-contained text record, for sinks that carry one record per message (the
 * Kafka findings topic). SARIF has no record form, so it becomes a complete one-result SARIF log:
 * every message stays a valid SARIF document that any SARIF reader can open on its own.
 */
export function formatFinding(format: FindingFormat, f: AnyFinding, opts?: FormatOptions): string {
  return serialize(formatObject(format, f, opts));
}

/**
 * `formatFinding` for a long stream of findings (the Kafka findings topic): the same text, byte for
 * byte; in the native format the part that comes from a token's analysis is formatted once per
 * analysis (see `createNativeText`), not once per record carrying the token.
 */
export function createFindingFormatter(
  format: FindingFormat,
  opts?: FormatOptions,
): (f: AnyFinding) => string {
  if (format === 'native') return createNativeText();
  if (format === 'ocsf') return createOcsfText(opts);
  if (format === 'ecs') return createEcsText(opts);
  return (f) => formatFinding(format, f, opts);
}

interface Output {
  /** A promise when the sink is full (see FindingWriter.write). */
  write(s: string): Promise<void> | undefined;
  end(): Promise<void>;
}

function isStream(sink: TextSink | NodeJS.WritableStream): sink is NodeJS.WritableStream {
  return 'on' in sink && typeof sink.on === 'function' && 'end' in sink && typeof sink.end === 'function';
}

/** Findings text a stream may hold queued before `write` asks its caller to wait. */
const QUEUE_BYTES = 4 * 1024 * 1024;

function streamOutput(stream: NodeJS.WritableStream, close: boolean): Output {
  let failure: Error | undefined;
  const onError = (err: Error) => {
    failure ??= err;
  };
  stream.on('error', onError);
  /** Resolves once the stream drains, closes or fails (a failure then shows at the next write). */
  let full: Promise<void> | undefined;
  const untilDrained = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.removeListener('drain', done);
        stream.removeListener('close', done);
        stream.removeListener('error', done);
        full = undefined;
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
      stream.on('error', done);
    });
  const settle = (resolve: () => void, reject: (e: Error) => void) => (err?: Error | null) => {
    stream.removeListener('error', onError);
    const e = failure ?? err ?? undefined;
    if (e === undefined) resolve();
    else reject(e);
  };
  return {
    write(s) {
      if (failure !== undefined) throw failure;
      const ok = stream.write(s);
      // Past the stream's own high-water mark (16 KiB for stdout) a write returns false; waiting then
      // would stall the scan every few findings. It waits once QUEUE_BYTES are queued, until drained.
      const state = stream as { writableLength?: number; destroyed?: boolean };
      const queued = state.writableLength;
      if (ok || (queued !== undefined && queued < QUEUE_BYTES)) return full;
      // A destroyed stream has closed already and never drains: nothing to wait for.
      if (state.destroyed === true) return undefined;
      full ??= untilDrained();
      return full;
    },
    end() {
      return new Promise<void>((resolve, reject) => {
        if (failure !== undefined) return settle(resolve, reject)();
        // Writes complete in order: the callback of a last (empty) write means all earlier ones are done.
        if (close) stream.end(settle(resolve, reject));
        else stream.write('', settle(resolve, reject));
      });
    },
  };
}

function textOutput(sink: TextSink): Output {
  return {
    write: (s) => {
      sink.write(s);
      return undefined;
    },
    end: () => Promise.resolve(),
  };
}

// Overloads, TextSink first: an object literal `{ write: (s) => ... }` gets `s: string` inferred.
export function createFindingWriter(
  format: FindingFormat,
  sink: TextSink,
  opts?: WriterOptions,
): FindingWriter;
export function createFindingWriter(
  format: FindingFormat,
  sink: NodeJS.WritableStream,
  opts?: WriterOptions,
): FindingWriter;
export function createFindingWriter(
  format: FindingFormat,
  sink: TextSink | NodeJS.WritableStream,
  opts?: WriterOptions,
): FindingWriter;
export function createFindingWriter(
  format: FindingFormat,
  sink: TextSink | NodeJS.WritableStream,
  opts?: WriterOptions,
): FindingWriter {
  const out = isStream(sink) ? streamOutput(sink, opts?.close ?? false) : textOutput(sink);
  const sarif = format === 'sarif' ? createSarifLogWriter(opts) : undefined;
  // JSON Lines: the same text as formatFinding, with a token's analysis formatted once per token
  // (createFindingFormatter), not once per sighting.
  const text = sarif === undefined ? createFindingFormatter(format, opts) : undefined;
  let ended: Promise<void> | undefined;
  return {
    write(f) {
      if (ended !== undefined) throw new Error('finding writer: write() after end()');
      return out.write(sarif !== undefined ? sarif.add(f) : `${text!(f)}\n`);
    },
    end() {
      // Zero findings still make a valid SARIF log: CI uploads expect a document.
      ended ??= (async () => {
        if (sarif !== undefined) out.write(`${sarif.end()}\n`);
        await out.end();
      })();
      return ended;
    },
  };
}
