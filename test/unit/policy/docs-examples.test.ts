// Every complete policy example in docs/policy.md loads: the documentation cannot drift from the schema.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { load, policyDir } from './helpers.ts';

const doc = readFileSync(new URL('../../../docs/policy.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((text) => /^(#.*\n)*version: 1\b/.test(text));

describe('docs/policy.md', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples.map((text, i) => [i, text]))('example %i loads', (_i, text) => {
    const dir = policyDir({
      'company/policy.yaml': 'version: 1\nextends: default\n',
      'team/example.yaml': text,
    });
    // an example without `extends` is an overlay: apply it over a built-in, as the docs show
    const specs = /^extends:/m.test(text) || /^default:/m.test(text) ? [] : ['strict'];
    const policy = load(dir, ...specs, 'team/example.yaml');
    expect(policy.files.at(-1)).toMatch(/team\/example\.yaml$/);
  });
});
