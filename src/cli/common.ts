// Options every engine-using command shares, and turning them into an engine configuration.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SEVERITIES } from '../model.ts';
import type { EngineConfig } from '../pipeline/index.ts';
import { ConfigError } from '../util/errors.ts';
import type { OptionSpec, OptionValues } from './options.ts';

export const ENGINE_OPTIONS: readonly OptionSpec[] = [
  { name: 'config', type: 'string', help: 'YAML/JSON file of options (keys are option names)' },
  {
    name: 'policy',
    type: 'list',
    help: 'policy: built-in name (default, strict, audit-only) or YAML file; repeatable, applied in order',
    default: ['default'],
  },
  {
    name: 'rules',
    type: 'list',
    help: 'extra classification file (claims/identities YAML, weak-secret .txt); repeatable',
    default: [],
  },
  {
    name: 'key-file',
    type: 'string',
    help: 'file holding the fingerprint key (hex, base64 or raw, >= 16 bytes)',
  },
  { name: 'key', type: 'string', noFlag: true, help: 'the fingerprint key itself (env only, never a flag)' },
  {
    name: 'key-id',
    type: 'string',
    help: 'id of the fingerprint key, shown in every fingerprint',
    default: 'k1',
  },
  {
    name: 'jwks',
    type: 'string',
    help: 'JWK set file of decryption keys: JWEs are decrypted and their content classified',
  },
];

export const FINDINGS_OPTIONS: readonly OptionSpec[] = [
  { name: 'findings', type: 'string', help: 'where findings go: a file path or - for stdout' },
  {
    name: 'format',
    type: 'string',
    choices: ['native', 'ocsf', 'sarif', 'ecs'],
    default: 'native',
    help: 'findings format',
  },
  {
    name: 'fail-on',
    type: 'string',
    choices: SEVERITIES,
    help: 'exit 1 when a finding is at or above this severity',
  },
];

/** Key bytes from text: 32+ hex digits, base64 of 16+ bytes, or the raw text itself. */
export function parseKey(text: string, where: string): Uint8Array {
  const t = text.trim();
  let key: Uint8Array;
  if (/^(?:[0-9a-fA-F]{2}){16,}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{22,}={0,2}$/.test(t) && Buffer.from(t, 'base64').length >= 16)
    key = Buffer.from(t, 'base64');
  else key = Buffer.from(t, 'utf8');
  if (key.length < 16)
    throw new ConfigError(`${where}: the fingerprint key must be at least 16 bytes`, { field: 'key' });
  return key;
}

export interface KeyChoice {
  key: Uint8Array;
  keyId: string;
  ephemeral: boolean;
}

/** The fingerprint key (R3): from --key-file or JWT_REDACTOR_KEY; `required` refuses to go on without one. */
export function resolveKey(values: OptionValues, required: boolean): KeyChoice {
  const keyId = String(values['key-id'] ?? 'k1');
  const file = values['key-file'] as string | undefined;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read key file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
        file,
        field: 'key-file',
      });
    }
    return { key: parseKey(text, `--key-file ${file}`), keyId, ephemeral: false };
  }
  const env = values.key as string | undefined;
  if (env !== undefined) return { key: parseKey(env, 'JWT_REDACTOR_KEY'), keyId, ephemeral: false };
  if (required) {
    throw new ConfigError(
      'no fingerprint key: set --key-file FILE or JWT_REDACTOR_KEY (with JWT_REDACTOR_KEY_ID)',
      { field: 'key-file' },
    );
  }
  return { key: randomBytes(32), keyId: 'run', ephemeral: true };
}

export function engineConfig(values: OptionValues, key: KeyChoice): EngineConfig {
  return {
    policies: (values.policy as string[] | undefined) ?? ['default'],
    ruleFiles: (values.rules as string[] | undefined) ?? [],
    key: key.key,
    keyId: key.keyId,
    ephemeralKey: key.ephemeral,
    ...(values.jwks !== undefined ? { jwksFile: values.jwks as string } : {}),
  };
}
