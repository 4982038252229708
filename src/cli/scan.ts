// `jwt-redactor scan`: files, folders, archives, HAR, huge JSON and stdin, in batch.
import { exitCodeFor, runScan } from '../batch/index.ts';
import type { FindingFormat } from '../findings/index.ts';
import type { Severity } from '../model.ts';
import { engineFromConfig } from '../pipeline/index.ts';
import { ENGINE_OPTIONS, engineConfig, FINDINGS_OPTIONS, resolveKey } from './common.ts';
import { openFindingWriter } from './filter.ts';
import type { Io } from './io.ts';
import { type OptionSpec, resolveOptions } from './options.ts';

export const SCAN_OPTIONS: readonly OptionSpec[] = [
  ...ENGINE_OPTIONS,
  ...FINDINGS_OPTIONS,
  { name: 'out', type: 'string', help: 'the redacted copy of the one input: a file, or - for stdout' },
  { name: 'out-dir', type: 'string', help: 'redacted copies of every input, mirroring the input tree' },
  {
    name: 'input-format',
    type: 'string',
    choices: ['auto', 'text', 'jsonl', 'json', 'har'],
    default: 'auto',
    help: 'how non-archive content is read',
  },
  {
    name: 'progress',
    type: 'boolean',
    default: true,
    help: 'progress line on a terminal (--no-progress: none)',
  },
  {
    name: 'workers',
    type: 'number',
    help: 'threads running the engine, the main thread included (default: cores, at most 8; 1: no worker thread)',
  },
  {
    name: 'follow-symlinks',
    type: 'boolean',
    default: false,
    help: 'follow symlinks found inside input folders',
  },
  {
    name: 'max-compression-ratio',
    type: 'number',
    help: 'largest decompressed/compressed ratio (default 200)',
  },
  {
    name: 'max-expanded-bytes',
    type: 'number',
    help: 'most bytes decompressed from one input (default 16 GiB)',
  },
  {
    name: 'max-archive-depth',
    type: 'number',
    help: 'deepest nesting of archives and gzip layers (default 8)',
  },
  { name: 'max-archive-entries', type: 'number', help: 'most members in one archive (default 100000)' },
  { name: 'temp-dir', type: 'string', help: 'where archive members and zips read from streams are spooled' },
];

export async function runScanCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values: v, positionals } = resolveOptions(SCAN_OPTIONS, argv, io.env);
  const key = resolveKey(v, false);
  if (key.ephemeral) {
    io.stderr.write(
      'jwt-redactor: warning: no fingerprint key (--key-file or JWT_REDACTOR_KEY): using a random key for this run; fingerprints will not match other runs\n',
    );
  }
  const config = engineConfig(v, key);
  // Built here first: a bad policy or rule file stops the run before any input is read (exit 2).
  const engine = await engineFromConfig(config);
  const writer = await openFindingWriter(v.findings as string | undefined, v.format as FindingFormat, io);
  const num = (name: string) => (v[name] === undefined ? {} : { [name]: v[name] as number });
  const limits = {
    ...renameKeys(num('max-compression-ratio'), 'maxCompressionRatio'),
    ...renameKeys(num('max-expanded-bytes'), 'maxExpandedBytes'),
    ...renameKeys(num('max-archive-depth'), 'maxArchiveDepth'),
    ...renameKeys(num('max-archive-entries'), 'maxArchiveEntries'),
  };
  const workers = v.workers as number | undefined;
  const report = await runScan(
    {
      inputs: positionals,
      ...(v.out !== undefined ? { out: v.out as string } : {}),
      ...(v['out-dir'] !== undefined ? { outDir: v['out-dir'] as string } : {}),
      inputFormat: v['input-format'] as 'auto',
      ...(v['fail-on'] !== undefined ? { failOn: v['fail-on'] as Severity } : {}),
      progress: v.progress === true,
      followSymlinks: v['follow-symlinks'] === true,
      ...(v['temp-dir'] !== undefined ? { tempDir: v['temp-dir'] as string } : {}),
      limits,
      ...(workers !== undefined ? { workers } : {}),
      // Workers build their own engine from the same plain configuration, key included (R3).
      engineFactory: {
        module: new URL('../pipeline/index.ts', import.meta.url).href,
        exportName: 'engineFromConfig',
        options: config,
      },
      recordBytes: engine.policy.limits.maxRecordBytes,
    },
    {
      engine,
      // Without --findings, findings are only counted (the summary): workers send less (FindingSink).
      findings: writer ? { write: (f) => writer.write(f) } : { write: () => undefined, countOnly: true },
      stderr: io.stderr as NodeJS.WritableStream & { columns?: number },
      isTTY: io.isTTY,
      stdin: io.stdin as AsyncIterable<Uint8Array>,
      stdout: io.stdout,
    },
  );
  await writer?.end();
  return exitCodeFor(report);
}

function renameKeys(o: Record<string, number>, to: string): Record<string, number> {
  const v = Object.values(o)[0];
  return v === undefined ? {} : { [to]: v };
}
