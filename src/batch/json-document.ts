// JSON and HAR documents of any size: the splitter (json-splitter.ts) cuts them into units, each unit
// becomes a job, bytes between units pass through. Long strings and whatever follows invalid JSON go
// through chunked text redaction, so the output always holds every byte outside redacted spans.
import type { SourceRef } from '../model.ts';
import type { StreamSession } from './executor.ts';
import type { FormatContext, FormatProcessor } from './format-context.ts';
import { base64Bodies } from './har.ts';
import { reclaim } from './jobs.ts';
import { type InvalidJson, JsonSplitter, type JsonUnit } from './json-splitter.ts';
import { maskName } from './names.ts';

type SplitEvent =
  | { t: 'verbatim'; bytes: Uint8Array }
  | { t: 'unit'; unit: JsonUnit }
  | { t: 'long-start'; pointer: string; line: number; topIndex: number }
  | { t: 'long-chunk'; bytes: Uint8Array }
  | { t: 'long-end' }
  | { t: 'split'; pointer: string }
  | { t: 'invalid'; info: InvalidJson; line: number }
  | { t: 'rest'; bytes: Uint8Array };

const HAR_SPINE = new Set(['', '/log', '/log/entries']);
const QUOTE = 0x22;
/** Shorter than the shortest token with its quotes: cannot hold one. */
const MIN_TOKEN_PIECE = 16;
const HAR_ENTRY = /^\/log\/entries\/\d+$/;
/** Free unit buffers kept for reuse. */
const MAX_FREE_UNITS = 8;

export interface JsonDocumentOptions {
  har: boolean;
  /** A JSON value on one line of a JSONL file: every finding gets this line. */
  line?: number;
}

export function jsonDocumentProcessor(ctx: FormatContext, options: JsonDocumentOptions): FormatProcessor {
  const { executor, output, sizes } = ctx;
  const events: SplitEvent[] = [];
  // Unit buffers are reused once their job is done and the output written (jobs.ts reclaim): batches
  // of members fit `capacity`; a bigger unit (one large member) gets a buffer of its own size.
  const capacity = sizes.batchBytes + 2;
  const free: ArrayBuffer[] = [];
  const alloc = (n: number): Buffer => {
    if (n > capacity) return Buffer.allocUnsafeSlow(n);
    const reused = free.pop();
    return reused !== undefined ? Buffer.from(reused) : Buffer.allocUnsafeSlow(capacity);
  };
  const reuse = (buffer: ArrayBuffer) => {
    if (buffer.byteLength === capacity && free.length < MAX_FREE_UNITS) free.push(buffer);
  };
  const splitter = new JsonSplitter(
    {
      verbatim: (bytes) => events.push({ t: 'verbatim', bytes }),
      unit: (unit) => events.push({ t: 'unit', unit }),
      longStringStart: (pointer, line, topIndex) => events.push({ t: 'long-start', pointer, line, topIndex }),
      longStringChunk: (bytes) => events.push({ t: 'long-chunk', bytes }),
      longStringEnd: () => events.push({ t: 'long-end' }),
      split: (pointer) => events.push({ t: 'split', pointer }),
      invalid: (info, line) => events.push({ t: 'invalid', info, line }),
      rest: (bytes) => events.push({ t: 'rest', bytes }),
    },
    {
      unitBytes: sizes.unitBytes,
      blockBytes: sizes.batchBytes,
      alloc,
      maskKey: maskName,
      ...(options.har
        ? { alwaysSplit: (p: string) => HAR_SPINE.has(p), alwaysSplitDepth: 3, harBodies: true }
        : {}),
    },
  );
  let long: StreamSession | undefined;
  let rest: StreamSession | undefined;

  /** Line for findings: the JSONL line, or the start of a later value in a JSON text sequence. */
  const lineFor = (line: number, topIndex: number): { line?: number } =>
    options.line !== undefined ? { line: options.line } : topIndex > 0 ? { line } : {};

  const source = (extra: Partial<SourceRef>): SourceRef => ({ ...ctx.source, ...extra });

  const drain = async (): Promise<void> => {
    for (const e of events.splice(0)) {
      switch (e.t) {
        case 'verbatim':
          // Between units there are brackets, commas, whitespace and the keys of split containers.
          // A key can hold a token (R1), so pieces with a string long enough to be one are scanned.
          if (e.bytes.length >= MIN_TOKEN_PIECE && e.bytes.includes(QUOTE)) {
            await output.job(executor.run({ op: 'text', bytes: e.bytes, source: ctx.source }, true));
          } else {
            await output.verbatim(e.bytes);
          }
          break;
        case 'unit': {
          const u = e.unit;
          if (u.kind === 'values') {
            // Small top-level values of a text sequence, batched by the splitter: one job.
            await output.job(
              executor.run(
                {
                  op: 'json-values',
                  bytes: u.bytes,
                  source: options.line !== undefined ? source({ line: options.line }) : ctx.source,
                  at: u.offset,
                  line: u.line,
                  topIndex: u.topIndex,
                  lines: options.line === undefined,
                },
                true,
              ),
              u.bytes.byteLength,
            );
            break;
          }
          const buffer = u.bytes.buffer as ArrayBuffer;
          // Measured before a worker pool takes the bytes over (a moved buffer reads as empty).
          const size = u.bytes.byteLength;
          await output.job(
            executor
              .run(
                {
                  op: 'json',
                  bytes: u.bytes,
                  source: source(lineFor(u.line, u.topIndex)),
                  kind: u.kind,
                  pointer: u.pointer,
                  firstIndex: u.firstIndex,
                  at: u.offset,
                  har: options.har && u.kind === 'array' && u.pointer === '/log/entries',
                  // Always there, undefined or not: every job of a document has one shape (a job
                  // without the key had the worker's optimized code thrown out at each new file).
                  bodies: u.harBodies !== undefined ? base64Bodies(u.bytes, u.harBodies) : undefined,
                },
                // The splitter copied the unit into a buffer of its own: a worker can take it as it is.
                true,
              )
              .then((r) => reclaim(r, buffer, reuse)),
            size,
          );
          break;
        }
        case 'long-start':
          long = executor.openStream(source({ pointer: e.pointer, ...lineFor(e.line, e.topIndex) }));
          break;
        case 'long-chunk':
          await output.job(long!.push(e.bytes));
          break;
        case 'long-end':
          await output.job(long!.end());
          long = undefined;
          break;
        case 'split':
          if (options.har && HAR_ENTRY.test(e.pointer)) {
            ctx.note(
              `HAR entry ${e.pointer} is larger than ${sizes.unitBytes} bytes (max_record_bytes): processed in parts, a base64 response body in it is scanned without decoding`,
            );
          }
          break;
        case 'invalid':
          if (options.line === undefined) {
            ctx.note(
              `not valid JSON at line ${e.info.line}, column ${e.info.column} (${e.info.reason}): the rest is scanned as text`,
            );
          }
          rest = executor.openStream(source({ line: options.line ?? e.line }));
          break;
        case 'rest':
          await output.job(rest!.push(e.bytes));
          break;
      }
    }
  };

  return {
    async push(chunk) {
      for (let at = 0; at < chunk.length; at += sizes.pushBytes) {
        const piece = chunk.subarray(at, Math.min(chunk.length, at + sizes.pushBytes));
        // Once JSON has ended, pieces go on as text, held by the chunk redactor: a copy, since the
        // caller may reuse its buffer once this resolves (everything else the splitter copies).
        splitter.push(splitter.failed ? Uint8Array.prototype.slice.call(piece) : piece);
        await drain();
      }
    },
    async end() {
      splitter.end();
      await drain();
      if (rest) await output.job(rest.end());
    },
  };
}
