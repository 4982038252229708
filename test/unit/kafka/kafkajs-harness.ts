// Shared by the tests of the kafkajs replacements (src/kafka/kafkajs-*.ts): kafkajs' own modules
// loaded fresh from their files (whatever the require cache holds), and fresh Node processes in
// which client.ts, or kafkajs itself, is loaded first.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
export const kafkajsRoot = dirname(require.resolve('kafkajs/package.json'));

/** Path of a file of the installed kafkajs. */
export function kafkajsPath(...parts: string[]): string {
  return join(kafkajsRoot, ...parts);
}

/** A kafkajs module's exports, compiled from its file: kafkajs' own code even where it is replaced. */
export function kafkajsOwn<T>(path: string): T {
  const m = new Module(path) as Module & { _compile(source: string, filename: string): void };
  m.filename = path;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
    dirname(path),
  );
  m._compile(readFileSync(path, 'utf8'), path);
  return m.exports as T;
}

/** An import statement for a module of src/kafka (as a file URL). */
export function importOf(file: string): string {
  return `import ${JSON.stringify(new URL(`../../../src/kafka/${file}`, import.meta.url).href)};`;
}

/** Loads client.ts first: the replacements are installed before kafkajs loads anything. */
export const CLIENT_FIRST = importOf('client.ts');

/** Loads a kafkajs module (path inside kafkajs) first: the replacements bound to it come too late. */
export function kafkajsFirst(path: string): string {
  return `import { createRequire as early } from 'node:module'; early(${JSON.stringify(kafkajsPath('index.js'))})(${JSON.stringify(path)});`;
}

/**
 * Runs `first`, then `body` (an ES module body with `require` resolving from kafkajs' root and
 * `load(file)` importing a module of src/kafka) in a fresh Node process; returns what the body
 * wrote to stdout, parsed as JSON.
 */
export function inFreshProcess<T>(first: string, body: string, env: NodeJS.ProcessEnv = process.env): T {
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `${first}
       import { createRequire } from 'node:module';
       const require = createRequire(${JSON.stringify(kafkajsPath('index.js'))});
       const load = (file) => import(new URL(file, ${JSON.stringify(new URL('../../../src/kafka/', import.meta.url).href)}).href);
       ${body}`,
    ],
    { encoding: 'utf8', env },
  );
  return JSON.parse(out) as T;
}
