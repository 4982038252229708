// The node flags the command line starts with: the first line of bin/jwt-redactor.js
// (`#!/usr/bin/env -S node ...`). The benchmarks run under them, so that they measure the product as
// its executable runs it (the flags decide, among others, the size of V8's young generation).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const CLI_NODE_FLAGS: readonly string[] = readFileSync(
  new URL('../../bin/jwt-redactor.js', import.meta.url),
  'utf8',
)
  .split('\n', 1)[0]!
  .replace(/^#!\/usr\/bin\/env -S node/, '')
  .split(/\s+/)
  .filter((f) => f.startsWith('--'));

/**
 * When this process was not started with every one of the CLI's node flags, runs `script` again
 * under them (same arguments, same terminal) and exits with its status; else returns.
 */
export function rerunWithCliFlags(script: string): void {
  if (CLI_NODE_FLAGS.every((f) => process.execArgv.includes(f))) return;
  const r = spawnSync(
    process.execPath,
    [...CLI_NODE_FLAGS, ...process.execArgv, script, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(r.status ?? 1);
}
