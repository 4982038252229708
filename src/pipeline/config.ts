// Everything needed to build an engine, as plain data: worker threads and child processes
// receive this and build their own engine (functions and keys objects do not cross threads).
import { loadClassificationRules } from '../classification/index.ts';
import { loadKeySet } from '../decoding/index.ts';
import { loadPolicy } from '../policy/index.ts';
import { createFingerprinter } from '../redaction/index.ts';
import { createEngine, type FullEngine } from './engine.ts';

export interface EngineConfig {
  /** Built-in policy names or policy file paths, applied in order. */
  policies: string[];
  /** Extra classification files (claims, identities, weak secrets) added to the built-ins. */
  ruleFiles: string[];
  /** Folder of the built-in patterns; default: the package's `patterns/`. */
  patternsDir?: string;
  /** Fingerprint key bytes and id (R3). */
  key: Uint8Array;
  keyId: string;
  ephemeralKey: boolean;
  /** JWK set of decryption keys for JWEs. */
  jwksFile?: string;
}

export async function engineFromConfig(config: EngineConfig): Promise<FullEngine> {
  const rules = loadClassificationRules({
    ...(config.patternsDir !== undefined ? { patternsDir: config.patternsDir } : {}),
    extraFiles: config.ruleFiles,
  });
  const policy = loadPolicy(config.policies, {
    ...(config.patternsDir !== undefined ? { patternsDir: config.patternsDir } : {}),
    categories: [...rules.categories.keys()],
  });
  const keys = config.jwksFile !== undefined ? await loadKeySet(config.jwksFile) : undefined;
  return createEngine({
    policy,
    rules,
    fingerprinter: createFingerprinter(config.key, config.keyId, config.ephemeralKey),
    ...(keys !== undefined ? { keys } : {}),
  });
}
