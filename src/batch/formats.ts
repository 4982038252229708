// Which processor reads a piece of content: from --input-format, else from the name, else from the
// first bytes. Archives are recognised before this (by magic numbers) and never reach it.
import type { FormatContext, FormatProcessor } from './format-context.ts';
import { jsonDocumentProcessor } from './json-document.ts';
import { JsonSplitter } from './json-splitter.ts';
import { lineProcessor } from './lines.ts';

export type InputFormat = 'auto' | 'text' | 'jsonl' | 'json' | 'har';
export const INPUT_FORMATS: readonly InputFormat[] = ['auto', 'text', 'jsonl', 'json', 'har'];
export type ContentFormat = Exclude<InputFormat, 'auto'>;

const LF = 0x0a;

export function detectFormat(head: Uint8Array, name: string, requested: InputFormat): ContentFormat {
  if (requested !== 'auto') return requested;
  const lower = name.toLowerCase();
  if (lower.endsWith('.har')) return 'har';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  const text = skipBomAndSpace(head);
  if (text.length === 0 || (text[0] !== 0x7b && text[0] !== 0x5b)) return 'text';
  if (looksLikeHar(text)) return 'har';
  const lines = completeJsonLines(text);
  if (lines >= 2 || (lines === 1 && !lower.endsWith('.json'))) return 'jsonl';
  if (lower.endsWith('.json') || isJsonPrefix(text)) return 'json';
  return 'text';
}

export function formatProcessor(format: ContentFormat, ctx: FormatContext): FormatProcessor {
  switch (format) {
    case 'text':
    case 'jsonl':
      return lineProcessor(ctx, format);
    case 'json':
      return jsonDocumentProcessor(ctx, { har: false });
    case 'har':
      return jsonDocumentProcessor(ctx, { har: true });
  }
}

function skipBomAndSpace(b: Uint8Array): Uint8Array {
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return b.subarray(i);
}

/** `{"log": {...` with HAR's members near the start. */
function looksLikeHar(text: Uint8Array): boolean {
  const start = Buffer.from(text.buffer, text.byteOffset, Math.min(text.length, 4096)).toString('latin1');
  return /^\{\s*"log"\s*:\s*\{/.test(start) && /"(entries|creator|version|pages)"\s*:/.test(start);
}

/** How many of the first lines (up to 3) are complete JSON values on their own. */
function completeJsonLines(text: Uint8Array): number {
  let n = 0;
  let at = 0;
  while (n < 3) {
    const nl = text.indexOf(LF, at);
    if (nl < 0) return n;
    const line = Buffer.from(text.buffer, text.byteOffset + at, nl - at)
      .toString('utf8')
      .trim();
    if (line.length > 0) {
      if (!(line.startsWith('{') || line.startsWith('['))) return n;
      try {
        JSON.parse(line);
      } catch {
        return n;
      }
      n++;
    }
    at = nl + 1;
  }
  return n;
}

/** The head parses as the beginning of a JSON document (it may be cut anywhere). */
function isJsonPrefix(text: Uint8Array): boolean {
  let bad = false;
  const ignore = () => undefined;
  const splitter = new JsonSplitter(
    {
      verbatim: ignore,
      unit: ignore,
      longStringStart: ignore,
      longStringChunk: ignore,
      longStringEnd: ignore,
      invalid: () => {
        bad = true;
      },
      rest: ignore,
    },
    { unitBytes: Number.MAX_SAFE_INTEGER, blockBytes: Number.MAX_SAFE_INTEGER },
  );
  splitter.push(text);
  return !bad;
}
