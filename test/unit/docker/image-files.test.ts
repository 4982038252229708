// The image copies a few paths and installs production dependencies only (npm ci --omit=dev). Both
// can break it without any other test noticing: a module imported from outside the copied paths, or a
// package imported at run time that is only a devDependency. Checked here on the files the image runs.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const DOCKERFILE = read('docker/Dockerfile');
const IGNORE = read('docker/Dockerfile.dockerignore');

/** The runtime stage: the text after the last FROM. */
const RUNTIME_STAGE = DOCKERFILE.split(/^FROM /m).pop()!;

/** The `COPY <src>... <dest>` sources of a stage, `--from` copies left out. */
function copySources(stage: string): string[] {
  const out: string[] = [];
  for (const line of stage.split('\n')) {
    const m = /^COPY\s+(?!--from)(.+)$/.exec(line.trim());
    if (m) out.push(...m[1]!.split(/\s+/).slice(0, -1));
  }
  return out;
}

/** Files of the image's code: every .ts/.js below the copied paths (test data and snippets left out). */
function codeFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (p: string) => {
    const abs = join(ROOT, p);
    if (statSync(abs).isDirectory()) {
      for (const e of readdirSync(abs)) walk(join(p, e));
    } else if (/\.(ts|js)$/.test(p)) files.push(p);
  };
  for (const p of paths) walk(p);
  return files;
}

/** Module specifiers a file loads at run time (`import type` and `export type` are erased). */
function runtimeSpecifiers(source: string): string[] {
  const out: string[] = [];
  const statement = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?'([^']+)'/g;
  for (const m of source.matchAll(statement)) if (m[1] === undefined) out.push(m[2]!);
  for (const m of source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push(m[1]!);
  return out;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

describe('docker image files', () => {
  const copies = copySources(RUNTIME_STAGE);

  it('copies exactly the paths the build context lets through, and they exist', () => {
    expect(copies).toEqual([
      'package.json',
      'bin',
      'src',
      'patterns',
      'scripts/demo.ts',
      'scripts/demo-data',
      'scripts/kafka',
    ]);
    const allowed = IGNORE.split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    for (const c of copies) {
      expect(allowed, c).toContain(c);
      expect(existsSync(join(ROOT, c)), c).toBe(true);
    }
  });

  it('runs as the unprivileged node user and names no frontend image to pull', () => {
    expect(RUNTIME_STAGE).toMatch(/^USER node$/m);
    expect(DOCKERFILE).not.toMatch(/^#\s*syntax=/m);
    expect(DOCKERFILE).toMatch(/npm ci --omit=dev/);
  });

  it('loads nothing from outside the copied paths and no package that is only a devDependency', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const runtimeDeps = new Set(Object.keys(pkg.dependencies));
    const inside = (p: string) => copies.some((c) => p === c || p.startsWith(`${c}/`));
    const files = codeFiles(copies.filter((c) => c !== 'package.json' && c !== 'patterns'));
    expect(files.length).toBeGreaterThan(50);
    const problems: string[] = [];
    for (const file of files) {
      for (const spec of runtimeSpecifiers(read(file))) {
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) {
          const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
          if (!inside(target) || !existsSync(join(ROOT, target))) problems.push(`${file}: ${spec}`);
        } else if (!runtimeDeps.has(packageOf(spec))) {
          problems.push(`${file}: ${spec} (not in dependencies)`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('finds the imports it checks (the scan of import statements is not blind)', () => {
    const specs = runtimeSpecifiers(
      "import type { A } from './a.ts';\nimport {\n  b,\n  c,\n} from 'kafkajs';\nexport { d } from '../d.ts';\nconst e = await import('yaml');\nimport 'side-effect';\n",
    );
    expect(specs).toEqual(['kafkajs', '../d.ts', 'side-effect', 'yaml']);
  });
});
