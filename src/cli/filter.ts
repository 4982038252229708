// `jwt-redactor filter`: stdin -> stdout, line by line, for Vector, Fluent Bit, Logstash `pipe`
// or `kubectl logs -f | ...`. Complete lines are processed as soon as they arrive (no waiting
// for a buffer to fill); a line longer than max_record_bytes goes through the chunked redactor.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createFindingWriter, type FindingFormat, type FindingWriter } from '../findings/index.ts';
import type { AnyFinding, SourceRef } from '../model.ts';
import { type ChunkRedactor, engineFromConfig, type FullEngine } from '../pipeline/index.ts';
import { countNewlines } from '../util/lines.ts';
import { ENGINE_OPTIONS, engineConfig, FINDINGS_OPTIONS, resolveKey } from './common.ts';
import type { Io } from './io.ts';
import { type OptionSpec, resolveOptions } from './options.ts';
import { maxSeverityAtLeast } from './severity.ts';

export const FILTER_OPTIONS: readonly OptionSpec[] = [...ENGINE_OPTIONS, ...FINDINGS_OPTIONS];

/** Line filter core, independent of process streams. */
export class LineFilter {
  #engine: FullEngine;
  #pending: Uint8Array = new Uint8Array(0);
  #line = 1;
  #long: ChunkRedactor | null = null;
  #source: SourceRef;
  #onFinding: (f: AnyFinding) => void;

  constructor(engine: FullEngine, source: SourceRef, onFinding: (f: AnyFinding) => void) {
    this.#engine = engine;
    this.#source = source;
    this.#onFinding = onFinding;
  }

  async #block(block: Uint8Array): Promise<Uint8Array> {
    const r = await this.#engine.processText(block, { ...this.#source, line: this.#line });
    let out = r.output;
    let findings = r.findings;
    if ('failed' in r && countNewlines(block) > 1) {
      // Fail closed per line, not per block: one bad line must not mask its neighbours.
      const parts: Uint8Array[] = [];
      findings = [];
      let s = 0;
      let line = this.#line;
      while (s < block.length) {
        const nl = block.indexOf(0x0a, s);
        const e = nl === -1 ? block.length : nl + 1;
        const one = await this.#engine.processText(block.subarray(s, e), { ...this.#source, line });
        parts.push(one.output);
        findings = findings.concat(one.findings);
        line++;
        s = e;
      }
      out = Buffer.concat(parts);
    }
    for (const f of findings) this.#onFinding(f);
    this.#line += countNewlines(block);
    return out;
  }

  async push(chunk: Uint8Array): Promise<Uint8Array> {
    const outs: Uint8Array[] = [];
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = new Uint8Array(0);
    if (this.#long !== null) {
      const nl = data.indexOf(0x0a);
      const head = nl === -1 ? data : data.subarray(0, nl + 1);
      outs.push(await this.#long.push(head));
      if (nl === -1) return Buffer.concat(outs);
      outs.push(await this.#long.end());
      for (const f of this.#long.takeFindings()) this.#onFinding(f);
      this.#long = null;
      this.#line++;
      data = data.subarray(nl + 1);
    }
    const last = data.lastIndexOf(0x0a);
    if (last !== -1) {
      outs.push(await this.#block(data.subarray(0, last + 1)));
      data = data.subarray(last + 1);
    }
    if (data.length > this.#engine.policy.limits.maxRecordBytes) {
      this.#long = this.#engine.createChunkRedactor({ ...this.#source, line: this.#line });
      outs.push(await this.#long.push(data));
      for (const f of this.#long.takeFindings()) this.#onFinding(f);
    } else this.#pending = data.length > 0 ? Uint8Array.from(data) : new Uint8Array(0);
    return outs.length === 1 ? outs[0]! : Buffer.concat(outs);
  }

  async end(): Promise<Uint8Array> {
    if (this.#long !== null) {
      const out = await this.#long.end();
      for (const f of this.#long.takeFindings()) this.#onFinding(f);
      this.#long = null;
      return out;
    }
    if (this.#pending.length === 0) return new Uint8Array(0);
    const out = await this.#block(this.#pending);
    this.#pending = new Uint8Array(0);
    return out;
  }
}

export async function openFindingWriter(
  target: string | undefined,
  format: FindingFormat,
  io: Io,
): Promise<FindingWriter | null> {
  if (target === undefined) return null;
  if (target === '-') return createFindingWriter(format, io.stdout);
  const stream = createWriteStream(target, { flags: 'w', mode: 0o600 });
  await once(stream, 'open');
  return createFindingWriter(format, stream, { close: true });
}

async function write(stream: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  if (data.length === 0) return;
  if (!stream.write(data)) await once(stream, 'drain');
}

export async function runFilter(argv: readonly string[], io: Io): Promise<number> {
  const { values } = resolveOptions(FILTER_OPTIONS, argv, io.env);
  const key = resolveKey(values, false);
  if (key.ephemeral) {
    io.stderr.write(
      'jwt-redactor: warning: no fingerprint key (--key-file or JWT_REDACTOR_KEY): using a random key for this run; fingerprints will not match other runs\n',
    );
  }
  const engine = await engineFromConfig(engineConfig(values, key));
  const format = values.format as FindingFormat;
  const writer = await openFindingWriter(values.findings as string | undefined, format, io);
  const failOn = values['fail-on'] as string | undefined;
  let gate = false;
  // A findings sink that is full: waited for after each chunk, so a slow reader of the findings holds
  // up reading stdin instead of letting them pile up in memory.
  let full: Promise<void> | undefined;
  const filter = new LineFilter(engine, { kind: 'stdin', name: 'stdin' }, (f) => {
    full = writer?.write(f) ?? full;
    if (failOn !== undefined && maxSeverityAtLeast(f.severity, failOn)) gate = true;
  });
  for await (const chunk of io.stdin) {
    await write(
      io.stdout,
      await filter.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array)),
    );
    if (full !== undefined) {
      await full;
      full = undefined;
    }
  }
  await write(io.stdout, await filter.end());
  await writer?.end();
  return gate ? 1 : 0;
}
