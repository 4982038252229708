// A small hand-written schema check over YAML data: every failure is a ConfigError that names
// the file, the line and the field (util/yaml.ts finds the line from the path).
import type { YamlSource } from '../util/yaml.ts';

export type Path = readonly (string | number)[];

export interface Checker {
  readonly src: YamlSource;
  /** A mapping whose keys are all in `allowed` and include every key of `required`. */
  map(
    value: unknown,
    path: Path,
    allowed: readonly string[],
    required?: readonly string[],
  ): Record<string, unknown>;
  /** A mapping with free keys (a dictionary). */
  dict(value: unknown, path: Path): Record<string, unknown>;
  list(value: unknown, path: Path): unknown[];
  string(value: unknown, path: Path, syntax?: RegExp, what?: string): string;
  stringList(value: unknown, path: Path, syntax?: RegExp, what?: string): string[];
  boolean(value: unknown, path: Path): boolean;
  number(value: unknown, path: Path, min?: number, max?: number): number;
  oneOf<T extends string>(value: unknown, path: Path, choices: readonly T[]): T;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

export function checker(src: YamlSource): Checker {
  const fail = (path: Path, message: string) => src.error(path, message);
  const c: Checker = {
    src,
    map(value, path, allowed, required = []) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw fail(path, `expected a mapping, found ${typeName(value)}`);
      }
      const obj = value as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        if (!allowed.includes(key)) {
          throw fail([...path, key], `unknown key "${key}" (allowed: ${allowed.join(', ')})`);
        }
      }
      for (const key of required) {
        if (obj[key] === undefined) throw fail(path, `missing required key "${key}"`);
      }
      return obj;
    },
    dict(value, path) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw fail(path, `expected a mapping, found ${typeName(value)}`);
      }
      return value as Record<string, unknown>;
    },
    list(value, path) {
      if (!Array.isArray(value)) throw fail(path, `expected a list, found ${typeName(value)}`);
      return value;
    },
    string(value, path, syntax, what) {
      if (typeof value !== 'string') throw fail(path, `expected a string, found ${typeName(value)}`);
      if (syntax && !syntax.test(value))
        throw fail(path, `"${value}" is not ${what ?? `of the form ${syntax}`}`);
      return value;
    },
    stringList(value, path, syntax, what) {
      return c.list(value, path).map((v, i) => c.string(v, [...path, i], syntax, what));
    },
    boolean(value, path) {
      if (typeof value !== 'boolean') throw fail(path, `expected true or false, found ${typeName(value)}`);
      return value;
    },
    number(value, path, min = -Infinity, max = Infinity) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw fail(path, `expected a number, found ${typeName(value)}`);
      }
      if (value < min || value > max) throw fail(path, `${value} is outside ${min}..${max}`);
      return value;
    },
    oneOf(value, path, choices) {
      const s = c.string(value, path);
      if (!(choices as readonly string[]).includes(s)) {
        throw fail(path, `"${s}" is not one of: ${choices.join(', ')}`);
      }
      return s as (typeof choices)[number];
    },
  };
  return c;
}
