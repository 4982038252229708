// One piece of content, whatever it is: a container (gzip, tar, zip) is opened and each member goes
// through here again, written back into a container of the same kind; anything else goes to the
// processor of its format. Failures of a member are reported and the member left out of the output
// archive; failures of a container itself (truncation, corruption, limits) fail the whole content.
import { basename } from 'node:path';
import type { SourceRef } from '../model.ts';
import { type ByteSink, nullSink } from '../sinks/byte-sink.ts';
import { gzipSink } from '../sinks/gzip.ts';
import { createSpool, type Spool } from '../sinks/spool.ts';
import { createTarWriter, type TarHeader } from '../sinks/tar.ts';
import { createZipWriter } from '../sinks/zip.ts';
import { readFileReusing } from '../sources/files.ts';
import { gunzip } from '../sources/gzip.ts';
import { type ExpansionBudget, LimitError, RatioGuard, type ScanLimits } from '../sources/limits.ts';
import { peek } from '../sources/peek.ts';
import { detectContainer, detectUnsupported, innerName, SNIFF_BYTES } from '../sources/sniff.ts';
import { readTar } from '../sources/tar.ts';
import { readZip, readZipStream, type ZipMember } from '../sources/zip.ts';
import { ProcessingError } from '../util/errors.ts';
import type { Executor } from './executor.ts';
import type { Sizes } from './format-context.ts';
import { detectFormat, formatProcessor, type InputFormat } from './formats.ts';
import type { JobResult } from './jobs.ts';
import { lineProcessor, readLinesInPlace } from './lines.ts';
import { maskName } from './names.ts';
import { OrderedOutput, type Window } from './ordered-output.ts';

/** Where content comes from, as findings and messages name it. */
export interface Where {
  kind: 'file' | 'stdin';
  name: string;
  /** Path inside archives; nested archives joined with `!/` (`inner.zip!/logs/app.log`). */
  member?: string;
}

export interface ContentRun {
  executor: Executor;
  sizes: Sizes;
  inputFormat: InputFormat;
  limits: ScanLimits;
  tempDir: string;
  spoolMemoryBytes: number;
  /** Jobs (and their input bytes) in flight per content. */
  window: Window;
  /** Findings of a result, in output order. */
  onResult(r: JobResult): Promise<void>;
  failure(where: Where, err: unknown): void;
  note(where: Where, message: string): void;
  counted: { files: number; archives: number; bytesScanned: number };
}

export interface ContentNode {
  where: Where;
  /** The name format detection looks at (a member's base name, `x.log` for `x.log.gz`). */
  leafName: string;
  /** Containers around this content (gzip layers count). */
  depth: number;
  budget: ExpansionBudget;
  /**
   * This content is exactly a file on disk: it is then read in place (a zip, text, JSONL, JSON, HAR). `reading`
   * counts what is read in place (progress); `counted()`: what the stream counted before it was closed.
   */
  file?: { path: string; size: number; reading?: { counted(): number; add(n: number): void } };
}

const NOTES_PER_CONTENT = 20;
/** Reads of a JSON or HAR file read in place. */
const READ_BYTES = 1024 * 1024;

export async function processContent(
  run: ContentRun,
  node: ContentNode,
  input: AsyncIterable<Uint8Array>,
  out: ByteSink,
): Promise<void> {
  const { head, stream } = await peek(input, SNIFF_BYTES);
  const container = detectContainer(head);
  if (container !== 'none') {
    if (node.depth >= run.limits.maxArchiveDepth) {
      await close(stream);
      throw new LimitError(
        'ERR_LIMIT_DEPTH',
        `archives nested more than ${run.limits.maxArchiveDepth} deep (possible zip bomb; raise limits.maxArchiveDepth if it is genuine)`,
        false,
      );
    }
    run.counted.archives++;
  }
  switch (container) {
    case 'gzip':
      return gzipContent(run, node, stream, out);
    case 'tar':
      return tarContent(run, node, stream, out);
    case 'zip':
      return zipContent(run, node, stream, out);
    case 'none':
      break;
  }
  const unsupported = detectUnsupported(head);
  if (unsupported !== undefined) {
    run.note(
      node.where,
      `${unsupported} compression is not supported: scanned as raw bytes (decompress it first)`,
    );
  }
  run.counted.files++;
  await leafContent(run, node, stream, out, detectFormat(head, node.leafName, run.inputFormat));
}

async function leafContent(
  run: ContentRun,
  node: ContentNode,
  stream: AsyncIterable<Uint8Array>,
  out: ByteSink,
  format: ReturnType<typeof detectFormat>,
): Promise<void> {
  const seen = new Set<string>();
  const note = (message: string) => {
    if (seen.has(message) || seen.size >= NOTES_PER_CONTENT) return;
    seen.add(message);
    run.note(node.where, message);
  };
  const output = new OrderedOutput(
    out,
    (r) => {
      for (const n of r.notes) note(n);
      return run.onResult(r);
    },
    run.window,
  );
  const source: SourceRef = { kind: node.where.kind, name: node.where.name };
  if (node.where.member !== undefined) source.member = node.where.member;
  const ctx = { executor: run.executor, output, source, sizes: run.sizes, note };
  try {
    if (node.file !== undefined && (format === 'text' || format === 'jsonl')) {
      // Read in place, a block per read, no copies (lines.ts); the stream only served the peek.
      await close(stream);
      await readLinesInPlace(lineProcessor(ctx, format), run.sizes.blockBytes, node.file, (n) => {
        run.counted.bytesScanned += n;
      });
    } else if (node.file !== undefined) {
      // JSON and HAR: the file read again in place into two reused buffers (the JSON processor copies
      // whatever it keeps), not a new buffer per read; the stream only served the peek.
      await close(stream);
      const processor = formatProcessor(format, ctx);
      const reading = node.file.reading;
      let reported = reading?.counted() ?? 0;
      let consumed = 0;
      await readFileReusing(node.file.path, READ_BYTES, async (chunk) => {
        consumed += chunk.length;
        run.counted.bytesScanned += chunk.length;
        if (reading !== undefined && consumed > reported) {
          reading.add(consumed - reported);
          reported = consumed;
        }
        await processor.push(chunk);
      });
      await processor.end();
    } else {
      const processor = formatProcessor(format, ctx);
      for await (const chunk of stream) {
        run.counted.bytesScanned += chunk.length;
        await processor.push(chunk);
      }
      await processor.end();
    }
    await output.finish();
  } catch (err) {
    await output.abandon();
    throw err;
  }
}

async function gzipContent(
  run: ContentRun,
  node: ContentNode,
  stream: AsyncIterable<Uint8Array>,
  out: ByteSink,
) {
  const inner = gunzip(stream, new RatioGuard(node.budget, describe(node.where)));
  const sink = out.discard ? out : gzipSink(out);
  const { file: _file, ...rest } = node;
  await processContent(
    run,
    { ...rest, leafName: innerName(node.leafName), depth: node.depth + 1 },
    inner,
    sink,
  );
  if (!out.discard) await sink.end();
}

async function tarContent(
  run: ContentRun,
  node: ContentNode,
  stream: AsyncIterable<Uint8Array>,
  out: ByteSink,
) {
  const writer = out.discard ? undefined : createTarWriter(out);
  let count = 0;
  await readTar(stream, async (header, body, archive) => {
    if (++count > run.limits.maxArchiveEntries) {
      throw new LimitError(
        'ERR_LIMIT_ENTRIES',
        `more than ${run.limits.maxArchiveEntries} members (raise limits.maxArchiveEntries if it is genuine)`,
        false,
      );
    }
    const where = memberOf(node.where, header.name);
    const safe = isSafeMemberName(header.name);
    if (header.type !== 'file' && header.type !== 'contiguous-file' && header.type !== undefined) {
      if (writer === undefined) return;
      if (!safe) run.failure(where, unsafeMember(header.name));
      else await writer.addEntry(maskedHeader(header));
      return;
    }
    const keep = writer
      ? async (spool: Spool) => {
          if (!safe) throw unsafeMember(header.name);
          await writer.addFile(maskedHeader(header), spool);
        }
      : undefined;
    await member(run, node, where, header.name, body, archive, keep);
  });
  await writer?.finish();
}

async function zipContent(
  run: ContentRun,
  node: ContentNode,
  stream: AsyncIterable<Uint8Array>,
  out: ByteSink,
) {
  const writer = out.discard ? undefined : createZipWriter(out);
  const onMember = async (m: ZipMember, archive: { readonly broken: boolean }) => {
    const where = memberOf(node.where, m.name);
    const safe = isSafeMemberName(m.name);
    if (m.directory) {
      if (writer === undefined) return;
      if (!safe) run.failure(where, unsafeMember(m.name));
      else
        writer.addDirectory(maskName(m.name), {
          mtime: m.mtime,
          ...(m.mode !== undefined ? { mode: m.mode } : {}),
        });
      return;
    }
    const keep = writer
      ? async (spool: Spool) => {
          if (!safe) throw unsafeMember(m.name);
          await writer.addFile(maskName(m.name), spool, {
            mtime: m.mtime,
            compress: m.compressionMethod === 8,
            ...(m.mode !== undefined ? { mode: m.mode } : {}),
          });
        }
      : undefined;
    await member(run, node, where, m.name, m.open(), archive, keep);
  };
  if (node.file !== undefined) {
    await close(stream);
    await readZip(node.file.path, node.file.size, node.budget, describe(node.where), onMember);
  } else {
    await readZipStream(stream, run.tempDir, node.budget, describe(node.where), onMember);
  }
  await writer?.finish();
}

/**
 * Scans one archive member. With an output archive (`keep`), the member's output is spooled and handed
 * to `keep` once complete; a member that fails is reported and never reaches the archive.
 */
async function member(
  run: ContentRun,
  node: ContentNode,
  where: Where,
  name: string,
  body: AsyncIterable<Uint8Array>,
  archive: { readonly broken: boolean },
  keep: ((spool: Spool) => Promise<void>) | undefined,
): Promise<void> {
  const spool = keep ? createSpool(run.tempDir, run.spoolMemoryBytes) : undefined;
  try {
    const child = { where, leafName: basename(name), depth: node.depth + 1, budget: node.budget };
    await processContent(run, child, body, spool ?? nullSink());
    if (spool && keep) {
      await spool.end();
      await keep(spool);
    }
  } catch (err) {
    // The archive itself failing, or the input's total budget running out, ends the whole input.
    if (archive.broken || (err instanceof LimitError && err.wholeInput)) throw err;
    run.failure(where, err);
  } finally {
    await spool?.dispose();
  }
}

/** No absolute paths, drive letters or `..`: a name that would land outside the folder it is extracted to. */
export function isSafeMemberName(name: string): boolean {
  const n = name.replace(/\\/g, '/');
  if (n.length === 0 || n.startsWith('/') || /^[a-zA-Z]:/.test(n) || n.includes('\0')) return false;
  return !n.split('/').includes('..');
}

function unsafeMember(name: string): ProcessingError {
  return new ProcessingError(
    'ERR_UNSAFE_MEMBER',
    `archive member name ${JSON.stringify(maskName(name))} points outside the archive (absolute or ..); scanned but left out of the redacted archive`,
  );
}

/** Member and link names written to an output archive, tokens masked. */
function maskedHeader(header: TarHeader): TarHeader {
  const name = maskName(header.name);
  const linkname = header.linkname ? maskName(header.linkname) : header.linkname;
  if (name === header.name && linkname === header.linkname) return header;
  const { pax: _pax, ...rest } = header;
  return { ...rest, name, ...(linkname ? { linkname } : {}) };
}

function memberOf(where: Where, name: string): Where {
  const safe = maskName(name);
  return { ...where, member: where.member === undefined ? safe : `${where.member}!/${safe}` };
}

function describe(where: Where): string {
  return where.member === undefined ? where.name : `${where.name}!/${where.member}`;
}

async function close(stream: AsyncIterable<Uint8Array>): Promise<void> {
  await stream[Symbol.asyncIterator]().return?.();
}
