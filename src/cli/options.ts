// Options from three places, in rising precedence: the config file, `JWT_REDACTOR_*`
// environment variables, and command-line flags. One table per command declares them, so
// `--help`, validation and the README list the same things.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../util/errors.ts';
import { parseYaml } from '../util/yaml.ts';

export type OptionType = 'string' | 'boolean' | 'number' | 'list';

export interface OptionSpec {
  name: string; // kebab-case flag name
  type: OptionType;
  help: string;
  default?: string | boolean | number | string[];
  /** Allowed values for a string option. */
  choices?: readonly string[];
  /** Never read from a flag value (secrets): only from env or files. */
  noFlag?: boolean;
  short?: string;
}

export type OptionValues = Record<string, string | boolean | number | string[] | undefined>;

export function envName(option: string): string {
  return `JWT_REDACTOR_${option.toUpperCase().replaceAll('-', '_')}`;
}

function coerce(spec: OptionSpec, raw: unknown, where: string): string | boolean | number | string[] {
  const fail = (what: string): never => {
    throw new ConfigError(`${where} ${spec.name}: ${what}`, { field: spec.name });
  };
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no' || raw === '') return false;
      return fail('expected true or false');
    case 'number': {
      const n = typeof raw === 'number' ? raw : Number(String(raw));
      if (!Number.isFinite(n)) fail('expected a number');
      return n;
    }
    case 'list': {
      const list = Array.isArray(raw)
        ? raw.map(String)
        : String(raw)
            .split(',')
            .map((s) => s.trim());
      return list.filter((s) => s.length > 0);
    }
    default: {
      if (typeof raw !== 'string' && typeof raw !== 'number') fail('expected a string');
      const s = String(raw);
      if (spec.choices !== undefined && !spec.choices.includes(s))
        fail(`expected one of ${spec.choices.join(', ')}`);
      return s;
    }
  }
}

function readConfigFile(file: string, specs: readonly OptionSpec[]): OptionValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      file,
      field: 'config',
    });
  }
  const src = parseYaml(text, file);
  const data = src.data;
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data))
    throw src.error([], 'a config file is a mapping of option names to values');
  const out: OptionValues = {};
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const name = key.replaceAll('_', '-');
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) throw src.error([key], `unknown option "${key}"`);
    try {
      out[name] = coerce(spec, value, 'option');
    } catch (err) {
      throw src.error([key], (err as Error).message.replace(/^.*?: /, ''));
    }
  }
  return out;
}

export interface ParsedCommand {
  values: OptionValues;
  positionals: string[];
}

/** Parses argv for one command: flags, then env, then `--config FILE` when the command has it. */
export function resolveOptions(
  specs: readonly OptionSpec[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ParsedCommand {
  const parseSpec: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const s of specs) {
    if (s.noFlag) continue;
    parseSpec[s.name] = {
      type: s.type === 'boolean' ? 'boolean' : 'string',
      ...(s.type === 'list' ? { multiple: true } : {}),
      ...(s.short !== undefined ? { short: s.short } : {}),
    };
    if (s.type === 'boolean') parseSpec[`no-${s.name}`] = { type: 'boolean' };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: parseSpec, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? 'bad arguments';
    throw new ConfigError(msg.replace(/\. To specify a positional argument.*$/, ''));
  }
  const flags = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const configFile = (flags.config as string | undefined) ?? env[envName('config')];
  const fromFile =
    configFile !== undefined && specs.some((s) => s.name === 'config')
      ? readConfigFile(configFile, specs)
      : {};
  const values: OptionValues = {};
  for (const s of specs) {
    let v: OptionValues[string];
    const flag = s.noFlag ? undefined : flags[s.name];
    const negated = s.type === 'boolean' && flags[`no-${s.name}`] === true;
    if (negated) v = false;
    else if (flag !== undefined) {
      v =
        s.type === 'list'
          ? (flag as string[]).flatMap((x) => x.split(',')).filter((x) => x.length > 0)
          : coerce(s, flag, 'flag --');
    } else if (env[envName(s.name)] !== undefined)
      v = coerce(s, env[envName(s.name)], `environment variable ${envName(s.name)}, option`);
    else if (fromFile[s.name] !== undefined) v = fromFile[s.name];
    else v = s.default;
    values[s.name] = v;
  }
  return { values, positionals: parsed.positionals };
}

export function helpText(command: string, usage: string, specs: readonly OptionSpec[]): string {
  const lines = [
    `usage: jwt-redactor ${command} ${usage}`,
    '',
    'options (each also JWT_REDACTOR_<NAME> and, with --config, a config file key):',
  ];
  for (const s of specs) {
    if (s.noFlag) {
      lines.push(`${`  (env ${envName(s.name)})`.padEnd(33)} ${s.help}`);
      continue;
    }
    const arg =
      s.type === 'boolean'
        ? ''
        : s.type === 'number'
          ? ' N'
          : s.choices
            ? ` ${s.choices.join('|')}`
            : ' VALUE';
    lines.push(`${`  --${s.name}${arg}`.padEnd(33)} ${s.help}`);
  }
  return lines.join('\n');
}
