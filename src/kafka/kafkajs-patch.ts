// Shared by the kafkajs module replacements (kafkajs-header.ts, kafkajs-records.ts,
// kafkajs-producer.ts): where the installed kafkajs is, whether it is the version a replacement was
// made for, and how a module is put in the require cache in its place.
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';

/** The kafkajs version the replacements were made for (its internals are not an API). */
export const KAFKAJS_VERSION = '2.2.4';

export interface PatchState {
  applied: boolean;
  /** Why kafkajs' own code stays, when it does. */
  reason?: string;
}

export const kafkajsRequire: NodeJS.Require = createRequire(import.meta.url);

/** Set to `0`, `off` or `false`: kafkajs keeps all of its own code (a switch for operators). */
export const SWITCH = 'JWT_REDACTOR_KAFKAJS_PATCHES';

/** Absolute path of a file of the installed kafkajs, or why no replacement applies. */
export function kafkajsFiles(): { path: (...parts: string[]) => string } | { reason: string } {
  const off = process.env[SWITCH]?.toLowerCase();
  if (off === '0' || off === 'off' || off === 'false') return { reason: `turned off by ${SWITCH}` };
  let root: string;
  let version: string;
  try {
    root = dirname(kafkajsRequire.resolve('kafkajs/package.json'));
    version = (kafkajsRequire('kafkajs/package.json') as { version: string }).version;
  } catch {
    return { reason: 'kafkajs not found' };
  }
  if (version !== KAFKAJS_VERSION) return { reason: `kafkajs ${version}, patch made for ${KAFKAJS_VERSION}` };
  return { path: (...parts) => join(root, ...parts) };
}

/** Whether the module at `path` has been loaded (and so bound by whoever required it). */
export function loaded(path: string): boolean {
  return kafkajsRequire.cache[path] !== undefined;
}

/** The exports of the module at `path` (undefined when it is not loaded). */
export function exportsOf(path: string): unknown {
  return kafkajsRequire.cache[path]?.exports;
}

/** Puts `exports` in the require cache as the module at `path`: whoever requires it from now on gets them. */
export function replaceModule(path: string, exports: unknown): void {
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = exports;
  kafkajsRequire.cache[path] = m;
}
