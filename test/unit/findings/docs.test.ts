// docs/findings.md goes into the README: its examples must be what the formatters write.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ECS_VERSION,
  OCSF_VERSION,
  renderSummary,
  SARIF_VERSION,
  summarize,
  toEcs,
  toNative,
  toOcsf,
  toSarifLog,
} from '../../../src/findings/index.ts';
import { ERROR_FINDING, FINDING, NESTED_FINDING, OPTS } from './fixtures.ts';

const doc = readFileSync(new URL('../../../docs/findings.md', import.meta.url), 'utf8');

function example(name: string): string {
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(doc);
  if (m?.[1] === undefined) throw new Error(`docs/findings.md has no example "${name}"`);
  return m[1];
}

describe('docs/findings.md', () => {
  it.each([
    ['native', () => toNative(FINDING)],
    ['native-error', () => toNative(ERROR_FINDING)],
    ['ocsf', () => toOcsf(FINDING, OPTS)],
    ['sarif', () => toSarifLog([FINDING], OPTS)],
    ['ecs', () => toEcs(FINDING, OPTS)],
  ])('shows the %s example exactly as written', (name, make) => {
    expect(example(name)).toBe(`${JSON.stringify(make(), null, 2)}\n`);
  });

  it('shows the summary exactly as rendered', () => {
    expect(example('summary')).toBe(renderSummary(summarize([FINDING, NESTED_FINDING, ERROR_FINDING])));
  });

  it('names the OCSF, SARIF and ECS versions the formatters write', () => {
    expect(doc).toContain(`OCSF **${OCSF_VERSION}** Detection Finding`);
    expect(doc).toContain(`SARIF **${SARIF_VERSION}**`);
    expect(doc).toContain(`| \`ecs.version\` | \`${ECS_VERSION}\` |`);
  });
});
