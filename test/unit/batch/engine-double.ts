// A small stand-in for the engine (src/pipeline), for testing the batch side on its own: it finds
// compact-JWT-shaped text (`eyJ<..>.eyJ<..>.<..>`) and replaces each with `jwt-redacted-<8 hex>`
// (shorter than a token: sizes change, as with the real engine). Findings carry line or pointer the
// way the real engine's do. Loadable in a worker through `createEngineDouble`.
import { createHash } from 'node:crypto';
import type { AnyFinding, Finding, JsonValue, SourceRef } from '../../../src/model.ts';
import type { ChunkRedactor, Engine, RecordResult } from '../../../src/pipeline/types.ts';

const TOKEN = /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const TOKENISH = /[A-Za-z0-9_.-]/;

export function placeholderFor(token: string): string {
  return `jwt-redacted-${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
}

/** The finding the double reports for `token` at `source`. */
export function doubleFinding(token: string, source: SourceRef): Finding {
  return {
    schema: 'jwt-redactor/finding@1',
    id: createHash('sha256')
      .update(token + JSON.stringify(source))
      .digest('hex')
      .slice(0, 16),
    time: '2024-01-01T00:00:00.000Z',
    rule: 'double-jwt',
    severity: 'high',
    source,
    token: {
      kind: 'jws',
      serialization: 'compact',
      encoding: [],
      context: 'text',
      nested: false,
      fingerprint: placeholderFor(token),
      length: token.length,
    },
    header: {},
    claims: {},
    classification: { identity: 'unknown', token_type: 'unknown', claims: {} },
    status: {},
    risks: [],
    frameworks: [],
    action: 'mask',
  };
}

function lineAt(text: string, offset: number, base: number): number {
  let line = base;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function redactText(input: Uint8Array, locate: (token: string, offset: number) => SourceRef): RecordResult {
  const text = Buffer.from(input).toString('latin1');
  const findings: AnyFinding[] = [];
  const out = text.replace(TOKEN, (token, offset: number) => {
    findings.push(doubleFinding(token, locate(token, offset)));
    return placeholderFor(token);
  });
  if (findings.length === 0) return { output: input, findings, changed: false };
  return { output: Buffer.from(out, 'latin1'), findings, changed: true };
}

function pointers(value: JsonValue, prefix: string, out: Map<string, string>): void {
  if (typeof value === 'string') {
    for (const m of value.matchAll(TOKEN)) if (!out.has(m[0])) out.set(m[0], prefix);
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) pointers(v, `${prefix}/${i}`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value))
      pointers(v, `${prefix}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  }
}

export function processTextSync(input: Uint8Array, source: SourceRef): RecordResult {
  const text = Buffer.from(input).toString('latin1');
  return redactText(input, (_t, offset) => ({
    ...source,
    line: lineAt(text, offset, source.line ?? 1),
  }));
}

function processJsonSync(input: Uint8Array, source: SourceRef): RecordResult {
  let doc: JsonValue;
  try {
    doc = JSON.parse(Buffer.from(input).toString('utf8')) as JsonValue;
  } catch {
    // Like the real engine: not JSON after all, so findings get lines instead of pointers.
    return processTextSync(input, source);
  }
  const where = new Map<string, string>();
  pointers(doc, '', where);
  return redactText(input, (token) => ({
    ...source,
    pointer: (source.pointer ?? '') + (where.get(token) ?? ''),
  }));
}

export interface DoubleOptions {
  /** Calls are recorded here (per engine). */
  calls?: string[];
}

export function createEngineDouble(options: DoubleOptions = {}): Engine {
  const calls = options.calls;
  return {
    async processText(input, source) {
      calls?.push('text');
      return processTextSync(input, source);
    },
    async processJson(input, source) {
      calls?.push('json');
      return processJsonSync(input, source);
    },
    async processLines(input, source) {
      calls?.push('lines');
      const buf = Buffer.from(input);
      const findings: RecordResult['findings'] = [];
      const parts: Uint8Array[] = [];
      let changed = false;
      let start = 0;
      let line = source.line ?? 1;
      while (start <= buf.length) {
        const nl = buf.indexOf(0x0a, start);
        const end = nl < 0 ? buf.length : nl;
        const one = buf.subarray(start, end);
        const r =
          one.length > 0 && one[0] === 0x7b
            ? processJsonSync(one, { ...source, line })
            : processTextSync(one, { ...source, line });
        findings.push(...r.findings);
        changed ||= r.changed;
        parts.push(r.output);
        if (nl < 0) break;
        parts.push(buf.subarray(nl, nl + 1));
        start = nl + 1;
        line++;
      }
      return { output: changed ? Buffer.concat(parts) : input, findings, changed };
    },
    async processRecord(input, source) {
      calls?.push('record');
      try {
        return processJsonSync(input, source);
      } catch {
        return processTextSync(input, source);
      }
    },
    createChunkRedactor(source): ChunkRedactor {
      calls?.push('chunk');
      let pending = '';
      let line = source.line ?? 1;
      let findings: AnyFinding[] = [];
      const run = (final: boolean): Uint8Array => {
        // Hold back a trailing run of token characters: a token may continue in the next chunk.
        let cut = pending.length;
        if (!final) while (cut > 0 && TOKENISH.test(pending[cut - 1]!)) cut--;
        const head = pending.slice(0, cut);
        pending = pending.slice(cut);
        const r = redactText(Buffer.from(head, 'latin1'), (_t, offset) => ({
          ...source,
          line: lineAt(head, offset, line),
        }));
        for (let i = head.indexOf('\n'); i !== -1; i = head.indexOf('\n', i + 1)) line++;
        findings = findings.concat(r.findings);
        return r.output;
      };
      return {
        async push(chunk) {
          pending += Buffer.from(chunk).toString('latin1');
          return run(false);
        },
        async end() {
          return run(true);
        },
        takeFindings() {
          const f = findings;
          findings = [];
          return f;
        },
      };
    },
  };
}

/** A compact-JWT-shaped string (not a real credential: the signature is random bytes). */
export function fakeToken(claims: Record<string, unknown> = { sub: 'user-1' }, sigBytes = 32): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const sig = createHash('sha256')
    .update(JSON.stringify(claims))
    .digest()
    .subarray(0, sigBytes)
    .toString('base64url');
  return `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify(claims))}.${sig}`;
}
