// Names that reach outputs (file and member names in findings and summaries, output paths and
// archive member names, JSON pointers built from object keys) can hold a token themselves: a browser
// cache dump names files after URLs with `access_token=` in them. R1 holds for names too: every
// token (or base64 of one) in a name becomes `JWTR~masked`, as the engine does for JSON keys.
import { scan } from '../detection/index.ts';
import { MASKED_RUN } from '../redaction/index.ts';

export function maskName(name: string): string {
  // Cheap exit: a token needs a dot or a long base64 run; short names have neither.
  if (name.length < 16) return name;
  const bytes = Buffer.from(name, 'utf8');
  const items = scan(bytes).items.filter((it) => it.type !== 'sanitized');
  if (items.length === 0) return name;
  let out = '';
  let at = 0;
  for (const it of items) {
    out += bytes.toString('utf8', at, it.start) + MASKED_RUN;
    at = it.end;
  }
  return out + bytes.toString('utf8', at);
}
