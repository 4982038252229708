import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Vector {
  id: string;
  expect: {
    kind: 'jws' | 'jwe' | 'unsecured';
    serialization: 'compact' | 'json' | 'json_flat';
    nested: boolean;
  };
  title: string;
  value: string | Record<string, unknown>;
}

/** The shared JOSE conformance corpus, beside the repository (../shared) or via JWT_REDACTOR_CORPUS. */
export function vectors(): Vector[] {
  const file =
    process.env.JWT_REDACTOR_CORPUS ??
    fileURLToPath(new URL('../../../shared/corpus/jose-conformance/vectors.jsonl', import.meta.url));
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Vector);
}
