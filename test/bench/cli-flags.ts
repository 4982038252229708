// How the command line starts Node: the first line of bin/jwt-redactor.js
// (`#!/usr/bin/env -S NAME=VALUE... node --flag...`), its environment settings and its node flags. The
// benchmarks run under both, so that they measure the product as its executable runs it (the flags
// decide, among others, the size of V8's young generation; the environment, how malloc hands large
// buffers back).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const settings = readFileSync(new URL('../../bin/jwt-redactor.js', import.meta.url), 'utf8')
  .split('\n', 1)[0]!
  .replace(/^#!\/usr\/bin\/env -S /, '')
  .split(/\s+/);

const nodeAt = settings.indexOf('node');

/** The environment settings before `node` (NAME=VALUE). */
export const CLI_NODE_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  settings.slice(0, nodeAt).map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)] as const),
);

/** The node flags. */
export const CLI_NODE_FLAGS: readonly string[] = settings.slice(nodeAt + 1).filter((f) => f.startsWith('--'));

/** This process's environment with the command line's settings over it: for a child run as the CLI runs. */
export const cliEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ...CLI_NODE_ENV });

/**
 * When this process was not started with every one of the CLI's node flags and environment settings,
 * runs `script` again under them (same arguments, same terminal) and exits with its status; else
 * returns.
 */
export function rerunWithCliFlags(script: string): void {
  const flagsSet = CLI_NODE_FLAGS.every((f) => process.execArgv.includes(f));
  const envSet = Object.entries(CLI_NODE_ENV).every(([k, v]) => process.env[k] === v);
  if (flagsSet && envSet) return;
  const r = spawnSync(
    process.execPath,
    [...CLI_NODE_FLAGS, ...process.execArgv, script, ...process.argv.slice(2)],
    { stdio: 'inherit', env: cliEnv() },
  );
  process.exit(r.status ?? 1);
}
