// Line-oriented content: plain text and JSONL. Complete lines are batched into jobs of about
// blockBytes (text: one processText call with the first line's number; JSONL: one processRecord call
// per line). A line longer than a block never sits in memory whole: text goes through a chunk
// redactor, a JSONL line through the streaming JSON processor, both with that line's number.

import { countNewlines } from '../util/lines.ts';
import type { StreamSession } from './executor.ts';
import type { FormatContext, FormatProcessor } from './format-context.ts';
import { jsonDocumentProcessor } from './json-document.ts';

const LF = 0x0a;

export function lineProcessor(ctx: FormatContext, mode: 'text' | 'jsonl'): FormatProcessor {
  const { executor, output, sizes } = ctx;
  let carry: Uint8Array = new Uint8Array(0);
  /** Number of the first line in `carry` (or of the long line being streamed). */
  let line = 1;
  let longText: StreamSession | undefined;
  let longJson: FormatProcessor | undefined;

  const submit = async (block: Uint8Array): Promise<void> => {
    await output.job(executor.run({ op: mode, bytes: block, source: { ...ctx.source, line } }));
    line += countNewlines(block);
  };

  const startLong = (): void => {
    if (mode === 'text') longText = executor.openStream({ ...ctx.source, line });
    else longJson = jsonDocumentProcessor(ctx, { har: false, line });
  };

  /** Feeds the long line from `buf[at]`; returns where the next line starts, or buf.length. */
  const feedLong = async (buf: Uint8Array, at: number): Promise<number> => {
    const nl = buf.indexOf(LF, at);
    const piece = buf.subarray(at, nl < 0 ? buf.length : nl + 1);
    if (longText) await output.job(longText.push(piece));
    else await longJson!.push(piece);
    if (nl < 0) return buf.length;
    if (longText) await output.job(longText.end());
    else await longJson!.end();
    longText = undefined;
    longJson = undefined;
    line++;
    return nl + 1;
  };

  return {
    async push(chunk) {
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let at = 0;
      while (at < buf.length) {
        if (longText || longJson) {
          at = await feedLong(buf, at);
          continue;
        }
        if (buf.length - at < sizes.blockBytes) break;
        const nl = buf.lastIndexOf(LF, at + sizes.blockBytes - 1);
        if (nl >= at) {
          await submit(buf.subarray(at, nl + 1));
          at = nl + 1;
        } else {
          startLong();
        }
      }
      carry = buf.subarray(at);
    },
    async end() {
      if (longText) await output.job(longText.end());
      else if (longJson) await longJson.end();
      else if (carry.length > 0) await submit(carry);
      carry = new Uint8Array(0);
    },
  };
}
