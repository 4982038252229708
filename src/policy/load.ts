// Finding and reading policy files: built-in names, paths, `extends` chains. Produces the layers
// to merge, base first; each file appears once, after the files it extends.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../util/errors.ts';
import { parseYaml, type YamlSource } from '../util/yaml.ts';
import { LayerReader, type PolicyLayer } from './schema.ts';

export const DEFAULT_PATTERNS_DIR = fileURLToPath(new URL('../../patterns', import.meta.url));
/** A spec of this shape (no slash, no extension) names a built-in policy. */
const BUILTIN_NAME = /^[a-z0-9][a-z0-9-]*$/;
/** Far deeper than any sane chain; stops a runaway chain of distinct files. */
const MAX_EXTENDS_DEPTH = 32;

export interface LoadedLayer {
  layer: PolicyLayer;
  /** Absolute path. */
  file: string;
}

interface Where {
  /** The file holding the `extends` being followed; absent for a spec from the command line. */
  parent?: YamlSource;
  /** Folder relative paths are resolved against, and how to display it. */
  dir: string;
  displayDir: string;
}

export function builtinPolicyNames(patternsDir: string = DEFAULT_PATTERNS_DIR): string[] {
  try {
    return readdirSync(join(patternsDir, 'policies'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
  } catch {
    return [];
  }
}

export function resolveLayers(
  specs: readonly string[],
  opts: { patternsDir: string; cwd: string; categories?: readonly string[] },
): LoadedLayer[] {
  const out: LoadedLayer[] = [];
  const included = new Set<string>();

  const visit = (spec: string, w: Where, chain: readonly { file: string; display: string }[]): void => {
    const builtin = BUILTIN_NAME.test(spec);
    const file = builtin ? join(opts.patternsDir, 'policies', `${spec}.yaml`) : resolve(w.dir, spec);
    const display = builtin
      ? file
      : isAbsolute(spec) || w.displayDir === ''
        ? spec
        : join(w.displayDir, spec);
    // An error about following `spec` is the `extends` line's; a command-line spec has no line.
    const fail = (message: string, named?: string): ConfigError =>
      w.parent
        ? w.parent.error(['extends'], message)
        : new ConfigError(message, named ? { file: named } : {});

    const cycleAt = chain.findIndex((c) => c.file === file);
    if (cycleAt >= 0) {
      const names = [...chain.slice(cycleAt).map((c) => c.display), display];
      throw fail(`extends cycle: ${names.join(' -> ')}`);
    }
    if (chain.length >= MAX_EXTENDS_DEPTH) throw fail(`extends chain deeper than ${MAX_EXTENDS_DEPTH} files`);
    if (included.has(file)) return;

    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      if (builtin && code === 'ENOENT') {
        const names = builtinPolicyNames(opts.patternsDir).join(', ');
        throw fail(
          `no built-in policy "${spec}" (built-ins: ${names}); for a file give a path like ./${spec}.yaml`,
        );
      }
      throw w.parent
        ? fail(`cannot read ${display} (${code})`)
        : fail(`cannot read policy file (${code})`, display);
    }
    const src = parseYaml(text, display);
    const layer = new LayerReader(src, opts.categories).read();
    if (layer.extends !== undefined) {
      const next: Where = { parent: src, dir: dirname(file), displayDir: dirname(display) };
      visit(layer.extends, next, [...chain, { file, display }]);
    }
    included.add(file);
    out.push({ layer, file });
  };

  for (const spec of specs) visit(spec, { dir: opts.cwd, displayDir: '' }, []);
  return out;
}
