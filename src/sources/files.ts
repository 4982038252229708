// Input discovery: the paths on the command line, folders walked recursively, stdin.
// Symlinks inside folders are not followed by default: a support bundle from someone else can hold a
// link to /etc or ~/.ssh, and following it would copy that file, redacted or not, into the output.
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

export interface PlannedInput {
  kind: 'file' | 'stdin';
  /** File-system path; '-' for stdin. */
  path: string;
  /** What findings and messages call it: the path as the user typed it (plus the path inside a folder). */
  name: string;
  /** Relative output path segments under --out-dir. */
  outSegments: string[];
  /** Size in bytes when known (regular files). */
  size: number | undefined;
  /** Permission bits to give the redacted copy. */
  mode: number;
}

export interface PlanIssue {
  name: string;
  code: string;
  reason: string;
}

export interface InputPlan {
  inputs: PlannedInput[];
  /** Inputs that cannot be read at all (missing, unreadable folder). */
  failures: PlanIssue[];
  /** Deliberately left out (symlinks, sockets, the output directory itself). */
  skipped: PlanIssue[];
}

export interface PlanOptions {
  /** Real paths never to descend into (the output directory when it lies inside an input folder). */
  exclude?: readonly string[];
  /** Follow symlinks found inside folders (cycles are detected). Links named on the command line are always followed. */
  followSymlinks?: boolean;
}

export async function planInputs(paths: readonly string[], options: PlanOptions = {}): Promise<InputPlan> {
  const plan: InputPlan = { inputs: [], failures: [], skipped: [] };
  const exclude = new Set(options.exclude ?? []);
  const list = paths.length === 0 ? ['-'] : paths;
  for (const arg of list) {
    if (arg === '-') {
      plan.inputs.push({
        kind: 'stdin',
        path: '-',
        name: '-',
        outSegments: ['stdin'],
        size: undefined,
        mode: 0o644,
      });
      continue;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(arg);
    } catch (err) {
      plan.failures.push({ name: arg, code: errnoCode(err), reason: describeFsError(err, arg) });
      continue;
    }
    const top = rootName(arg);
    if (info.isDirectory()) {
      const real = await realpath(arg);
      if (exclude.has(real)) {
        plan.skipped.push({ name: arg, code: 'SKIP_OUTPUT_DIR', reason: 'is the output directory' });
        continue;
      }
      await walk(arg, [top], new Set([real]), plan, exclude, options.followSymlinks === true);
    } else if (info.isFile() || info.isFIFO() || info.isCharacterDevice()) {
      plan.inputs.push({
        kind: 'file',
        path: arg,
        name: arg,
        outSegments: [top],
        size: info.isFile() ? info.size : undefined,
        mode: info.mode & 0o777,
      });
    } else {
      plan.skipped.push({ name: arg, code: 'SKIP_SPECIAL', reason: 'is neither a file nor a folder' });
    }
  }
  return plan;
}

async function walk(
  dir: string,
  segments: string[],
  ancestors: Set<string>,
  plan: InputPlan,
  exclude: Set<string>,
  follow: boolean,
): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    plan.failures.push({ name: dir, code: errnoCode(err), reason: describeFsError(err, dir) });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const out = [...segments, entry.name];
    let info = await lstat(path).catch((err: unknown) => err as NodeJS.ErrnoException);
    if (info instanceof Error) {
      plan.failures.push({ name: path, code: errnoCode(info), reason: describeFsError(info, path) });
      continue;
    }
    if (info.isSymbolicLink()) {
      if (!follow) {
        plan.skipped.push({
          name: path,
          code: 'SKIP_SYMLINK',
          reason: 'is a symlink (not followed; see followSymlinks)',
        });
        continue;
      }
      info = await stat(path).catch((err: unknown) => err as NodeJS.ErrnoException);
      if (info instanceof Error) {
        plan.failures.push({ name: path, code: errnoCode(info), reason: describeFsError(info, path) });
        continue;
      }
    }
    if (info.isDirectory()) {
      const real = await realpath(path);
      if (exclude.has(real)) {
        plan.skipped.push({ name: path, code: 'SKIP_OUTPUT_DIR', reason: 'is the output directory' });
        continue;
      }
      if (ancestors.has(real)) {
        plan.skipped.push({ name: path, code: 'SKIP_CYCLE', reason: 'links back to a folder above it' });
        continue;
      }
      await walk(path, out, new Set([...ancestors, real]), plan, exclude, follow);
    } else if (info.isFile()) {
      plan.inputs.push({
        kind: 'file',
        path,
        name: path,
        outSegments: out,
        size: info.size,
        mode: info.mode & 0o777,
      });
    } else {
      plan.skipped.push({ name: path, code: 'SKIP_SPECIAL', reason: 'is a socket, device or fifo' });
    }
  }
}

/** The output name of a command-line input: its base name (`/` becomes `root`). */
function rootName(arg: string): string {
  return basename(resolve(arg)) || 'root';
}

export function errnoCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT'
    ? 'ERR_NOT_FOUND'
    : code === 'EACCES' || code === 'EPERM'
      ? 'ERR_UNREADABLE'
      : 'ERR_READ';
}

export function describeFsError(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `${path} does not exist`;
  if (code === 'EACCES' || code === 'EPERM')
    return `${path} is not readable (permission denied); check its permissions`;
  if (code === 'EISDIR') return `${path} is a folder`;
  return `${path}: ${(err as Error)?.message ?? String(err)}`;
}

/** A file as a stream of chunks; `onBytes` sees every chunk's length (progress). */
export async function* readFileChunks(
  path: string,
  onBytes?: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      onBytes?.(chunk.length);
      yield chunk;
    }
  } finally {
    stream.destroy();
  }
}

/** Any readable (stdin) as chunks, counted. */
export async function* readStreamChunks(
  stream: AsyncIterable<Uint8Array | string>,
  onBytes?: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    onBytes?.(bytes.length);
    yield bytes;
  }
}

/**
 * A file read front to back in chunks of `chunkBytes` into two buffers used in turn (the next chunk
 * is read while `consume` works on this one): `consume` must be done with a chunk when its promise
 * settles, since its buffer is then read into again. Nothing is allocated per chunk. Resolves with
 * the number of bytes read.
 */
export async function readFileReusing(
  path: string,
  chunkBytes: number,
  consume: (chunk: Uint8Array) => Promise<void>,
): Promise<number> {
  const handle = await open(path, 'r');
  const buffers = [Buffer.allocUnsafeSlow(chunkBytes), Buffer.allocUnsafeSlow(chunkBytes)];
  let pos = 0;
  let turn = 0;
  const readInto = (buf: Buffer, at: number) => handle.read(buf, 0, chunkBytes, at);
  let ahead: Promise<{ bytesRead: number }> | undefined = readInto(buffers[0]!, 0);
  try {
    for (;;) {
      const buf = buffers[turn]!;
      const { bytesRead } = await ahead!;
      ahead = undefined;
      if (bytesRead === 0) break;
      pos += bytesRead;
      turn ^= 1;
      if (bytesRead === chunkBytes) ahead = readInto(buffers[turn]!, pos);
      await consume(buf.subarray(0, bytesRead));
      if (bytesRead < chunkBytes) break;
    }
    return pos;
  } finally {
    await ahead?.catch(() => undefined);
    await handle.close();
  }
}
