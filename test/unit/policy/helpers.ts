// Shared by the policy tests: policy files in a temporary folder, decision inputs, error capture.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Classification, Risk, TimeStatus } from '../../../src/model.ts';
import { type DecisionInput, loadPolicy, type Policy } from '../../../src/policy/index.ts';
import { ConfigError } from '../../../src/util/errors.ts';
import { tempDir } from '../../helpers/temp.ts';

/** The categories patterns/claims.yaml defines, as the CLI would pass them. */
export const KNOWN_CATEGORIES = [
  'pii.email',
  'pii.name',
  'pii.phone',
  'pii.address',
  'pii.ip',
  'identifier.subject',
  'identifier.tenant',
  'identifier.client',
  'identifier.session',
  'identifier.token',
  'authz.scope',
  'authz.role',
  'authz.group',
  'authz.delegation',
  'routing.internal',
  'secret.embedded',
  'public',
];

/** Writes `files` (relative path -> text) into a fresh folder and returns the folder. */
export function policyDir(files: Record<string, string>): string {
  const dir = tempDir('jwt-redactor-policy-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Loads `specs` with relative paths resolved in `dir`, so error messages name files as given. */
export function load(dir: string, ...specs: string[]): Policy {
  return loadPolicy(specs, { cwd: dir });
}

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

export function token(
  over: Partial<Omit<DecisionInput, 'classification' | 'risks'>> & {
    classification?: Partial<Classification>;
    risks?: Pick<Risk, 'id' | 'severity'>[];
    status?: TimeStatus;
  } = {},
): DecisionInput {
  return {
    kind: over.kind ?? 'jws',
    serialization: over.serialization ?? 'compact',
    nested: over.nested ?? false,
    readable: over.readable ?? true,
    classification: {
      identity: 'unknown',
      token_type: 'access',
      claims: {},
      ...over.classification,
    },
    risks: over.risks ?? [],
    status: over.status ?? { expired: false, expires_at: '2030-01-01T00:00:00Z' },
  };
}

export const LIVE: TimeStatus = {
  expired: false,
  expires_at: '2030-01-01T00:00:00Z',
  lifetime_seconds: 3600,
};
export const EXPIRED: TimeStatus = {
  expired: true,
  expires_at: '2020-01-01T00:00:00Z',
  lifetime_seconds: 3600,
};
