// YAML loading that keeps line numbers, so a validation error can name file, line and field.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError } from './errors.ts';

export interface YamlSource {
  file: string;
  /** The document as plain data. */
  data: unknown;
  /** 1-based line of the node at `path` (keys and indexes), or of its nearest existing parent. */
  lineOf(path: readonly (string | number)[]): number | undefined;
  /** A ConfigError naming this file, the line of `path` and the field `path` spells. */
  error(path: readonly (string | number)[], message: string): ConfigError;
}

export function fieldName(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function parseYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new ConfigError(`invalid YAML: ${first.message.split('\n')[0]}`, { file, line });
  }
  const lineAt = (node: Node | null | undefined): number | undefined => {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const lineOf = (path: readonly (string | number)[]): number | undefined => {
    let node: unknown = doc.contents;
    let line = lineAt(doc.contents);
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(key));
        if (!pair) break;
        line = lineAt(pair.key as Node) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        line = lineAt(node as Node) ?? line;
      } else break;
    }
    return line;
  };
  return {
    file,
    data: doc.toJS({ maxAliasCount: 100 }),
    lineOf,
    error: (path, message) => {
      const line = lineOf(path);
      return new ConfigError(message, {
        file,
        ...(line !== undefined ? { line } : {}),
        ...(path.length > 0 ? { field: fieldName(path) } : {}),
      });
    },
  };
}

export function loadYaml(file: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      file,
    });
  }
  return parseYaml(text, file);
}
