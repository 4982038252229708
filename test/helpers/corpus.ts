import { existsSync, readFileSync } from 'node:fs';
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

/**
 * The JOSE conformance corpus: JWT_REDACTOR_CORPUS, else the shared copy beside the repository
 * (../shared), else the copy kept in test/fixtures (public RFC 7515/7516/7519/7520 examples).
 */
export function vectors(): Vector[] {
  const shared = fileURLToPath(
    new URL('../../../shared/corpus/jose-conformance/vectors.jsonl', import.meta.url),
  );
  const local = fileURLToPath(new URL('../fixtures/jose-conformance/vectors.jsonl', import.meta.url));
  const file = process.env.JWT_REDACTOR_CORPUS ?? (existsSync(shared) ? shared : local);
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Vector);
}
