// Shared by the batch tests: a temp folder per test, a scan with the engine double, collected findings.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach } from 'vitest';
import { type Executor, runScan, type ScanOptions, type ScanReport } from '../../../src/batch/index.ts';
import type { AnyFinding, Finding } from '../../../src/model.ts';
import type { Engine } from '../../../src/pipeline/types.ts';
import { createEngineDouble } from './engine-double.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'jr-batch-test-'));
  dirs.push(d);
  return d;
}

export interface ScanRun {
  report: ScanReport;
  findings: AnyFinding[];
  tokens: Finding[];
  stderr: string;
}

export async function scan(
  options: ScanOptions,
  extra: {
    engine?: Engine;
    executor?: Executor;
    isTTY?: boolean;
    stdin?: AsyncIterable<Uint8Array>;
    columns?: number;
  } = {},
): Promise<ScanRun> {
  const findings: AnyFinding[] = [];
  let stderr = '';
  const report = await runScan(options, {
    engine: extra.engine ?? (options.engineFactory ? undefined : createEngineDouble()),
    findings: { write: (f) => void findings.push(f) },
    stderr: { write: (s: string) => (stderr += s), columns: extra.columns ?? 100 },
    isTTY: extra.isTTY ?? false,
    ...(extra.stdin ? { stdin: extra.stdin } : {}),
    ...(extra.executor ? { executor: extra.executor } : {}),
  });
  const tokens = findings.filter((f): f is Finding => 'token' in f);
  return { report, findings, tokens, stderr };
}

/**
 * A scan of `input` from stdin, cut into `chunk`-byte pieces, to stdout, with the engine double:
 * the output bytes, the findings and the report.
 */
export async function scanStdin(
  input: Buffer,
  chunk: number,
  options: Partial<ScanOptions>,
): Promise<{ output: Buffer; findings: AnyFinding[]; report: ScanReport }> {
  const out: Buffer[] = [];
  const findings: AnyFinding[] = [];
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) chunks.push(input.subarray(i, i + chunk));
  const report = await runScan(
    { inputs: ['-'], out: '-', ...options },
    {
      engine: createEngineDouble(),
      findings: { write: (f) => void findings.push(f) },
      stderr: { write: () => true },
      isTTY: false,
      stdin: Readable.from(chunks),
      stdout: new Writable({
        write(c, _e, cb) {
          out.push(c);
          cb();
        },
      }),
    },
  );
  return { output: Buffer.concat(out), findings, report };
}

export const ENGINE_DOUBLE_URL = new URL('./engine-double.ts', import.meta.url).href;
